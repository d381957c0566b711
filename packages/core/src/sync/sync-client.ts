import { decodeChangeset, encodeChangeset } from '../changes/codec.js';
import { defaultEnv, type Env } from '../env.js';
import { OffsyncError } from '../errors.js';
import type { SqliteReplica } from '../sqlite/replica.js';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import {
  type ClientMessage,
  type DeclaredSchema,
  type Eviction,
  PROTOCOL_VERSION,
  type RowRefusal,
  type ServerMessage,
  type TableRefusal,
} from './messages.js';
import { ServerError, type Transport, TransportError } from './transport.js';

/**
 * Where a client stands: `synced` (nothing to send, nothing to receive as far as it knows),
 * `syncing`, `offline` (server unreachable; local writes queue up and are retried) or `error`
 * (the server refused something; retried with backoff).
 *
 * @example
 * ```ts
 * client.on((status) => render(status.state, status.pending));
 * ```
 */
export type SyncState = 'synced' | 'syncing' | 'offline' | 'error';

/**
 * A client's status, reported on every change.
 *
 * @example
 * ```ts
 * if (client.status.state === 'offline') showBanner(`${client.status.pending} changes waiting`);
 * ```
 */
export interface SyncStatus {
  /** The state. */
  readonly state: SyncState;
  /** The replica's local version (sequence). */
  readonly localVersion: number;
  /** The server's version, as last reported. */
  readonly serverVersion: number;
  /** How far the pull has come in the server's sequence (`cursor / serverVersion` is progress). */
  readonly cursor: number;
  /** Local changes (cells and row changes) not yet acknowledged by the server. */
  readonly pending: number;
  /** When the last full sync ended (ms since the epoch). */
  readonly lastSyncedAt: number | undefined;
  /** The error behind `offline` or `error`. */
  readonly error: OffsyncError | undefined;
  /** Local tables the server does not sync with this client, and why. */
  readonly refusedTables: Readonly<Record<string, TableRefusal>>;
  /** Rows the server refused in the last push (they were replaced by the server's state). */
  readonly refusedRows: readonly RowRefusal[];
}

/**
 * Timer functions, injectable so tests drive time.
 *
 * @example
 * ```ts
 * const timers: Timers = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
 * ```
 */
export interface Timers {
  /** Schedules `fn` after `ms`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a scheduled call. */
  clearTimeout(handle: unknown): void;
}

/** Options of a {@link SyncClient}. */
export interface SyncClientOptions {
  /** How to reach the server. */
  readonly transport: Transport;
  /** The user's token (JWT) or an API key, or a function returning a fresh one. */
  readonly token?: string | (() => string | Promise<string>);
  /** Clock and randomness (jitter). */
  readonly env?: Env;
  /** Timers (default: the global ones). */
  readonly timers?: Timers;
  /** Delay that gathers a burst of local commits or notifications into one sync (default 50 ms). */
  readonly debounceMs?: number;
  /** How often to look for local commits (default 250 ms; 0 to only sync on demand). */
  readonly pollMs?: number;
  /**
   * How long a synced client waits before syncing again with no local commit and no
   * notification (default 0: never), checked at each poll. A transport without notifications
   * (HTTP) needs it to receive other devices' changes; `connect` sets it for HTTP.
   */
  readonly pullEveryMs?: number;
  /** Rows per pushed or pulled page (default 1,000). */
  readonly pageSize?: number;
  /** Reconnect backoff (default 0.5 s doubling to 30 s, half jitter). */
  readonly backoff?: BackoffPolicy;
  /** Names this client's saved cursors, so one replica can sync with several servers. */
  readonly name?: string;
}

interface SavedState {
  serverSite: string | undefined;
  /** How far the pull has read the server's sequence (the next page starts after it). */
  cursor: number;
  /**
   * Where the current run of pull pages began: every server change up to it is here. Absent in
   * states saved before it existed (then it is `cursor`).
   */
  since?: number;
  acked: number;
}

interface Session {
  readonly tables: readonly string[];
  /** Drop synced rows and pull everything after the next push (the user's scope changed). */
  resync: boolean;
}

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) =>
    globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/**
 * The client sync loop. It syncs on start, on local commits (found by polling the capture log,
 * debounced), on server notifications and on reconnect with exponential backoff and jitter. A
 * cycle pushes local changes after the last acknowledged sequence, page by page, then pulls the
 * server's changes after the saved cursor; every step is idempotent, so a retry after any fault
 * is safe. Local writes always succeed; the sync metadata is the offline queue.
 *
 * @example
 * ```ts
 * const client = new SyncClient(replica, { transport, token });
 * client.on((status) => console.log(status.state));
 * client.start();
 * ```
 */
