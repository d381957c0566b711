import type { SqlValue } from '../changes/value.js';

/**
 * What one commit or one merge changed in a replica's synced tables, as given to
 * `replica.onChange` listeners.
 *
 * `source` is `'local'` for writes committed to synced tables through any connection (the app's
 * own `replica.driver`, another connection or process on the same file), and `'remote'` for a
 * merge of received changes by this replica, including rows dropped because they left the user's
 * scope (evictions) or were taken back by the server. A merge made by ANOTHER process on the same
 * file reaches this replica as `'local'`: from here it is a commit by another connection.
 *
 * `rows` lists the readable primary key of every synced row touched (inserted, updated,
 * deleted), each row once per event, grouped by table in `tables` order.
 *
 * @example
 * ```ts
 * replica.onChange((change) => {
 *   if (change.tables.includes('todos')) console.log(change.source, change.rows.length);
 * });
 * ```
 */
export interface ReplicaChange {
  /** A local commit (any connection) or a merge of received changes by this replica. */
  readonly source: 'local' | 'remote';
  /** Every synced table touched, sorted. */
  readonly tables: readonly string[];
  /** Readable primary keys of the synced rows touched. */
  readonly rows: readonly ChangedRow[];
}

/**
 * One row of a {@link ReplicaChange}: its table and primary-key values (in key order).
 *
 * @example
 * ```ts
 * const row: ChangedRow = { table: 'todos', key: ['t1'] };
 * ```
 */
export interface ChangedRow {
  /** The synced table. */
  readonly table: string;
  /** The row's primary-key values, exact (INTEGER as bigint). */
  readonly key: readonly SqlValue[];
}

/**
 * A query kept up to date by `replica.watch`. `rows` is the latest result and keeps the same
 * array (by identity) until the result changes, so it can back React's `useSyncExternalStore`.
 *
 * @example
 * ```ts
 * const live = replica.watch('SELECT id FROM todos', [], (rows) => render(rows));
 * render(live.rows); // the first result, read when watch was called
 * live.stop();
 * ```
 */
export interface LiveQuery<Row> {
  /** The latest result. */
  readonly rows: readonly Row[];
  /** The tables the query reads (found from its plan), sorted. */
  readonly tables: readonly string[];
  /** Stops watching: no callback after it returns. Safe inside the callback, and idempotent. */
  stop(): void;
}
