import type { SqlValue } from '@offsync/core';
import { useMemo } from 'react';
import { queryKey } from './params-key.js';
import { useReplicaFor } from './provider.js';
import { rowQuery } from './row-sql.js';
import { type QueryHookOptions, useQuery } from './use-query.js';

/**
 * One row of a table by its primary key (a value, or the values of a composite key in key
 * order), kept current; `undefined` while no such row exists. A component using it renders again
 * only when that row changes, so a list of rows, each rendered by a component with `useRow`,
 * re-renders just the row that was edited. Throws {@link RowKeyError} (to the nearest error
 * boundary) when the table has no primary key or the key has the wrong length.
 *
 * @example
 * ```tsx
 * function Todo({ id }: { id: string }) {
 *   const todo = useRow<{ title: string }>('todos', id, { rows: 'object' });
 *   return <li>{todo?.title ?? '(deleted)'}</li>;
 * }
 * ```
 */
export function useRow<Row = SqlValue[]>(
  table: string,
  key: SqlValue | readonly SqlValue[],
  options: QueryHookOptions = {},
): Row | undefined {
  const replica = useReplicaFor('useRow', options.replica);
  const values: readonly SqlValue[] = Array.isArray(key) ? key : [key as SqlValue];
  const keyText = queryKey(table, values, {});
  // The key columns are read once per table and key, not on every render.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `keyText` stands for table and key
  const query = useMemo(() => rowQuery(replica, table, values), [replica, keyText]);
  const rows = useQuery<Row>(query.sql, query.params, { ...options, replica });
  return rows[0];
}