export class SyncClient {
  readonly #replica: SqliteReplica;
  readonly #options: SyncClientOptions;
  readonly #env: Env;
  readonly #timers: Timers;
  readonly #listeners = new Set<(status: SyncStatus) => void>();
  readonly #settingKey: string;
  #status: SyncStatus;
  #session: Session | undefined;
  #saved: SavedState;
  #running: Promise<void> | undefined;
  #again = false;
  #started = false;
  #stopped = false;
  #attempt = 0;
  #retryTimer: unknown;
  #debounceTimer: unknown;
  #pollTimer: unknown;
  #lastMark = -1;
  /** The local-change mark after the loop's own latest work on the replica (folds, merges). */
  #ownMark = -1;
  /** A local write landed while the cycle awaited the server: it may not have been pushed. */
  #writtenDuringCycle = false;
  #nextId = 1;
  #unsubscribe: (() => void) | undefined;

  constructor(replica: SqliteReplica, options: SyncClientOptions) {
    this.#replica = replica;
    this.#options = options;
    this.#env = options.env ?? defaultEnv;
    this.#timers = options.timers ?? defaultTimers;
    this.#settingKey = `sync:${options.name ?? 'default'}`;
    const saved = replica.readSetting(this.#settingKey);
    this.#saved = saved
      ? (JSON.parse(saved) as SavedState)
      : { serverSite: undefined, cursor: 0, acked: 0 };
    this.#status = {
      state: 'offline',
      localVersion: replica.version,
      serverVersion: 0,
      cursor: this.#saved.cursor,
      pending: 0,
      lastSyncedAt: undefined,
      error: undefined,
      refusedTables: {},
      refusedRows: [],
    };
  }

  /** The current status. */
  get status(): SyncStatus {
    return this.#status;
  }

  /** Calls `listener` on every status change; returns the unsubscribe function. */
  on(listener: (status: SyncStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts the loop: syncs now, then on local commits, notifications and reconnects. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#stopped = false;
    this.#unsubscribe = this.#options.transport.subscribe((event) => {
      if (event.type === 'notify') {
        if (event.serverVersion > this.#status.serverVersion || this.#status.state !== 'synced')
          this.#schedule();
      } else {
        this.#session = undefined;
        if (!this.#stopped) this.#fail(new TransportError(event.reason));
      }
    });
    this.#lastMark = this.#replica.localChangeMark();
    this.#poll();
    this.#schedule(0);
  }

  /**
   * Runs a sync cycle now (or joins the running one) and resolves when it completes; rejects with
   * the error that stopped it (the loop, if started, retries on its own).
   */
  async syncNow(): Promise<SyncStatus> {
    if (this.#running) {
      // The running cycle loops once more for us.
      this.#again = true;
      await this.#running;
    } else {
      const run = this.#cycle();
      this.#running = run;
      try {
        await run;
      } finally {
        if (this.#running === run) this.#running = undefined;
      }
    }
    return this.#status;
  }

  /** Stops the loop and closes the transport. Local data and cursors are kept. */
  async disconnect(): Promise<void> {
    this.#stopped = true;
    this.#started = false;
    for (const timer of [this.#retryTimer, this.#debounceTimer, this.#pollTimer]) {
      if (timer !== undefined) this.#timers.clearTimeout(timer);
    }
    this.#retryTimer = this.#debounceTimer = this.#pollTimer = undefined;
    this.#unsubscribe?.();
    await this.#running?.catch(() => undefined);
    this.#options.transport.close();
    this.#session = undefined;
    this.#setStatus({ state: 'offline', error: undefined });
  }

  /** Disconnects and removes all synced data and cursors from the local database. */
  async logout(): Promise<void> {
    await this.disconnect();
    this.#replica.clearSyncedData();
    this.#saved = { serverSite: undefined, cursor: 0, acked: 0 };
    this.#replica.writeSetting(this.#settingKey, null);
    this.#setStatus({
      localVersion: this.#replica.version,
      serverVersion: 0,
      cursor: 0,
      pending: 0,
      lastSyncedAt: undefined,
    });
  }

  #schedule(delay = this.#options.debounceMs ?? 50): void {
    if (this.#stopped) return;
    if (this.#debounceTimer !== undefined) return;
    this.#debounceTimer = this.#timers.setTimeout(() => {
      this.#debounceTimer = undefined;
      this.syncNow().then(
        () => {
          this.#attempt = 0;
        },
        () => undefined,
      );
    }, delay);
  }

