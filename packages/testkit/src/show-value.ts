import type { SqlValue } from '@offsync/core';

/** Values longer than this are shown by length and hash instead of in full. */
const SHOWN_IN_FULL = 96;

// Two independent 32-bit FNV-1a hashes: a 64-bit digest, cheap on 70 kB values, so large values
// compare exactly without printing them whole.
function digest(units: ArrayLike<number>): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < units.length; i++) {
    const unit = units[i]!;
    a = Math.imul(a ^ unit, 0x01000193) >>> 0;
    b = Math.imul(b ^ (unit + i), 0x01000193) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

function codeUnits(text: string): Uint16Array {
  const units = new Uint16Array(text.length);
  for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i);
  return units;
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/**
 * An exact, readable text for a SQL value: its storage class and its bits. Two values show the
 * same iff they are the same SQL value (`-0` and `0` differ, `2n` and `2.0` differ, a `Buffer`
 * and a `Uint8Array` with the same bytes are the same). Compare these strings with `toBe`/
 * `toEqual`: the failure message says what differs.
 *
 * @example
 * ```ts
 * showSqlValue(2n); // 'INTEGER 2'
 * showSqlValue(2); // 'REAL 2'
 * showSqlValue(-0); // 'REAL -0'
 * showSqlValue(new Uint8Array([1, 255])); // 'BLOB x01ff'
 * ```
 */
export function showSqlValue(value: SqlValue | undefined): string {
  if (value === undefined) return 'undefined (not a SQL value)';
  if (value === null) return 'NULL';
  switch (typeof value) {
    case 'bigint':
      return `INTEGER ${value}`;
    case 'number':
      return `REAL ${Object.is(value, -0) ? '-0' : String(value)}`;
    case 'string':
      return value.length <= SHOWN_IN_FULL
        ? `TEXT ${JSON.stringify(value)}`
        : `TEXT (${value.length} units, #${digest(codeUnits(value))}) ${JSON.stringify(value.slice(0, 24))}…`;
    default:
      if (!(value instanceof Uint8Array)) return `not a SQL value: ${String(value)}`;
      return value.length <= SHOWN_IN_FULL
        ? `BLOB x${hex(value)}`
        : `BLOB (${value.length} bytes, #${digest(value)}) x${hex(value.subarray(0, 12))}…`;
  }
}

/**
 * {@link showSqlValue} over every value of some rows.
 *
 * @example
 * ```ts
 * expect(showRows(b.driver.prepare('SELECT * FROM todos ORDER BY id').all())).toEqual(
 *   showRows(a.driver.prepare('SELECT * FROM todos ORDER BY id').all()),
 * );
 * ```
 */
export function showRows(rows: readonly (readonly SqlValue[])[]): string[][] {
  return rows.map((row) => row.map(showSqlValue));
}

/**
 * Lower-case hex of bytes (how dumps are compared: a failing comparison shows where they part).
 *
 * @example
 * ```ts
 * toHex(new Uint8Array([0xca, 0xfe])); // 'cafe'
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  return hex(bytes);
}
