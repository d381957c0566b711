import type { SqlValue } from '@offsync/core';
import { RowKeyError } from './errors.js';
import type { QueryableReplica } from './sources.js';

/**
 * Quotes an SQL identifier (doubling embedded quotes), so any table or column name is one name
 * and never SQL.
 *
 * @example
 * ```ts
 * quoteIdentifier('my "t"'); // '"my ""t"""'
 * ```
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The primary-key columns of `table`, in key order, read from SQLite itself (so the hooks need
 * nothing of the replica beyond queries).
 *
 * @example
 * ```ts
 * primaryKeyColumns(replica, 'todos'); // ['id']
 * ```
 */
export function primaryKeyColumns(replica: QueryableReplica, table: string): string[] {
  return replica
    .query<SqlValue[]>('SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk', [table], {
      rows: 'array',
    })
    .map(([name]) => String(name));
}

/**
 * The query that reads one row of `table` by its primary key, with the key as parameters.
 * Throws {@link RowKeyError} when the table has no primary key or the key has the wrong length.
 *
 * @example
 * ```ts
 * rowQuery(replica, 'todos', ['t1']); // { sql: 'SELECT * FROM "todos" WHERE "id" = ?', params: ['t1'] }
 * ```
 */
export function rowQuery(
  replica: QueryableReplica,
  table: string,
  key: readonly SqlValue[],
): { sql: string; params: readonly SqlValue[] } {
  const columns = primaryKeyColumns(replica, table);
  if (columns.length === 0 || columns.length !== key.length)
    throw new RowKeyError(table, columns, key.length);
  const where = columns.map((column) => `${quoteIdentifier(column)} = ?`).join(' AND ');
  return { sql: `SELECT * FROM ${quoteIdentifier(table)} WHERE ${where}`, params: key };
}