  #poll(): void {
    const every = this.#options.pollMs ?? 250;
    if (every <= 0 || this.#stopped) return;
    this.#pollTimer = this.#timers.setTimeout(() => {
      this.#pollTimer = undefined;
      try {
        const mark = this.#replica.localChangeMark();
        const pullEvery = this.#options.pullEveryMs ?? 0;
        if (mark !== this.#lastMark) {
          this.#lastMark = mark;
          this.#schedule();
        } else if (
          pullEvery > 0 &&
          this.#status.state === 'synced' &&
          this.#env.now() - (this.#status.lastSyncedAt ?? 0) >= pullEvery
        ) {
          this.#schedule();
        }
      } catch {
        // The database may be closing; the next poll will tell.
      }
      this.#poll();
    }, every);
  }

  async #cycle(): Promise<void> {
    let helloAgain = true;
    do {
      this.#again = false;
      this.#setStatus({ state: 'syncing', error: undefined });
      this.#writtenDuringCycle = false;
      try {
        const session = this.#session ?? (await this.#hello());
        await this.#push(session);
        if (session.resync) {
          this.#replica.clearSyncedData();
          this.#saved.cursor = 0;
          this.#saved.since = 0;
          this.#save();
          this.#markOwn();
          session.resync = false;
        }
        await this.#pull(session);
        // The mark also moves with the loop's own folds and merges, so reading it here would
        // hide a write the app made while a request was out (after the push had read its last
        // page): that write would wait, unsent, for some later trigger. Go round again instead.
        this.#checkOwnMark();
        this.#lastMark = this.#replica.localChangeMark();
        if (this.#writtenDuringCycle) this.#again = true;
        this.#setStatus({
          state: 'synced',
          pending: 0,
          localVersion: this.#replica.version,
          lastSyncedAt: this.#env.now(),
          error: undefined,
        });
      } catch (error) {
        if (
          helloAgain &&
          error instanceof ServerError &&
          error.code === 'scope-changed' &&
          this.#session !== undefined
        ) {
          // The server's policies or tables changed under this session: a new hello resyncs.
          helloAgain = false;
          this.#session = undefined;
          this.#again = true;
          continue;
        }
        this.#fail(error);
        throw error;
      }
    } while (this.#again && !this.#stopped);
  }

  async #hello(): Promise<Session> {
    const schemas: Record<string, DeclaredSchema> = {};
    for (const table of this.#replica.syncedTables()) {
      const info = this.#replica.tableInfo(table);
      schemas[table] = { canonical: info.canonical, fingerprint: info.fingerprint };
    }
    const token =
      typeof this.#options.token === 'function' ? await this.#options.token() : this.#options.token;
    const welcome = await this.#request({
      type: 'hello',
      id: this.#nextId++,
      protocol: PROTOCOL_VERSION,
      site: this.#replica.site,
      ...(token === undefined ? {} : { token }),
      schemas,
    });
    if (welcome.type !== 'welcome') throw unexpected(welcome);
    if (this.#saved.serverSite !== welcome.serverSite) {
      // A different central database (new server, restored backup): start over from its start.
      this.#saved = { serverSite: welcome.serverSite, cursor: 0, acked: 0 };
    }
    // A server restored from an older backup holds less than we thought: push again from there.
    this.#saved.acked = Math.min(this.#saved.acked, welcome.acked);
    this.#save();
    this.#session = { tables: welcome.tables, resync: welcome.resync };
    this.#setStatus({ serverVersion: welcome.serverVersion, refusedTables: welcome.refused });
    return this.#session;
  }

  async #push(session: Session): Promise<void> {
    const pageSize = this.#options.pageSize ?? 1000;
    const refusedRows: RowRefusal[] = [];
    // `acked` moves only when the whole paged read went through: a page's cursor is a position
    // in it, and a retry from the middle would miss cells of rows listed later.
    const since = this.#saved.acked;
    let after = since;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const page = this.#replica.changesSince(since, {
        onlySite: this.#replica.site,
        tables: session.tables,
        limit: pageSize,
        after,
      });
      this.#markOwn();
      if (page.changes.length === 0 && !page.hasMore) {
        after = page.cursor;
        break;
      }
      if (page.changes.length === 0) {
        after = page.cursor;
        continue;
      }
      this.#setStatus({ pending: page.changes.length });
      const fingerprints = Object.fromEntries(
        session.tables.map((table) => [table, this.#replica.tableInfo(table).fingerprint]),
      );
      const result = await this.#request({
        type: 'push',
        id: this.#nextId++,
        site: this.#replica.site,
        upTo: page.cursor,
        changeset: encodeChangeset({ changes: page.changes, fingerprints }),
      });
      if (result.type !== 'pushResult') throw unexpected(result);
      if (result.accepted) {
        this.#setStatus({ serverVersion: result.serverVersion });
        // Rows the server holds in a later life than ours (deleted before this device saw them):
        // take its state back, or they would linger here.
        if (result.repair.length > 0 || result.evictions.length > 0) {
          this.#replica.takeBack(
            decodeChangeset(result.repair).changes,
            result.evictions.map(toEviction),
          );
          this.#markOwn();
        }
        after = page.cursor;
        if (!page.hasMore) break;
      } else {
        // Take the server's state back for refused rows; the rest of the batch goes again.
        refusedRows.push(...result.refusals);
        this.#replica.takeBack(
          decodeChangeset(result.repair).changes,
          result.evictions.map(toEviction),
        );
        this.#markOwn();
      }
    }
    this.#saved.acked = Math.max(this.#saved.acked, after);
    this.#save();
    // Keep the last refusals on view until a push goes through whole.
    if (refusedRows.length > 0 || this.#status.refusedRows.length === 0)
      this.#setStatus({ refusedRows });
  }

  async #pull(session: Session): Promise<void> {
    const limit = this.#options.pageSize ?? 1000;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const page = await this.#request({
        type: 'pull',
        id: this.#nextId++,
        site: this.#replica.site,
        cursor: this.#saved.cursor,
        // Where this run of pages began (kept across restarts): see `#push` for why pages after
        // the first need it.
        since: this.#saved.since ?? this.#saved.cursor,
        limit,
        tables: session.tables,
        pending: this.#status.pending,
      });
      if (page.type !== 'changes') throw unexpected(page);
      this.#checkOwnMark();
      // Row-level security: rows that left this user's scope are dropped locally.
      if (page.evictions.length > 0) this.#replica.evict(page.evictions.map(toEviction));
      // The bytes go in as they came: a page of rows new here (an initial sync) is then written
      // without being decoded into change objects first.
      this.#replica.applyChanges(page.changeset);
      this.#saved.since ??= this.#saved.cursor;
      this.#saved.cursor = page.cursor;
      if (!page.hasMore) this.#saved.since = page.cursor;
      this.#save();
      this.#setStatus({
        serverVersion: page.serverVersion,
        cursor: page.cursor,
        localVersion: this.#replica.version,
      });
      this.#markOwn();
      if (!page.hasMore) break;
    }
  }

  async #request(message: ClientMessage): Promise<ServerMessage> {
    const response = await this.#options.transport.request(message);
    if (response.type === 'error')
      throw new ServerError(response.code, response.status, response.message);
    return response;
  }

  #fail(error: unknown): void {
    const offline = error instanceof TransportError;
    if (offline) this.#session = undefined;
    if (error instanceof ServerError && (error.status === 401 || error.status === 403))
      this.#session = undefined;
    const typed =
      error instanceof OffsyncError ? error : new ServerError('client', 500, String(error));
    let pending = this.#status.pending;
    try {
      pending = this.#replica.changesSince(this.#saved.acked, { onlySite: this.#replica.site })
        .changes.length;
    } catch {
      // Keep the last count if the database cannot be read now.
    }
    this.#setStatus({ state: offline ? 'offline' : 'error', error: typed, pending });
    if (this.#stopped || !this.#started) return;
    if (this.#retryTimer !== undefined) this.#timers.clearTimeout(this.#retryTimer);
    const delay = backoffDelay(
      this.#options.backoff ?? DEFAULT_BACKOFF,
      this.#attempt++,
      this.#env.random,
    );
    this.#retryTimer = this.#timers.setTimeout(() => {
      this.#retryTimer = undefined;
      this.#schedule(0);
    }, delay);
  }

  /** Records the local-change mark after the loop's own work on the replica (folds, merges). */
  #markOwn(): void {
    this.#ownMark = this.#replica.localChangeMark();
  }

  /** Notes a local write made since the loop's own last work, while a request was out. */
  #checkOwnMark(): void {
    if (this.#replica.localChangeMark() !== this.#ownMark) this.#writtenDuringCycle = true;
  }

  #save(): void {
    this.#replica.writeSetting(this.#settingKey, JSON.stringify(this.#saved));
  }

  #setStatus(update: Partial<SyncStatus>): void {
    this.#status = { ...this.#status, ...update };
    for (const listener of this.#listeners) listener(this.#status);
  }
}

function toEviction(eviction: Eviction): { table: string; pk: Uint8Array } {
  return { table: eviction.table, pk: hexToBytes(eviction.pk) };
}

/**
 * Bytes from lowercase or uppercase hex (a packed key in a protocol message).
 *
 * @example
 * ```ts
 * hexToBytes('0104'); // Uint8Array [1, 4]
 * ```
 */
export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex))
    throw new ServerError('protocol', 400, `invalid hex key ${JSON.stringify(hex)}`);
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++)
    bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/**
 * Lowercase hex of bytes.
 *
 * @example
 * ```ts
 * bytesToHex(new Uint8Array([1, 4])); // '0104'
 * ```
 */
export function bytesToHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

function unexpected(message: ServerMessage): ServerError {
  return new ServerError('protocol', 500, `unexpected ${message.type} message from the server`);
}
