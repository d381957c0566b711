import type { SqlValue } from '@offsync/core';
import type { RowOptions } from './sources.js';

function valueKey(value: SqlValue): string {
  if (value === null) return 'z';
  if (typeof value === 'bigint') return `i${value}`;
  if (typeof value === 'number') return `r${Object.is(value, -0) ? '-0' : value}`;
  if (typeof value === 'string') return `t${JSON.stringify(value)}`;
  let hex = 'x';
  for (const byte of value) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/**
 * A string naming a query exactly: equal for equal SQL, parameters and options, different
 * otherwise (`1n`, `1` and `'1'` differ; bytes by content). Components pass a fresh params array
 * on every render; keying the live query by this string instead of the array's identity keeps it
 * running across renders.
 *
 * @example
 * ```ts
 * queryKey('SELECT * FROM t WHERE id = ?', ['a'], {}) === queryKey('SELECT * FROM t WHERE id = ?', ['a'], {}); // true
 * ```
 */
export function queryKey(sql: string, params: readonly SqlValue[], options: RowOptions): string {
  return `${options.rows ?? ''}|${options.integers ?? ''}|${params.map(valueKey).join(',')}|${sql}`;
}
