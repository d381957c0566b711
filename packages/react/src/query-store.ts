import type { SqlValue } from '@offsync/core';
import { sameRows } from './same-rows.js';
import type { LiveRows, QueryableReplica, RowOptions } from './sources.js';

/**
 * One query as a `useSyncExternalStore` store: `getSnapshot` returns the same array until the
 * rows change, `subscribe` starts the replica's live query with the first listener and stops it
 * with the last (read the snapshot after subscribing, as React does: a change in between is not
 * told). Creating a store runs nothing, so React may create and drop stores during render
 * (StrictMode does) without leaking a watch.
 *
 * @example
 * ```ts
 * const store = new QueryStore(replica, 'SELECT id FROM todos', [], {});
 * const stop = store.subscribe(() => console.log(store.getSnapshot()));
 * stop(); // the live query stops with the last listener
 * ```
 */
export class QueryStore<Row> {
  readonly #replica: QueryableReplica;
  readonly #sql: string;
  readonly #params: readonly SqlValue[];
  readonly #options: RowOptions;
  readonly #listeners = new Set<() => void>();
  #rows: readonly Row[] | undefined;
  #live: LiveRows<Row> | undefined;

  constructor(
    replica: QueryableReplica,
    sql: string,
    params: readonly SqlValue[],
    options: RowOptions,
  ) {
    this.#replica = replica;
    this.#sql = sql;
    this.#params = params;
    this.#options = options;
  }

  /** Whether the replica's live query is running (some component is subscribed). */
  get watching(): boolean {
    return this.#live !== undefined;
  }

  /** The current rows: the same array until they change. */
  readonly getSnapshot = (): readonly Row[] => {
    // Before the first subscription (first render, server rendering) a one-shot query stands in.
    this.#rows ??= this.#replica.query<Row>(this.#sql, this.#params, this.#options);
    return this.#rows;
  };

  /** Adds a listener, told after the rows change; returns its removal. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    if (this.#live === undefined) {
      const live = this.#replica.watch<Row>(
        this.#sql,
        this.#params,
        (rows) => {
          if (this.#live !== live || rows === this.#rows) return;
          this.#rows = rows;
          for (const notify of this.#listeners) notify();
        },
        this.#options,
      );
      this.#live = live;
      // The rows may have changed between the render's read and this subscription. No listener
      // is told: a subscriber reads the snapshot after subscribing (React does), and a listener
      // called from inside `subscribe` could not yet hold its own removal.
      if (this.#rows === undefined || !sameRows(this.#rows, live.rows)) this.#rows = live.rows;
    }
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return;
      this.#live?.stop();
      this.#live = undefined;
    };
  };
}
