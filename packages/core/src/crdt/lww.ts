import type { SqlValue } from '../changes/value.js';
import { compareHlc, type Hlc } from '../hlc/hlc.js';

/**
 * Per-column last-writer-wins: whether an incoming write replaces the local one. It wins iff its
 * stamp is strictly greater, or the stamps are equal and its value orders after the local value
 * ({@link compareSqlValues}). Equal stamps are normally the same write (re-delivery, a no-op: the
 * values are equal too); they differ only when two replicas issued one stamp, as a device
 * restored from a backup can, and then the value order keeps the merge commutative. A cell with
 * no local stamp (never written in the current life) always takes the incoming write.
 *
 * @example
 * ```ts
 * if (incomingWins(change.stamp, local.stampOf(column), change.value, () => local.valueOf(column))) {
 *   apply(change);
 * }
 * ```
 */
export function incomingWins(
  incoming: Hlc,
  local: Hlc | undefined,
  incomingValue: SqlValue,
  localValue: () => SqlValue,
): boolean {
  if (local === undefined) return true;
  const order = compareHlc(incoming, local);
  return order > 0 || (order === 0 && compareSqlValues(incomingValue, localValue()) > 0);
}

/**
 * A total order on values, the tie-break of two writes with the same stamp: by storage class
 * (NULL < INTEGER < REAL < TEXT < BLOB), then INTEGER and REAL numerically (NaN first, -0 before
 * 0), TEXT by
 * code point (the order of its UTF-8 bytes; a lone surrogate by its code unit, as WTF-8 orders
 * it), BLOB by bytes. Returns negative, 0 or positive; 0 only for values with the same bytes.
 *
 * @example
 * ```ts
 * compareSqlValues(2n, 1.5); // negative: INTEGER orders before REAL
 * compareSqlValues('b', 'a'); // positive
 * ```
 */
export function compareSqlValues(a: SqlValue, b: SqlValue): number {
  const rankA = classRank(a);
  const rankB = classRank(b);
  if (rankA !== rankB) return rankA - rankB;
  switch (typeof a) {
    case 'bigint':
      return a < (b as bigint) ? -1 : a > (b as bigint) ? 1 : 0;
    case 'number': {
      const other = b as number;
      if (a !== other) {
        // NaN (which SQLite itself stores as NULL) orders before every other REAL.
        if (Number.isNaN(a)) return Number.isNaN(other) ? 0 : -1;
        if (Number.isNaN(other)) return 1;
        return a < other ? -1 : 1;
      }
      return Object.is(a, other) ? 0 : Object.is(a, -0) ? -1 : 1;
    }
    case 'string':
      return compareCodePoints(a, b as string);
    default:
      return a === null ? 0 : compareBytes(a, b as Uint8Array);
  }
}

function classRank(value: SqlValue): number {
  switch (typeof value) {
    case 'bigint':
      return 1;
    case 'number':
      return 2;
    case 'string':
      return 3;
    default:
      return value === null ? 0 : 4;
  }
}

function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(j)!;
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return a.length - i - (b.length - j);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
