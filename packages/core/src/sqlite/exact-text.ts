import type { SqlValue } from '../changes/value.js';
import type { SqliteDriver } from './driver.js';
import { InvalidTextError } from './errors.js';
import { quoteIdentifier } from './sql.js';
import type { SyncedTable } from './synced-table.js';

const REPLACEMENT = '\uFFFD';
const textEncoder = new TextEncoder();

/**
 * Whether a value read from SQLite may be text that JavaScript could not read exactly: drivers
 * decode invalid UTF-8 with U+FFFD in place of the bad bytes, so only a string holding U+FFFD
 * needs its bytes checked. One `includes` per string keeps the hot read path (guarded by the
 * `changes.since` benchmark) as it was for every other value.
 *
 * @example
 * ```ts
 * if (mayBeInexactText(value)) assertExactRowText(driver, table, row, valuesAt);
 * ```
 */
export function mayBeInexactText(value: SqlValue | undefined): boolean {
  return typeof value === 'string' && value.includes(REPLACEMENT);
}

/**
 * Checks that every TEXT of one row read as `m.<keys>, m.cl, m.seq, …, t.<values>` (the shape of
 * the metadata-joined reads) is the exact bytes SQLite holds; throws {@link InvalidTextError}
 * naming the table, key and column otherwise. Run only when {@link mayBeInexactText} says so:
 * it reads the row's bytes with `CAST(... AS BLOB)`, located by its sequence.
 *
 * @example
 * ```ts
 * assertExactRowText(driver, table, row, table.keyWidth + 5);
 * ```
 */
export function assertExactRowText(
  driver: SqliteDriver,
  table: SyncedTable,
  row: readonly SqlValue[],
  valuesAt: number,
): void {
  const { shadow, columns } = table;
  const width = table.keyWidth;
  const join = shadow.keys.map((key, i) => `t.${shadow.baseKeys[i]} = m.${key}`).join(' AND ');
  const raw = [
    ...shadow.keys.map((key) => `CAST(m.${key} AS BLOB)`),
    ...columns.map((column) => `CAST(t.${quoteIdentifier(column.name)} AS BLOB)`),
  ];
  const names = [...table.schema.primaryKey, ...columns.map((column) => column.name)];
  const read = [...row.slice(0, width), ...row.slice(valuesAt, valuesAt + columns.length)];
  // The sequence locates the row without comparing keys, which may be the inexact text itself.
  const candidates = driver
    .prepare(
      `SELECT ${raw.join(', ')} FROM ${shadow.meta} m LEFT JOIN ${shadow.table} t ON ${join} WHERE m.seq = ?`,
    )
    .all([BigInt(Number(row[width + 1]))]);
  for (const bytes of candidates) {
    for (let i = 0; i < read.length; i++) {
      const value = read[i];
      if (!mayBeInexactText(value)) continue;
      const stored = bytes[i];
      if (stored instanceof Uint8Array && sameBytes(textEncoder.encode(value as string), stored)) {
        continue;
      }
      throw new InvalidTextError(
        table.name,
        row.slice(0, width),
        names[i]!,
        stored instanceof Uint8Array ? hex(stored) : String(stored),
      );
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out.toUpperCase();
}
