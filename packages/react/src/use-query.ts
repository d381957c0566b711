import type { SqlValue } from '@offsync/core';
import { useMemo, useSyncExternalStore } from 'react';
import { queryKey } from './params-key.js';
import { useReplicaFor } from './provider.js';
import { QueryStore } from './query-store.js';
import type { QueryableReplica, RowOptions } from './sources.js';

/**
 * Options of {@link useQuery} and {@link useRow}: the row shape, and a replica other than the
 * provider's.
 *
 * @example
 * ```ts
 * const options: QueryHookOptions = { rows: 'object', integers: 'number' };
 * ```
 */
export interface QueryHookOptions extends RowOptions {
  /** The replica to read (default: the nearest `OffsyncProvider`'s). */
  readonly replica?: QueryableReplica;
}

const NO_PARAMS: readonly SqlValue[] = [];

/**
 * The rows of a query, kept current: the component renders again when a table the query reads
 * changes and the rows differ (local writes and synced changes alike), and only then. The same
 * array is returned until the rows change, so it can be a dependency of `useMemo`. The live query
 * runs while the component is mounted and stops when it unmounts.
 *
 * @example
 * ```tsx
 * function Todos() {
 *   const todos = useQuery<{ id: string; title: string }>(
 *     'SELECT id, title FROM todos WHERE done = ? ORDER BY id', [0], { rows: 'object' },
 *   );
 *   return <ul>{todos.map((t) => <li key={t.id}>{t.title}</li>)}</ul>;
 * }
 * ```
 */
export function useQuery<Row = SqlValue[]>(
  sql: string,
  params: readonly SqlValue[] = NO_PARAMS,
  options: QueryHookOptions = {},
): readonly Row[] {
  const replica = useReplicaFor('useQuery', options.replica);
  const rowOptions: RowOptions = {
    ...(options.rows === undefined ? {} : { rows: options.rows }),
    ...(options.integers === undefined ? {} : { integers: options.integers }),
  };
  const key = queryKey(sql, params, rowOptions);
  // Keyed by the query's content, not by the params array, which is new on every render.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for sql, params and options
  const store = useMemo(
    () => new QueryStore<Row>(replica, sql, params, rowOptions),
    [replica, key],
  );
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
