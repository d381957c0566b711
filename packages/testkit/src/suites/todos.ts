import type { Change, SqlValue } from '@offsync/core';
import { packPrimaryKey } from '@offsync/core/codec';
import { showSqlValue, toHex } from '../show-value.js';

/**
 * The table most suites use: a TEXT key, an untyped value column, a typed one with a DEFAULT and
 * a case-insensitive one.
 *
 * @example
 * ```ts
 * const a = await harness.peer({ sql: TODOS_SQL, sync: ['todos'] });
 * ```
 */
export const TODOS_SQL =
  'CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title, done INTEGER DEFAULT 0, note TEXT COLLATE NOCASE)';

/**
 * A change in a form `toEqual` compares exactly and prints readably: table, key values, column,
 * value, causal length and origin site (stamps and local sequence left out).
 *
 * @example
 * ```ts
 * expect(page.changes.map(showChange)).toEqual(['todos t1 title=TEXT "milk" cl1']);
 * ```
 */
export function showChange(change: Change): string {
  return `${change.table} ${toHex(change.pk)} ${change.column === null ? 'ROW' : `${change.column}=${showSqlValue(change.value)}`} cl${change.cl}`;
}

/**
 * {@link showChange} of a change written by hand (`key` unpacked), for expectations.
 *
 * @example
 * ```ts
 * expected('todos', ['t1'], 'title', 'milk', 1);
 * ```
 */
export function expected(
  table: string,
  key: readonly SqlValue[],
  column: string | null,
  value: SqlValue,
  cl: number,
): string {
  return showChange({
    table,
    pk: packPrimaryKey(key),
    column,
    value,
    cl,
    stamp: { wall: 0, counter: 0, site: '00'.repeat(16) },
  });
}
