// The hooks' view of a replica and of a sync client: only the members they call, typed
// structurally, so either adapter's replica, a SyncClient, or a proxy to a worker fits.
import type { SqlValue, SyncStatus, WriteRefusal } from '@offsync/core';

/**
 * How rows come back: positional arrays or objects by column name, and 64-bit integers as
 * `bigint` (exact), `number` or decimal `string`. The replica's defaults apply to what is left out.
 *
 * @example
 * ```ts
 * const options: RowOptions = { rows: 'object', integers: 'number' };
 * ```
 */
export interface RowOptions {
  /** `array` (positional) or `object` (by column name). */
  readonly rows?: 'array' | 'object';
  /** How INTEGER values are given. */
  readonly integers?: 'bigint' | 'number' | 'string';
}

/**
 * A running live query: its current rows, and how to stop it.
 *
 * @example
 * ```ts
 * const live: LiveRows<SqlValue[]> = replica.watch('SELECT id FROM todos', [], render);
 * live.stop();
 * ```
 */
export interface LiveRows<Row> {
  /** The latest result. */
  readonly rows: readonly Row[];
  /** Stops re-running the query; the callback is not called again. */
  stop(): void;
}

/**
 * What the hooks need of a replica: a one-shot query (the first render, server rendering) and a
 * live query (everything after). `SqliteReplica` of `@offsync/adapter-node` and
 * `@offsync/adapter-wasm` fit as they are.
 *
 * @example
 * ```ts
 * const source: QueryableReplica = await openReplica({ loadOptions: { wasmUrl } });
 * ```
 */
export interface QueryableReplica {
  /** Runs `sql` once and returns its rows. */
  query<Row = SqlValue[]>(sql: string, params?: readonly SqlValue[], options?: RowOptions): Row[];
  /** Runs `sql` now and again whenever a table it reads changes; calls back when the rows differ. */
  watch<Row = SqlValue[]>(
    sql: string,
    params: readonly SqlValue[],
    callback: (rows: readonly Row[]) => void,
    options?: RowOptions,
  ): LiveRows<Row>;
}

/**
 * What the hooks need of a sync client: its status and its two event streams. `SyncClient`
 * fits as it is.
 *
 * @example
 * ```ts
 * const source: SyncSource = connect(replica, { url, database: 'app', token });
 * ```
 */
export interface SyncSource {
  /** The current status; a new object on every change. */
  readonly status: SyncStatus;
  /** Calls `listener` on every status change; returns the unsubscribe function. */
  on(listener: (status: SyncStatus) => void): () => void;
  /** Calls `listener` for every local write the server did not keep; returns the unsubscribe function. */
  onRefusal(listener: (refusal: WriteRefusal) => void): () => void;
}
