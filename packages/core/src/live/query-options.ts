import type { SqlValue } from '../changes/value.js';

/**
 * How a query's rows come back.
 *
 * - `rows`: `'array'` (default) gives positional arrays, `'object'` plain objects keyed by result
 *   column name (as SQLite names them: the alias when there is one; a repeated name gets `:1`,
 *   `:2` as in a view, so alias joined columns that share a name).
 * - `integers`: `'bigint'` (default) keeps INTEGER exact to 64 bits; `'number'` gives JS numbers
 *   and throws {@link IntegerPrecisionError} for a value beyond 2^53 - 1 rather than rounding;
 *   `'string'` gives decimal strings. REAL stays `number`, TEXT `string`, BLOB `Uint8Array`, so
 *   with `'number'` or `'string'` a row is `JSON.stringify`-safe.
 *
 * @example
 * ```ts
 * const options: QueryOptions = { rows: 'object', integers: 'number' };
 * replica.query<{ id: string; done: number }>('SELECT id, done FROM todos', [], options);
 * ```
 */
export interface QueryOptions {
  /** Row shape: positional arrays (default) or plain objects keyed by column name. */
  readonly rows?: 'array' | 'object';
  /** INTEGER values as `bigint` (default, exact), `number` (checked) or decimal `string`. */
  readonly integers?: IntegerMode;
}

/**
 * How INTEGER values are read: see {@link QueryOptions}.
 *
 * @example
 * ```ts
 * const mode: IntegerMode = 'string'; // 9007199254740993n reads as '9007199254740993'
 * ```
 */
export type IntegerMode = 'bigint' | 'number' | 'string';

/**
 * A value read with {@link IntegerMode} `I`: INTEGER becomes `bigint`, `number` or `string`.
 *
 * @example
 * ```ts
 * const value: ValueWith<'number'> = 42; // never a bigint
 * ```
 */
export type ValueWith<I extends IntegerMode> =
  | null
  | number
  | string
  | Uint8Array
  | (I extends 'bigint' ? bigint : never);

/**
 * The row type a query returns by default: exact values, positionally.
 *
 * @example
 * ```ts
 * const rows: ArrayRow[] = replica.query('SELECT id, n FROM t'); // [['a', 1n]]
 * ```
 */
export type ArrayRow = SqlValue[];
