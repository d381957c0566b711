import type { Hlc } from '../hlc/hlc.js';
import type { SqlValue } from './value.js';

/**
 * One change to one cell of a synced table, or to a row's existence.
 *
 * A *cell change* (`column` is a name) sets that column of the row to `value`, written at
 * `stamp` during the row's life `cl`. A *row change* (`column` is `null`, the row sentinel)
 * moves the row to causal length `cl`: odd means present (insert, resurrect), even deleted.
 *
 * @example
 * ```ts
 * const change: Change = {
 *   table: 'todos',
 *   pk: packPrimaryKey(['a1']),
 *   column: 'title',
 *   value: 'milk',
 *   stamp: clock.now(),
 *   cl: 1,
 * };
 * ```
 */
export interface Change {
  /** Table name. */
  readonly table: string;
  /** The row's primary key, packed with `packPrimaryKey` (from `@offsync/core/codec`). */
  readonly pk: Uint8Array;
  /** Column name, or `null` for the row sentinel (a causal-length change). */
  readonly column: string | null;
  /** The new value (always `null` for a row change). */
  readonly value: SqlValue;
  /** When and where the write was made; its site is the change's origin. */
  readonly stamp: Hlc;
  /** Causal length of the row life this change belongs to (≥ 1). */
  readonly cl: number;
  /** Local sequence number on the replica that listed the change (absent on decoded changes). */
  readonly seq?: number;
}

/**
 * The column value of a row sentinel change.
 *
 * @example
 * ```ts
 * if (change.column === ROW) console.log('row is now', change.cl % 2 ? 'present' : 'deleted');
 * ```
 */
export const ROW = null;

/**
 * Whether a causal length means the row is present (odd) rather than deleted (even).
 *
 * @example
 * ```ts
 * isPresent(1); // true
 * isPresent(2); // false
 * ```
 */
export function isPresent(cl: number): boolean {
  return cl % 2 === 1;
}
