import type { SqlValue } from '../changes/value.js';
import type { SqliteDriver } from '../sqlite/driver.js';
import { keyIdentity, type SyncedTable } from '../sqlite/synced-table.js';
import { resultColumnNames } from './column-names.js';
import { ListenerError } from './errors.js';
import { LiveQueryImpl } from './live-query.js';
import type { QueryOptions } from './query-options.js';
import type { ChangedRow, LiveQuery, ReplicaChange } from './replica-change.js';
import { shapeRows } from './shape-rows.js';

/**
 * What a {@link ChangeFeed} needs from its replica: the connection, the synced tables, the local
 * sequence and a way to fold captured writes.
 *
 * @example
 * ```ts
 * const source: FeedSource = { driver, tables: () => tables.values(), seq: () => seq, flush };
 * ```
 */
export interface FeedSource {
  /** The replica's connection. */
  readonly driver: SqliteDriver;
  /** The synced tables. */
  tables(): Iterable<SyncedTable>;
  /** The local sequence, current after an operation. */
  seq(): number;
  /** Folds captured local writes (a replica operation, which ends in `afterOperation`). */
  flush(): void;
}

/**
 * Handler of errors thrown by change listeners and live queries: see {@link ListenerError}.
 *
 * @example
 * ```ts
 * const handler: ListenerErrorHandler = (error) => log.warn(error.message);
 * ```
 */
export type ListenerErrorHandler = (error: ListenerError) => void;

// total_changes() moves with every write this connection makes (rolled back ones too),
// data_version with every commit by another connection (DDL included): two integers that,
// unchanged, prove nothing was committed since the last look. DDL of this connection alone is
// seen at its next write (schema_version is read then): a pragma costs more than the rest of a
// look on WebAssembly builds (bench watch.idle).
const QUICK_CHECK = 'SELECT total_changes(), (SELECT data_version FROM pragma_data_version)';
const SCHEMA_VERSION = 'PRAGMA schema_version';

interface Pending {
  /** Rows with a sequence above this were written by a merge of this replica. */
  remoteFrom: number | undefined;
  /** Rows dropped by an eviction, a take-back or clearing, per table. */
  dropped: Map<SyncedTable, SqlValue[][]>;
  /** A commit was seen that may have touched tables which are not synced. */
  anyCommit: boolean;
  /** The schema changed: the tables read by each live query must be found again. */
  schema: boolean;
}

/**
 * Change events and live queries of one replica (`replica.onChange`, `replica.watch`). Events
 * come from sequence numbers: every synced row a commit or merge touches gets a new local
 * sequence in its metadata, indexed, so "what changed" is an index range scan above the last
 * sequence delivered, whoever wrote it. Nothing runs while nobody listens.
 *
 * @example
 * ```ts
 * const feed = new ChangeFeed(source);
 * const stop = feed.onChange((change) => console.log(change.tables));
 * ```
 */
export class ChangeFeed {
  readonly #source: FeedSource;
  readonly #listeners = new Set<(change: ReplicaChange) => void>();
  readonly #watches = new Set<LiveQueryImpl<unknown>>();
  readonly #errorHandlers = new Set<ListenerErrorHandler>();
  readonly #names = new Map<string, { readonly schema: number; readonly names: string[] }>();
  #pending: Pending = freshPending();
  /** Last sequence delivered; undefined while nobody listens. */
  #delivered: number | undefined;
  #quick = '';
  #schemaVersion = -1;
  /** notifyChanges holds its own transaction: the operations inside it settle after COMMIT. */
  #holding = false;
  #delivering = false;
  #again = false;

  constructor(source: FeedSource) {
    this.#source = source;
  }

  /** Whether anybody listens (only then is any work done). */
  get active(): boolean {
    return this.#listeners.size > 0 || this.#watches.size > 0;
  }

