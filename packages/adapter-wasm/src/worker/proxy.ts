import type { ApplyResult, QueryOptions, ReplicaChange, SqlValue } from '@offsync/core';
import { BrowserReplicaError } from './errors.js';
import type {
  BrowserReplicaStatus,
  PageMessage,
  ReplicaInfo,
  ReplicaRequest,
  StorageWarning,
  SyncTarget,
  WorkerMessage,
} from './protocol.js';

/**
 * Options of {@link openBrowserReplica}.
 *
 * @example
 * ```ts
 * const options: BrowserReplicaOptions = {
 *   name: 'todos',
 *   worker: () => new Worker(new URL('./replica.worker.ts', import.meta.url), { type: 'module' }),
 * };
 * ```
 */
export interface BrowserReplicaOptions {
  /** The replica's name: its OPFS file, its Web Lock and its channel between tabs. */
  readonly name: string;
  /** Starts this tab's dedicated worker (a script that calls `serveReplicaWorker()`). */
  readonly worker: () => Worker;
  /** Where the leader's sync client connects (the worker script supplies the transport). */
  readonly sync?: SyncTarget & {
    /** A fresh token for the server, asked for whenever the sync client needs one. */
    readonly token: () => string | Promise<string>;
  };
}

/**
 * A live query in the worker: `rows` is the first result, `callback` gets the later ones.
 *
 * @example
 * ```ts
 * const live = await replica.watch('SELECT id FROM todos', [], render);
 * live.stop();
 * ```
 */
export interface BrowserLiveQuery<Row> {
  /** The first result. */
  readonly rows: readonly Row[];
  /** Stops the query. */
  stop(): void;
}

/**
 * The page's handle on the shared replica: every call is a message to this tab's worker, which
 * answers itself when it leads or routes to the leading tab's worker.
 *
 * @example
 * ```ts
 * await replica.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'milk']);
 * const rows = await replica.query<{ id: string }>('SELECT id FROM todos', [], { rows: 'object' });
 * ```
 */
export interface BrowserReplica {
  /** Runs statements without parameters (schema, for example). */
  exec(sql: string): Promise<void>;
  /** Runs one statement; resolves once it committed (durably on OPFS). */
  run(sql: string, params?: readonly SqlValue[]): Promise<void>;
  /** Runs statements in one transaction: all or nothing. */
  batch(statements: readonly { sql: string; params?: readonly SqlValue[] }[]): Promise<void>;
  /** Runs a query (rows and integers as `options` asks, as core's `replica.query`). */
  query<Row = SqlValue[]>(
    sql: string,
    params?: readonly SqlValue[],
    options?: QueryOptions,
  ): Promise<Row[]>;
  /** Keeps a query's result up to date (core's `replica.watch`, run in the leader). */
  watch<Row = SqlValue[]>(
    sql: string,
    params: readonly SqlValue[],
    callback: (rows: readonly Row[]) => void,
    options?: QueryOptions,
  ): Promise<BrowserLiveQuery<Row>>;
  /** Switches change capture on for a table (idempotent). */
  enableSync(table: string): Promise<void>;
  /**
   * Merges an encoded changeset (core's `applyChanges`: all or nothing), e.g. one received
   * from a peer; resolves with core's `ApplyResult`.
   */
  merge(changeset: Uint8Array): Promise<ApplyResult>;
  /** The replica's site, version, pending changes and storage. */
  info(): Promise<ReplicaInfo>;
  /** Subscribes to commits and merges of synced tables; returns the unsubscribe function. */
  onChange(listener: (change: ReplicaChange) => void): () => void;
  /** The latest status. */
  readonly status: BrowserReplicaStatus;
  /** Subscribes to status changes; returns the unsubscribe function. */
  onStatus(listener: (status: BrowserReplicaStatus) => void): () => void;
  /** Subscribes to warnings (storage fallback); returns the unsubscribe function. */
  onWarning(listener: (warning: StorageWarning) => void): () => void;
  /** Warnings seen so far (a fallback is often reported before a listener exists). */
  readonly warnings: readonly StorageWarning[];
  /** Stops this tab's worker; another tab leads from then on. */
  close(): void;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

class Listeners<T> {
  readonly #set = new Set<(value: T) => void>();
  add(listener: (value: T) => void): () => void {
    this.#set.add(listener);
    return () => this.#set.delete(listener);
  }
  emit(value: T): void {
    for (const listener of this.#set) listener(value);
  }
}

/**
 * Opens the replica `name` for this tab: starts its worker, which leads (holds the OPFS file) when
 * no other tab does, or routes every request to the tab that leads. Resolves once the replica
 * answers. Guide: docs/browser.md.
 *
 * @example
 * ```ts
 * const replica = await openBrowserReplica({
 *   name: 'todos',
 *   worker: () => new Worker(new URL('./replica.worker.ts', import.meta.url), { type: 'module' }),
 * });
 * await replica.exec('CREATE TABLE IF NOT EXISTS todos(id TEXT PRIMARY KEY NOT NULL, title TEXT)');
 * await replica.enableSync('todos');
 * ```
 */
export async function openBrowserReplica(options: BrowserReplicaOptions): Promise<BrowserReplica> {
  // The name becomes an OPFS directory, a lock and a channel name: keep it to safe characters.
  if (!NAME.test(options.name)) {
    throw new BrowserReplicaError({
      type: 'BadRequest',
      message: `replica name ${JSON.stringify(options.name)} must match ${NAME}`,
    });
  }
  const worker = options.worker();
  const pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: unknown) => void }
  >();
  const watches = new Map<string, (rows: readonly unknown[]) => void>();
  const changes = new Listeners<ReplicaChange>();
  const statuses = new Listeners<BrowserReplicaStatus>();
  const warningListeners = new Listeners<StorageWarning>();
  const warnings: StorageWarning[] = [];
  let status: BrowserReplicaStatus = { role: 'follower', storage: undefined, sync: undefined };
  let nextId = 1;
  let nextWatch = 1;
  let closed = false;
  const tab = crypto.randomUUID();

