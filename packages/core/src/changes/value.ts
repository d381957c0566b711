import { InvalidValueError } from '../errors.js';

/**
 * A value of one of SQLite's five storage classes, kept exact:
 *
 * | storage class | JavaScript |
 * | --- | --- |
 * | NULL | `null` |
 * | INTEGER | `bigint` (full signed 64-bit range) |
 * | REAL | `number` (IEEE-754 double; `2.0` stays REAL, distinct from INTEGER `2n`) |
 * | TEXT | `string` |
 * | BLOB | `Uint8Array` |
 *
 * @example
 * ```ts
 * const row: SqlValue[] = [1n, 'milk', 2.5, null, new Uint8Array([1, 2])];
 * ```
 */
export type SqlValue = null | bigint | number | string | Uint8Array;

/**
 * SQLite's storage classes.
 *
 * @example
 * ```ts
 * storageClassOf(2.0); // 'real'
 * ```
 */
export type StorageClass = 'null' | 'integer' | 'real' | 'text' | 'blob';

/** Smallest INTEGER SQLite stores: -2^63. */
export const SQL_INTEGER_MIN = -(2n ** 63n);
/** Largest INTEGER SQLite stores: 2^63 - 1. */
export const SQL_INTEGER_MAX = 2n ** 63n - 1n;

/**
 * The storage class of a value.
 *
 * @example
 * ```ts
 * storageClassOf(2n); // 'integer'
 * storageClassOf(2); // 'real'
 * ```
 */
export function storageClassOf(value: SqlValue): StorageClass {
  switch (typeof value) {
    case 'bigint':
      return 'integer';
    case 'number':
      return 'real';
    case 'string':
      return 'text';
    default:
      return value === null ? 'null' : 'blob';
  }
}

/**
 * Whether two values are the same SQL value: same storage class and the same bits (so `-0.0`
 * differs from `0.0`, and NaN equals NaN).
 *
 * @example
 * ```ts
 * sqlValuesEqual(2n, 2.0); // false: INTEGER vs REAL
 * ```
 */
export function sqlValuesEqual(a: SqlValue, b: SqlValue): boolean {
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  return Object.is(a, b);
}

/**
 * Throws {@link InvalidValueError} unless `value` is a {@link SqlValue} (bigints within 64 bits).
 *
 * @example
 * ```ts
 * assertSqlValue(undefined); // throws
 * ```
 */
export function assertSqlValue(value: unknown): asserts value is SqlValue {
  switch (typeof value) {
    case 'number':
    case 'string':
      return;
    case 'bigint':
      if (value < SQL_INTEGER_MIN || value > SQL_INTEGER_MAX) {
        throw new InvalidValueError(`INTEGER ${value} is outside the signed 64-bit range`);
      }
      return;
    case 'object':
      if (value === null || value instanceof Uint8Array) return;
      throw new InvalidValueError(`objects other than Uint8Array are not SQL values`);
    default:
      throw new InvalidValueError(`a ${typeof value} is not a SQL value`);
  }
}