  /** Subscribes to change events; returns the unsubscribe function. */
  onChange(listener: (change: ReplicaChange) => void): () => void {
    this.#activate();
    // A wrapper per subscription, so the same function subscribed twice is two subscriptions.
    const entry = (change: ReplicaChange): void => listener(change);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Registers a handler of listener errors; returns the unregister function. */
  onListenerError(handler: ListenerErrorHandler): () => void {
    const entry: ListenerErrorHandler = (error) => handler(error);
    this.#errorHandlers.add(entry);
    return () => {
      this.#errorHandlers.delete(entry);
    };
  }

  /** Runs a query once, shaped by `options`. */
  query<Row>(sql: string, params: readonly SqlValue[], options?: QueryOptions): Row[] {
    const rows = this.#source.driver.prepare(sql).all(params);
    return shapeRows<Row>(rows, options, () => this.columnNames(sql));
  }

  /** The result column names of `sql` (cached until the schema changes). */
  columnNames(sql: string): string[] {
    const schema = this.#readSchemaVersion();
    const cached = this.#names.get(sql);
    if (cached?.schema === schema) return cached.names;
    const names = resultColumnNames(this.#source.driver, sql);
    if (this.#names.size >= 500) this.#names.clear();
    this.#names.set(sql, { schema, names });
    return names;
  }

  /** Starts a live query (its first result is read now). */
  watch<Row>(
    sql: string,
    params: readonly SqlValue[],
    callback: (rows: readonly Row[]) => void,
    options?: QueryOptions,
  ): LiveQuery<Row> {
    const live = new LiveQueryImpl<Row>(this.#source.driver, sql, params, callback, options, {
      names: () => this.columnNames(sql),
      stopped: (query) => this.#watches.delete(query as LiveQueryImpl<unknown>),
    });
    this.#activate();
    this.#watches.add(live as LiveQueryImpl<unknown>);
    return live;
  }

  /** A merge starts after the fold: every row given a sequence above `seq` now is remote. */
  remoteFrom(seq: number): void {
    if (this.#delivered !== undefined && this.#pending.remoteFrom === undefined)
      this.#pending.remoteFrom = seq;
  }

  /** A row was dropped without a change record (eviction, take-back). */
  dropped(table: SyncedTable, key: readonly SqlValue[]): void {
    if (this.#delivered === undefined) return;
    const keys = this.#pending.dropped.get(table);
    if (keys) keys.push([...key]);
    else this.#pending.dropped.set(table, [[...key]]);
  }

  /** Every row of `tables` is about to be dropped (clearing synced data): record their keys. */
  clearing(tables: Iterable<SyncedTable>): void {
    if (this.#delivered === undefined) return;
    for (const table of tables) {
      const keys = table.shadow.baseKeys.join(', ');
      for (const key of this.#source.driver
        .prepare(`SELECT ${keys} FROM ${table.shadow.table}`)
        .all())
        this.dropped(table, key);
    }
  }

  /** The end of an outermost replica operation: deliver what it committed. */
  afterOperation(committed: boolean): void {
    if (this.#delivered === undefined) return;
    if (!committed) {
      this.#pending.remoteFrom = undefined;
      this.#pending.dropped.clear();
      return;
    }
    if (!this.#holding) this.#settle();
  }

  /**
   * Looks for commits made since the last look, by any connection: two integers when nothing
   * happened; otherwise folds the captured writes (in a transaction of its own) and delivers.
   * Inside an open transaction of the caller it does nothing (the commit is not made yet): the
   * next call after COMMIT sees it.
   */
  notify(): void {
    if (this.#delivered === undefined) return;
    const driver = this.#source.driver;
    const quick = driver.prepare(QUICK_CHECK).all()[0]!;
    const mark = quick.join(':');
    if (mark === this.#quick) return;
    if (!this.#fold()) return;
    const schema = this.#readSchemaVersion();
    if (schema !== this.#schemaVersion) this.#pending.schema = true;
    this.#schemaVersion = schema;
    this.#pending.anyCommit = true;
    this.#quick = driver.prepare(QUICK_CHECK).all()[0]!.join(':');
    this.#settle();
  }

  // Folds inside a transaction of our own, so that what is delivered is committed. BEGIN fails
  // inside the app's open transaction: then there is nothing committed to deliver yet.
  #fold(): boolean {
    const driver = this.#source.driver;
    try {
      driver.exec('BEGIN');
    } catch {
      return false;
    }
    this.#holding = true;
    try {
      this.#source.flush();
      driver.exec('COMMIT');
    } catch (error) {
      driver.exec('ROLLBACK');
      throw error;
    } finally {
      this.#holding = false;
    }
    return true;
  }

  #activate(): void {
    if (this.#delivered !== undefined) return;
    // Writes committed before the first subscription are not news: fold them into the baseline
    // (#fold holds, so its operation settles nothing). The sentinel marks the feed active for it.
    this.#delivered = -1;
    try {
      this.#fold();
    } catch (error) {
      this.#delivered = undefined;
      throw error;
    }
    this.#delivered = this.#source.seq();
    this.#pending = freshPending();
    this.#quick = this.#source.driver.prepare(QUICK_CHECK).all()[0]!.join(':');
    this.#schemaVersion = this.#readSchemaVersion();
  }

  #readSchemaVersion(): number {
    return Number(this.#source.driver.prepare(SCHEMA_VERSION).all()[0]?.[0] ?? 0);
  }

  #settle(): void {
    if (this.#delivering) {
      this.#again = true;
      return;
    }
    this.#delivering = true;
    try {
      do {
        this.#again = false;
        this.#deliverOnce();
      } while (this.#again);
    } finally {
      this.#delivering = false;
    }
  }

  #deliverOnce(): void {
    const pending = this.#pending;
    this.#pending = freshPending();
    const seq = this.#source.seq();
    const from = this.#delivered ?? seq;
    // A sequence below the last delivered: the state was rolled back or restored. Start again
    // from it; everything from here on is above it.
    this.#delivered = seq;
    let events: ReplicaChange[];
    try {
      events = seq > from || pending.dropped.size > 0 ? this.#events(from, seq, pending) : [];
    } catch (error) {
      this.#report(new ListenerError('change', error));
      events = [];
    }
    for (const event of events) {
      for (const listener of [...this.#listeners]) {
        try {
          listener(event);
        } catch (error) {
          this.#report(new ListenerError('change', error));
        }
      }
    }
    if (events.length === 0 && !pending.anyCommit && !pending.schema) return;
    const touched = new Set<string>();
    for (const event of events) for (const table of event.tables) touched.add(table.toLowerCase());
    const synced = new Set<string>();
    for (const table of this.#source.tables()) synced.add(table.name.toLowerCase());
    for (const live of [...this.#watches]) {
      if (live.stopped) continue;
      if (!live.affectedBy(touched, synced, pending.anyCommit, pending.schema)) continue;
      try {
        live.refresh(pending.schema);
      } catch (error) {
        this.#report(new ListenerError('watch', error, live.sql));
      }
    }
  }

  #events(from: number, seq: number, pending: Pending): ReplicaChange[] {
    const boundary = Math.min(pending.remoteFrom ?? seq, seq);
    const local = new Map<string, ChangedRow[]>();
    const remote = new Map<string, ChangedRow[]>();
    const seen = new Set<string>();
    const add = (
      into: Map<string, ChangedRow[]>,
      table: SyncedTable,
      key: readonly SqlValue[],
    ): void => {
      const id = `${into === local ? 'l' : 'r'}:${table.name}:${keyIdentity(table, key)}`;
      if (seen.has(id)) return;
      seen.add(id);
      const rows = into.get(table.name);
      if (rows) rows.push({ table: table.name, key });
      else into.set(table.name, [{ table: table.name, key }]);
    };
    if (seq > from) {
      for (const table of this.#source.tables()) {
        const { meta, keys } = table.shadow;
        for (const row of this.#source.driver
          .prepare(`SELECT seq, ${keys.join(', ')} FROM ${meta} WHERE seq > ? ORDER BY seq`)
          .all([BigInt(from)])) {
          const rowSeq = Number(row[0]);
          if (rowSeq > seq) continue;
          add(rowSeq > boundary ? remote : local, table, row.slice(1));
        }
      }
    }
    for (const [table, keys] of pending.dropped) for (const key of keys) add(remote, table, key);
    const events: ReplicaChange[] = [];
    for (const [source, byTable] of [
      ['local', local],
      ['remote', remote],
    ] as const) {
      if (byTable.size === 0) continue;
      const tables = [...byTable.keys()].sort();
      events.push({ source, tables, rows: tables.flatMap((table) => byTable.get(table)!) });
    }
    return events;
  }

  #report(error: ListenerError): void {
    if (this.#errorHandlers.size === 0) {
      // As a browser does with an exception in an event listener: reported, not rethrown into
      // the merge that fired the event.
      console.error(error);
      return;
    }
    for (const handler of [...this.#errorHandlers]) {
      try {
        handler(error);
      } catch (failure) {
        console.error(failure);
      }
    }
  }
}

function freshPending(): Pending {
  return { remoteFrom: undefined, dropped: new Map(), anyCommit: false, schema: false };
}