  const post = (message: PageMessage) => worker.postMessage(message);

  worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
    const message = event.data;
    switch (message.kind) {
      case 'reply': {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.ok) waiter?.resolve(message.value);
        else waiter?.reject(new BrowserReplicaError(message.error));
        break;
      }
      case 'change':
        changes.emit(message.change);
        break;
      case 'rows':
        watches.get(message.watchId)?.(message.rows);
        break;
      case 'status':
        status = message.status;
        statuses.emit(status);
        break;
      case 'warning':
        warnings.push(message.warning);
        warningListeners.emit(message.warning);
        break;
      case 'token-request':
        void (async () => {
          let token: string | undefined;
          try {
            token = await options.sync?.token();
          } catch {
            token = undefined; // the sync client reports the refused connection itself
          }
          post({ kind: 'token', id: message.id, token });
        })();
        break;
    }
  };

  const request = <T>(body: ReplicaRequest): Promise<T> => {
    if (closed) {
      return Promise.reject(
        new BrowserReplicaError({ type: 'Closed', message: 'the replica was closed' }),
      );
    }
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      post({ kind: 'request', id, request: body });
    });
  };

  post({
    kind: 'open',
    name: options.name,
    sync: options.sync ? { url: options.sync.url, database: options.sync.database } : undefined,
  });
  await request<ReplicaInfo>({ op: 'info' });

  return {
    exec: (sql) => request({ op: 'exec', sql }),
    run: (sql, params = []) => request({ op: 'run', sql, params }),
    batch: (statements) =>
      request({
        op: 'batch',
        statements: statements.map((s) => ({ sql: s.sql, params: s.params ?? [] })),
      }),
    query: (sql, params = [], queryOptions = {}) =>
      request({ op: 'query', sql, params, options: queryOptions }),
    async watch<Row>(
      sql: string,
      params: readonly SqlValue[],
      callback: (rows: readonly Row[]) => void,
      queryOptions: QueryOptions = {},
    ): Promise<BrowserLiveQuery<Row>> {
      const watchId = `${tab}:${nextWatch++}`;
      watches.set(watchId, callback as (rows: readonly unknown[]) => void);
      let rows: Row[];
      try {
        rows = await request<Row[]>({ op: 'watch', watchId, sql, params, options: queryOptions });
      } catch (error) {
        // The caller gets no handle to stop it: drop the callback, and the worker's copy, which
        // it would otherwise register again with every new leader.
        watches.delete(watchId);
        if (!closed) void request({ op: 'unwatch', watchId }).catch(() => undefined);
        throw error;
      }
      return {
        rows,
        stop: () => {
          watches.delete(watchId);
          if (!closed) void request({ op: 'unwatch', watchId }).catch(() => undefined);
        },
      };
    },
    enableSync: (table) => request({ op: 'enableSync', table }),
    merge: (changeset) => request({ op: 'merge', changeset }),
    info: () => request({ op: 'info' }),
    onChange: (listener) => changes.add(listener),
    get status() {
      return status;
    },
    onStatus: (listener) => statuses.add(listener),
    onWarning: (listener) => warningListeners.add(listener),
    warnings,
    close() {
      if (closed) return;
      closed = true;
      worker.terminate();
      for (const waiter of pending.values()) {
        waiter.reject(
          new BrowserReplicaError({ type: 'Closed', message: 'the replica was closed' }),
        );
      }
      pending.clear();
    },
  };
}
