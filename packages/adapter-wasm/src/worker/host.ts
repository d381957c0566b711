import type { LiveQuery, SqliteReplica, SyncClient, SyncStatus } from '@offsync/core';
import { BrowserReplicaError, type BrowserReplicaErrorData, toErrorData } from './errors.js';
import {
  type BrowserReplicaStatus,
  type ChannelMessage,
  isReplicaRequest,
  type PageMessage,
  type PlainSyncStatus,
  type ReplicaInfo,
  type ReplicaRequest,
  type Reply,
  type StorageKind,
  type SyncTarget,
  type WorkerMessage,
} from './protocol.js';
import { openWorkerStorage, type WorkerStorage } from './storage.js';

/**
 * Options of {@link serveReplicaWorker}.
 *
 * @example
 * ```ts
 * serveReplicaWorker({
 *   connect: (replica, target) => connect(replica, { ...target, WebSocket }), // @offsync/adapter-cloud
 * });
 * ```
 */
export interface ReplicaWorkerOptions {
  /**
   * Starts the sync client of the leading tab, when the page gave a sync target. The worker
   * script supplies it (so `@offsync/adapter-wasm` imports no transport); `token` asks the page.
   */
  readonly connect?: (
    replica: SqliteReplica,
    target: SyncTarget & { readonly token: () => Promise<string> },
  ) => SyncClient;
  /** Opens the leader's storage (default: OPFS SAH pool, memory when it is missing). */
  readonly openStorage?: (name: string) => Promise<WorkerStorage>;
}

interface WorkerScope {
  postMessage(message: WorkerMessage): void;
  onmessage: ((event: MessageEvent<unknown>) => void) | null;
}

const MAX_PENDING_COUNT = 1_000_000;

function plainSync(status: SyncStatus): PlainSyncStatus {
  return {
    state: status.state,
    pending: status.pending,
    localVersion: status.localVersion,
    serverVersion: status.serverVersion,
    ...(status.error ? { error: { type: status.error.type, message: status.error.message } } : {}),
  };
}

/** The Web Lock a worker holds for its whole life: its release tells the leader it is gone. */
const tabLock = (name: string, worker: string) => `offsync-tab:${name}:${worker}`;

const lost = (leader: string): BrowserReplicaErrorData => ({
  type: 'LeaderLost',
  message: `the leading tab (${leader}) closed before answering; the request may or may not have committed`,
});

/**
 * Runs inside a dedicated Worker started by {@link openBrowserReplica} (throws
 * {@link BrowserReplicaError} `BadRequest` anywhere else): takes the replica's Web
 * Lock when free and opens the database on OPFS (`opfs-sahpool`, every commit durable before it
 * is acknowledged), or routes the page's requests over a BroadcastChannel to the tab whose worker
 * holds the lock. When that tab closes, the lock passes to a waiting worker, which opens the same
 * file. Guide: docs/browser.md.
 *
 * @example
 * ```ts
 * // replica.worker.ts
 * import { serveReplicaWorker } from '@offsync/adapter-wasm';
 * serveReplicaWorker();
 * ```
 */
export function serveReplicaWorker(options: ReplicaWorkerOptions = {}): void {
  // On a page it would take over window.onmessage, and OPFS sync access needs a worker anyway.
  if (!('WorkerGlobalScope' in globalThis)) {
    throw new BrowserReplicaError({
      type: 'BadRequest',
      message: 'serveReplicaWorker() runs inside a dedicated Worker, not on a page',
    });
  }
  const scope = globalThis as unknown as WorkerScope;
  const self = crypto.randomUUID();
  const post = (message: WorkerMessage) => scope.postMessage(message);

  let channel: BroadcastChannel | undefined;
  let syncTarget: SyncTarget | undefined;
  let local: { storage: WorkerStorage; client: SyncClient | undefined } | undefined;
  let leader: { id: string; storage: StorageKind; sync: PlainSyncStatus | undefined } | undefined;
  // Page requests waiting for a leader to be known, and those sent to one (by leader id).
  const waiting: { id: number; request: ReplicaRequest }[] = [];
  const forwarded = new Map<number, string>();
  // This page's live queries, to register again with each new leader.
  const ownWatches = new Map<string, ReplicaRequest & { op: 'watch' }>();
  // Live queries this worker runs as leader, by the worker that asked (this one included), so
  // a tab can stop only its own and a closed tab's can all be stopped at once.
  const running = new Map<string, Map<string, LiveQuery<unknown>>>();
  // Other tabs' workers this one serves as leader, each until its tab lock is granted to us.
  const followers = new Set<string>();
  let replicaName: string | undefined;
  const tokenWaiters = new Map<number, (token: string | undefined) => void>();
  let nextToken = 1;
  let nextInternal = -1;
  const reRegistered = new Map<number, string>();

  const status = (): BrowserReplicaStatus => ({
    role: local ? 'leader' : 'follower',
    storage: leader?.storage,
    sync: leader?.sync,
  });
  const send = (message: ChannelMessage) => channel?.postMessage(message);

  const deliverRows = (owner: string, watchId: string, rows: readonly unknown[]) => {
    if (owner === self) post({ kind: 'rows', watchId, rows });
    else send({ kind: 'rows', to: owner, watchId, rows });
  };

  function handle(request: ReplicaRequest, owner: string): unknown {
    if (!local) throw new BrowserReplicaError({ type: 'Closed', message: 'not leading' });
    const replica = local.storage.replica;
    switch (request.op) {
      case 'exec':
        replica.driver.exec(request.sql);
        replica.notifyChanges();
        return undefined;
      case 'run':
        replica.driver.prepare(request.sql).run(request.params);
        replica.notifyChanges();
        return undefined;
      case 'batch':
        replica.driver.exec('BEGIN IMMEDIATE');
        try {
          for (const s of request.statements) replica.driver.prepare(s.sql).run(s.params);
          replica.driver.exec('COMMIT');
        } catch (error) {
          replica.driver.exec('ROLLBACK');
          throw error;
        }
        replica.notifyChanges();
        return undefined;
      case 'query':
        return replica.query(request.sql, request.params, request.options);
      case 'watch': {
        const own = running.get(owner) ?? new Map<string, LiveQuery<unknown>>();
        running.set(owner, own);
        // The same id again (a re-registration) replaces the query: one callback per watch.
        own.get(request.watchId)?.stop();
        const live = replica.watch<unknown>(
          request.sql,
          request.params,
          (rows) => deliverRows(owner, request.watchId, rows),
          request.options,
        );
        own.set(request.watchId, live);
        return live.rows;
      }
      case 'unwatch':
        running.get(owner)?.get(request.watchId)?.stop();
        running.get(owner)?.delete(request.watchId);
        return undefined;
      case 'enableSync':
        replica.enableSync(request.table);
        return undefined;
      case 'merge':
        // The result is plain counts; the changeset's own errors (DecodeError, ...) become data.
        return replica.applyChanges(request.changeset);
      case 'info': {
        const info: ReplicaInfo = {
          site: replica.site,
          version: replica.version,
          pending: local.client
            ? local.client.status.pending
            : replica.changesSince(0, { limit: MAX_PENDING_COUNT }).changes.length,
          storage: local.storage.kind,
          liveQueries: [...running.values()].reduce((sum, own) => sum + own.size, 0),
          followers: followers.size,
        };
        return info;
      }
    }
  }

  function answer(request: ReplicaRequest, owner: string): Reply {
    try {
      return { ok: true, value: handle(request, owner) };
    } catch (error) {
      return { ok: false, error: toErrorData(error) };
    }
  }

  /** Stops what the leader runs for `owner`, a worker that ended (its tab closed or reloaded). */
  function forget(owner: string): void {
    followers.delete(owner);
    for (const live of running.get(owner)?.values() ?? []) live.stop();
    running.delete(owner);
  }

  /**
   * Learns when a follower's worker ends, whatever ends it (closed tab, crash, reload, `close()`):
   * each worker holds its tab lock for its whole life, so our request for it is granted only
   * once the browser released it with the worker. No heartbeat, no timeout to tune.
   */
  function watchFollower(owner: string): void {
    if (owner === self || followers.has(owner) || replicaName === undefined) return;
    followers.add(owner);
    void navigator.locks
      .request(tabLock(replicaName, owner), { mode: 'exclusive' }, () => forget(owner))
      .catch(() => undefined);
  }

  function fromPage(id: number, request: ReplicaRequest): void {
    if (request.op === 'watch') ownWatches.set(request.watchId, request);
    if (request.op === 'unwatch') ownWatches.delete(request.watchId);
    if (local) post({ kind: 'reply', id, ...answer(request, self) });
    else if (leader) {
      forwarded.set(id, leader.id);
      send({ kind: 'request', from: self, to: leader.id, id, request });
    } else waiting.push({ id, request });
  }

  /** A new leader: what the old one held unanswered is lost; the rest goes to the new one. */
  function leaderChanged(): void {
    for (const [id, to] of forwarded) {
      if (to !== leader?.id) {
        forwarded.delete(id);
        if (id > 0) post({ kind: 'reply', id, ok: false, error: lost(to) });
      }
    }
    for (const watch of ownWatches.values()) {
      if (local) deliverRows(self, watch.watchId, handle(watch, self) as unknown[]);
      else if (leader) {
        const id = nextInternal--;
        forwarded.set(id, leader.id);
        reRegistered.set(id, watch.watchId);
        send({ kind: 'request', from: self, to: leader.id, id, request: watch });
      }
    }
    for (const queued of waiting.splice(0)) fromPage(queued.id, queued.request);
    post({ kind: 'status', status: status() });
  }

  function onChannel(message: ChannelMessage): void {
    switch (message.kind) {
      case 'hello':
        if (local && leader) {
          send({ kind: 'leader', leader: self, storage: leader.storage, sync: leader.sync });
        }
        break;
      case 'leader':
        if (local || typeof message.leader !== 'string') break;
        if (leader?.id !== message.leader) {
          leader = { id: message.leader, storage: message.storage, sync: message.sync };
          leaderChanged();
        }
        break;
      case 'request': {
        if (!local || message.to !== self || typeof message.from !== 'string') break;
        if (!isReplicaRequest(message.request)) {
          send({
            kind: 'reply',
            to: message.from,
            id: message.id,
            ok: false,
            error: { type: 'BadRequest', message: 'not a replica request' },
          });
          break;
        }
        watchFollower(message.from);
        send({
          kind: 'reply',
          to: message.from,
          id: message.id,
          ...answer(message.request, message.from),
        });
        break;
      }
      case 'reply': {
        if (message.to !== self || !forwarded.has(message.id)) break;
        forwarded.delete(message.id);
        if (message.id < 0) {
          // A live query registered again with a new leader: its first rows refresh the page's.
          const watchId = reRegistered.get(message.id);
          reRegistered.delete(message.id);
          if (message.ok && watchId !== undefined && Array.isArray(message.value)) {
            post({ kind: 'rows', watchId, rows: message.value });
          }
          break;
        }
        post(
          message.ok
            ? { kind: 'reply', id: message.id, ok: true, value: message.value }
            : { kind: 'reply', id: message.id, ok: false, error: message.error },
        );
        break;
      }
      case 'change':
        if (!local) post({ kind: 'change', change: message.change });
        break;
      case 'rows':
        if (message.to === self)
          post({ kind: 'rows', watchId: message.watchId, rows: message.rows });
        break;
      case 'status':
        if (!local && leader) {
          leader = { ...leader, sync: message.sync };
          post({ kind: 'status', status: status() });
        }
        break;
    }
  }

  const askToken = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const id = nextToken++;
      tokenWaiters.set(id, (token) =>
        token === undefined ? reject(new Error('the page gave no token')) : resolve(token),
      );
      post({ kind: 'token-request', id });
    });

  async function lead(name: string): Promise<void> {
    const open = options.openStorage ?? openWorkerStorage;
    const storage = await open(name);
    if (storage.warning) post({ kind: 'warning', warning: storage.warning });
    const replica = storage.replica;
    local = { storage, client: undefined };
    leader = { id: self, storage: storage.kind, sync: undefined };
    replica.onChange((change) => {
      post({ kind: 'change', change });
      send({ kind: 'change', change });
    });
    if (syncTarget && options.connect) {
      const client = options.connect(replica, { ...syncTarget, token: askToken });
      local.client = client;
      client.on((sync) => {
        const plain = plainSync(sync);
        if (leader) leader = { ...leader, sync: plain };
        send({ kind: 'status', sync: plain });
        post({ kind: 'status', status: status() });
      });
    }
    send({ kind: 'leader', leader: self, storage: storage.kind, sync: undefined });
    leaderChanged();
  }

  /** Joins the replica's channel and queues for its lock (this worker's tab lock is held). */
  function join(name: string): void {
    const lockName = `offsync-replica:${name}`;
    channel = new BroadcastChannel(lockName);
    channel.onmessage = (e: MessageEvent<ChannelMessage>) => onChannel(e.data);
    send({ kind: 'hello', from: self });
    // Held until this worker ends (its tab closes): then the next waiting worker leads.
    void navigator.locks
      .request(lockName, async () => {
        // The old leader is gone: hold new requests until this worker has the file open.
        leader = undefined;
        try {
          await lead(name);
        } catch (error) {
          for (const queued of waiting.splice(0)) {
            post({
              kind: 'reply',
              id: queued.id,
              ok: false,
              error: { type: 'Storage', message: toErrorData(error).message },
            });
          }
          throw error;
        }
        await new Promise<never>(() => undefined);
      })
      .catch(() => undefined);
  }

  scope.onmessage = (event) => {
    const message = event.data as PageMessage;
    switch (message.kind) {
      case 'open': {
        if (replicaName !== undefined) break;
        replicaName = message.name;
        syncTarget = message.sync;
        // Held until this worker ends, and taken before any other tab can learn this worker's id:
        // a leader that asks for it is granted it only once this worker is gone.
        void navigator.locks
          .request(tabLock(message.name, self), () => {
            join(message.name);
            return new Promise<never>(() => undefined);
          })
          .catch(() => undefined);
        break;
      }
      case 'request':
        if (!isReplicaRequest(message.request)) {
          post({
            kind: 'reply',
            id: message.id,
            ok: false,
            error: { type: 'BadRequest', message: 'not a replica request' },
          });
        } else fromPage(message.id, message.request);
        break;
      case 'token':
        tokenWaiters.get(message.id)?.(message.token);
        tokenWaiters.delete(message.id);
        break;
    }
  };
}
