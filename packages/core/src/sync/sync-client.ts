import type { Change } from '../changes/change.js';
import { decodeChangeset, encodeChangeset } from '../changes/codec.js';
import { unpackPrimaryKey } from '../changes/primary-key.js';
import type { SqlValue } from '../changes/value.js';
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
  type SchemaUpgrade,
  type ServerMessage,
  type TableRefusal,
} from './messages.js';
import { restoredStamp } from './restored.js';
import { logAnswer, logRefusal, logRetry, type SyncLogger } from './sync-logger.js';
import { ServerError, type Transport, TransportClosedError, TransportError } from './transport.js';

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
  /**
   * Local rows held back because alone they exceed the server's message limit: unsent (counted
   * in `pending`) until they change and fit. Each was also told once to
   * {@link SyncClient.onRefusal} as `too-large`.
   */
  readonly oversizedRows: readonly { readonly table: string; readonly key: readonly SqlValue[] }[];
  /**
   * Tables the server migrated past this replica's schema: run the same migration
   * (`replica.migrate`) to reach each one's `fingerprint`. `additive` ones keep syncing the
   * columns both sides have meanwhile; `destructive` ones are in `refusedTables` until then.
   */
  readonly upgrades: readonly SchemaUpgrade[];
}

/**
 * A local write the server did not keep, told to the app through {@link SyncClient.onRefusal}:
 * the device's row was replaced by the server's state (or, for `too-large`, is held back), so
 * the app can show what was lost and why instead of the write vanishing.
 *
 * - `refused`: the server refused the row (a row-level security policy, a schema check).
 * - `superseded`: the row was deleted on another device in a later life than this device's
 *   insert or update (which the merge rightly discards).
 * - `too-large`: the row does not fit the server's message limit; it stays here, unsent and
 *   counted in `pending`, and is tried again once it changes.
 *
 * @example
 * ```ts
 * client.onRefusal((r) => toast(`${r.table} ${r.key.join('/')} not saved: ${r.reason}`));
 * ```
 */
export interface WriteRefusal {
  /** Why the write was not kept (see above). */
  readonly kind: 'refused' | 'superseded' | 'too-large';
  /** The table. */
  readonly table: string;
  /** The row's primary-key values, in key order (decoded, not packed). */
  readonly key: readonly SqlValue[];
  /**
   * The row's local values that the server did not keep, by column (empty when what was lost
   * was a local delete).
   */
  readonly values: Readonly<Record<string, SqlValue>>;
  /** Whether the local write was a delete of the row. */
  readonly deleted: boolean;
  /** The server's reason (or the client's, for `too-large` and `superseded`). */
  readonly reason: string;
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
  /**
   * Receives structured events by level (connect, push, pull, refusal, retry, error): `console`,
   * a pino logger, or any `{ debug, info, warn, error }`. Never given the token.
   */
  readonly logger?: SyncLogger;
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
  /**
   * Rows held back as too large (packed key hex, and how many changes they hold). `acked` moves
   * past them so the rest syncs; a later write gives them a new sequence and they go again.
   */
  held?: { table: string; pk: string; changes: number; size: number; told?: boolean }[];
  /** Tables the latest welcome refused (their changes were neither sent nor received). */
  refused?: string[];
  /** Tables synced narrowed to an older schema's columns (the server's has more). */
  narrowed?: string[];
  /** Tables that were refused or narrowed and sync whole now: to push whole, pull from 0. */
  catchUp?: string[];
}

/**
 * Room left in a frame for the push message's own header (id, site, upTo) and framing: the limit
 * applies to the whole frame, the fit check measures the changeset.
 */
const PUSH_HEADER_ROOM = 4096;

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
  readonly #refusalListeners = new Set<(refusal: WriteRefusal) => void>();
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
  /** The server's frame limit: from `welcome`, or learned from a 413 / close 1009. */
  #maxMessageBytes: number | undefined;
  /** Size of the last push frame sent, to learn the limit from a refusal of it. */
  #lastPushBytes: number | undefined;
  /** Held rows the push being encoded carries: released when the server accepts it. */
  #releaseOnAccept: string[] | undefined;
  /** Rows were held back for room only: go round again to send them. */
  #retryHeld = false;
  /** The locally drifted tables the current session was narrowed for. */
  #driftNames = '';
  /** disconnect() closed the transport: start() must reopen it first. */
  #transportClosed = false;
  #unsubscribe: (() => void) | undefined;
  /** The server's latest schema migration as of the session's welcome. */
  #migration = 0;
  /** The local tables' fingerprints the session's hello declared. */
  #declared = '';

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
      oversizedRows: this.#oversizedView(),
      upgrades: [],
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

  /**
   * Calls `listener` for every local write the server did not keep (refused, superseded by a
   * delete, too large), once per row and event; returns the unsubscribe function. Without it
   * those writes would only show as rows quietly reverting.
   *
   * @example
   * ```ts
   * const stop = client.onRefusal((refusal) => console.warn(refusal.table, refusal.key, refusal.reason));
   * ```
   */
  onRefusal(listener: (refusal: WriteRefusal) => void): () => void {
    this.#refusalListeners.add(listener);
    return () => this.#refusalListeners.delete(listener);
  }

  /**
   * Starts the loop: syncs now, then on local commits, notifications and reconnects. After
   * {@link disconnect} it starts again on the same transport (pause/resume), reopening it; a
   * transport that cannot reopen makes it throw {@link TransportClosedError}.
   */
  start(): void {
    if (this.#started) return;
    if (this.#transportClosed) {
      const transport = this.#options.transport;
      if (!transport.reopen) throw new TransportClosedError();
      transport.reopen();
      this.#transportClosed = false;
      this.#attempt = 0;
    }
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
    this.#transportClosed = true;
    this.#session = undefined;
    this.#setStatus({ state: 'offline', error: undefined });
  }

  /** Disconnects and removes all synced data and cursors from the local database. */
  async logout(): Promise<void> {
    await this.disconnect();
    this.#replica.clearSyncedData();
    // The next account gets a device of its own: the server refuses a hello from a site that is
    // another user's device (it would otherwise speak for that device).
    this.#replica.renewSite(Number.MAX_SAFE_INTEGER);
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
        // After the mark was read: the fold it may do can only make the next mark differ (an
        // extra sync), never hide a write. Delivers the app's commits to live queries.
        this.#replica.notifyChanges();
      } catch {
        // The database may be closing; the next poll will tell.
      }
      this.#poll();
    }, every);
  }

  async #cycle(): Promise<void> {
    let helloAgain = true;
    // Each refusal of a too-large push lowers the limit below what was sent (see #fitToLimit):
    // a few rounds isolate an oversized row.
    let learnLimit = 8;
    do {
      this.#again = false;
      this.#setStatus({ state: 'syncing', error: undefined });
      this.#writtenDuringCycle = false;
      try {
        const session = this.#withoutDrift(
          this.#dropSessionOnDrift() ??
            this.#dropSessionOnMigrate() ??
            this.#session ??
            (await this.#hello()),
        );
        await this.#push(session);
        await this.#catchUp(session);
        await this.#pushHeld(session);
        // The pull reports `pending` for the server's device list: give it the count after the
        // push, not the size of the push's last page.
        this.#setStatus({ pending: this.#pendingCount(session) });
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
          pending: this.#pendingCount(session),
          localVersion: this.#replica.version,
          lastSyncedAt: this.#env.now(),
          error: undefined,
        });
      } catch (error) {
        if (
          learnLimit > 0 &&
          error instanceof ServerError &&
          error.status === 413 &&
          this.#lastPushBytes !== undefined
        ) {
          // A server that did not say its limit refused a push as too large: the limit is below
          // what was sent. Shrink and go again; oversized rows are then held back.
          learnLimit--;
          this.#maxMessageBytes = Math.min(
            this.#maxMessageBytes ?? Number.POSITIVE_INFINITY,
            this.#lastPushBytes + PUSH_HEADER_ROOM - 1,
          );
          // Over a WebSocket the refusal (close 1009) also ended the session.
          this.#session = undefined;
          this.#again = true;
          continue;
        }
        if (
          helloAgain &&
          error instanceof ServerError &&
          // The server's policies or tables changed, or its schema was migrated: either way the
          // session's agreement is stale, and a fresh hello (once per cycle) renegotiates it.
          (error.code === 'scope-changed' || error.code === 'schema-mismatch') &&
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

  async #hello(restored = false): Promise<Session> {
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
    const restoredAt = restored ? undefined : restoredStamp(this.#replica, welcome);
    if (restoredAt) {
      // This replica came back from a backup: take a new site (its undelivered writes move to
      // it) before it issues stamps its earlier self used, and introduce itself again.
      this.#replica.renewSite(this.#saved.acked, restoredAt);
      this.#saved.acked = 0;
      this.#save();
      return this.#hello(true);
    }
    // A table refused until now (a migration on either side caught up) missed changes both ways.
    // So did one synced narrowed (an older schema's columns) whose schema is now the server's.
    const narrowed = (welcome.upgrades ?? [])
      .filter((upgrade) => upgrade.kind === 'additive')
      .map((upgrade) => upgrade.table);
    const rejoined = welcome.tables.filter(
      (table) =>
        this.#saved.refused?.includes(table) ||
        (this.#saved.narrowed?.includes(table) && !narrowed.includes(table)),
    );
    this.#saved.refused = Object.keys(welcome.refused);
    this.#saved.narrowed = narrowed;
    if (rejoined.length > 0)
      this.#saved.catchUp = [...new Set([...(this.#saved.catchUp ?? []), ...rejoined])];
    this.#declared = declaredKey(schemas);
    this.#save();
    this.#session = { tables: welcome.tables, resync: welcome.resync };
    this.#setStatus({
      serverVersion: welcome.serverVersion,
      refusedTables: welcome.refused,
      upgrades: welcome.upgrades ?? [],
    });
    return this.#session;
  }

  async #push(session: Session): Promise<void> {
    try {
      await this.#pushRun(session, true);
    } catch (error) {
      // A backlog larger than the server stages at once (a long offline spell) still goes, page
      // by page, rather than never: each page then commits on its own.
      if (!(error instanceof ServerError && error.code === 'unit-too-large')) throw error;
      await this.#pushRun(session, false);
    }
  }

  /**
   * Pushes everything after `acked`, page by page. `atomic`: the pages form one unit that the
   * server stages and commits at its last page, so no other device ever sees part of a local
   * transaction (a page boundary may fall inside one) and a cut connection leaves none of it.
   */
  async #pushRun(session: Session, atomic: boolean): Promise<void> {
    const pageSize = this.#options.pageSize ?? 1000;
    const refusedRows: RowRefusal[] = [];
    // `acked` moves only when the whole paged read went through: a page's cursor is a position
    // in it, and a retry from the middle would miss cells of rows listed later.
    const since = this.#saved.acked;
    let after = since;
    let part = 0;
    let unit = this.#unitName();
    for (let guard = 0; guard < 1_000_000; guard++) {
      const page = this.#replica.changesSince(since, {
        onlySite: this.#replica.site,
        tables: session.tables,
        limit: pageSize,
        after,
      });
      this.#markOwn();
      // An empty last page still closes a unit whose earlier pages are staged.
      if (page.changes.length === 0 && !page.hasMore && part === 0) {
        after = page.cursor;
        break;
      }
      if (page.changes.length === 0 && page.hasMore) {
        after = page.cursor;
        continue;
      }
      this.#setStatus({ pending: page.changes.length });
      const fingerprints = Object.fromEntries(
        session.tables.map((table) => [table, this.#replica.tableInfo(table).fingerprint]),
      );
      const continues = atomic && page.hasMore;
      const result = await this.#request({
        type: 'push',
        id: this.#nextId++,
        site: this.#replica.site,
        upTo: page.cursor,
        changeset: this.#fitToLimit(page.changes, fingerprints),
        ...(continues ? { continues } : {}),
        ...(atomic && part > 0 ? { part } : {}),
        ...(atomic ? { unit } : {}),
      });
      if (result.type !== 'pushResult') throw unexpected(result);
      if (result.accepted && result.staged === true) {
        after = page.cursor;
        part++;
        continue;
      }
      part = 0;
      unit = this.#unitName();
      if (result.accepted) {
        this.#setStatus({ serverVersion: result.serverVersion });
        // Rows the server holds in a later life than ours (deleted before this device saw them):
        // take its state back, or they would linger here.
        if (result.repair.length > 0 || result.evictions.length > 0) {
          const repair = decodeChangeset(result.repair).changes;
          const lost = this.#supersededWrites(repair, result.evictions);
          this.#replica.takeBack(repair, result.evictions.map(toEviction));
          this.#markOwn();
          this.#tellRefusals(lost);
        }
        after = page.cursor;
        if (!page.hasMore) break;
      } else {
        // Take the server's state back for refused rows; the rest of the batch goes again (the
        // whole unit: nothing of it was applied).
        refusedRows.push(...result.refusals);
        this.#takeBackRefused(result);
        if (atomic) after = since;
      }
    }
    this.#saved.acked = Math.max(this.#saved.acked, after);
    this.#save();
    // Keep the last refusals on view until a push goes through whole.
    if (refusedRows.length > 0 || this.#status.refusedRows.length === 0)
      this.#setStatus({ refusedRows });
  }

  /** A fresh name for a push unit: only the server's staging compares it. */
  #unitName(): string {
    return `${this.#nextId}-${Math.floor(this.#env.random() * 2 ** 48).toString(36)}`;
  }

  async #pull(session: Session): Promise<void> {
    const limit = this.#options.pageSize ?? 1000;
    // Pages that end inside one server unit (a push the server applied in one transaction) are
    // held here and applied with the page that ends it: the app never reads part of another
    // device's transaction. Nothing held is saved, so a restart pulls the unit again.
    type Held = { changes: Change[]; evictions: Eviction[]; fingerprints: Record<string, string> };
    let held: Held = { changes: [], evictions: [], fingerprints: {} };
    let cursor = this.#saved.cursor;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const page = await this.#request({
        type: 'pull',
        id: this.#nextId++,
        site: this.#replica.site,
        cursor,
        // Where this run of pages began (kept across restarts): see `#push` for why pages after
        // the first need it.
        since: this.#saved.since ?? this.#saved.cursor,
        limit,
        tables: session.tables,
        pending: this.#status.pending,
        fingerprints: Object.fromEntries(
          session.tables.map((table) => [table, this.#replica.tableInfo(table).fingerprint]),
        ),
      });
      if (page.type !== 'changes') throw unexpected(page);
      this.#checkOwnMark();
      if (page.continues === true && page.hasMore) {
        const decoded = decodeChangeset(page.changeset);
        held = holdPage(held, decoded.changes, decoded.fingerprints, page.evictions);
        cursor = page.cursor;
        continue;
      }
      if (held.changes.length === 0 && held.evictions.length === 0) {
        // Row-level security: rows that left this user's scope are dropped locally.
        if (page.evictions.length > 0) this.#replica.evict(page.evictions.map(toEviction));
        // The bytes go in as they came: a page of rows new here (an initial sync) is then
        // written without being decoded into change objects first.
        this.#replica.applyChanges(page.changeset);
      } else {
        const decoded = decodeChangeset(page.changeset);
        held = holdPage(held, decoded.changes, decoded.fingerprints, page.evictions);
        if (held.evictions.length > 0) this.#replica.evict(held.evictions.map(toEviction));
        this.#replica.applyChanges({ changes: held.changes, fingerprints: held.fingerprints });
        held = { changes: [], evictions: [], fingerprints: {} };
      }
      cursor = page.cursor;
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
    this.#lastPushBytes = message.type === 'push' ? message.changeset.length : undefined;
    const release = this.#releaseOnAccept;
    this.#releaseOnAccept = undefined;
    const response = await this.#options.transport.request(message);
    logAnswer(this.#options.logger, message, response);
    if (release && response.type === 'pushResult' && response.accepted) this.#release(release);
    if (response.type === 'welcome' && response.maxMessageBytes !== undefined)
      this.#maxMessageBytes = response.maxMessageBytes;
    if (response.type === 'welcome') this.#migration = response.migration ?? 0;
    else if ('migration' in response && (response.migration ?? 0) > this.#migration) {
      // The server migrated its schema under this session: a new hello learns what it means
      // for each table (kept syncing, narrowed, refused, or back in sync for a client ahead).
      this.#migration = response.migration ?? 0;
      this.#session = undefined;
      this.#again = true;
    }
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
    const pending = this.#pendingCount(this.#session);
    this.#setStatus({ state: offline ? 'offline' : 'error', error: typed, pending });
    if (this.#stopped || !this.#started) return;
    if (this.#retryTimer !== undefined) this.#timers.clearTimeout(this.#retryTimer);
    const delay = backoffDelay(
      this.#options.backoff ?? DEFAULT_BACKOFF,
      this.#attempt++,
      this.#env.random,
    );
    logRetry(this.#options.logger, this.#attempt, delay, offline ? 'offline' : 'error', typed);
    this.#retryTimer = this.#timers.setTimeout(() => {
      this.#retryTimer = undefined;
      this.#schedule(0);
    }, delay);
  }

  /**
   * Encodes a push page so that the frame fits the server's limit: a row that alone cannot fit
   * is taken out, held back and told to the app, so one oversized row no longer fails every
   * push of everything else. Rows are only measured one by one when the whole page is too big.
   * A held row goes again, whole (its sentinel and every cell: the server never got its earlier
   * changes), once it changed, or at once if it was only held for room.
   */
  #fitToLimit(changes: readonly Change[], fingerprints: Record<string, string>): Uint8Array {
    const held = this.#saved.held ?? [];
    const limit =
      this.#maxMessageBytes === undefined ? undefined : this.#maxMessageBytes - PUSH_HEADER_ROOM;
    const rows = new Map<string, Change[]>();
    for (const change of changes) {
      const id = rowKey(change.table, bytesToHex(change.pk));
      const row = rows.get(id);
      if (row) row.push(change);
      else rows.set(id, [change]);
    }
    for (const entry of held) {
      const id = rowKey(entry.table, entry.pk);
      if (!rows.has(id) && limit !== undefined && entry.size > limit) continue;
      if (!this.#replica.syncedTables().includes(entry.table)) continue;
      rows.set(id, this.#replica.rowsState(entry.table, [hexToBytes(entry.pk)]));
    }
    const all = held.length === 0 ? changes : [...rows.values()].flat();
    const bytes = encodeChangeset({ changes: all, fingerprints });
    if (limit === undefined || bytes.length <= limit) {
      if (held.length > 0) this.#releaseOnAccept = [...rows.keys()];
      return bytes;
    }
    const sized = [...rows.entries()].map(([id, row]) => ({
      id,
      row,
      size: encodeChangeset({ changes: row, fingerprints }).length,
    }));
    const over = sized.filter((entry) => entry.size > limit);
    // Every row fits alone but not all together (a server that did not say its limit, or many
    // large rows): hold the largest back for the next round until the rest fits.
    const kept = sized.filter((entry) => entry.size <= limit).sort((a, b) => a.size - b.size);
    const room: typeof kept = [];
    let keptBytes = encodeChangeset({ changes: kept.flatMap((e) => e.row), fingerprints });
    while (kept.length > 1 && keptBytes.length > limit) {
      room.push(kept.pop()!);
      keptBytes = encodeChangeset({ changes: kept.flatMap((e) => e.row), fingerprints });
    }
    if (keptBytes.length > limit) room.push(...kept.splice(0));
    const wasHeld = new Map(held.map((entry) => [rowKey(entry.table, entry.pk), entry]));
    const changed = new Set(changes.map((change) => rowKey(change.table, bytesToHex(change.pk))));
    const tooLarge: WriteRefusal[] = [];
    const nextHeld = held.filter((entry) => !rows.has(rowKey(entry.table, entry.pk)));
    for (const entry of [...over, ...room]) {
      const first = entry.row[0]!;
      const pk = bytesToHex(first.pk);
      // A row held for room only goes in the next round: not a refusal. An oversized one is
      // told when it is first found so and whenever it changed; not on every retry.
      const before = wasHeld.get(entry.id);
      const tell = entry.size > limit && !(before?.told === true && !changed.has(entry.id));
      nextHeld.push({
        table: first.table,
        pk,
        changes: entry.row.length,
        size: entry.size,
        told: entry.size > limit,
      });
      if (tell) tooLarge.push(this.#tooLarge(first.table, first.pk, entry.size));
    }
    if (room.length > 0) this.#retryHeld = true;
    this.#saved.held = nextHeld;
    this.#save();
    this.#setStatus({ oversizedRows: this.#oversizedView() });
    this.#tellRefusals(tooLarge);
    return keptBytes;
  }

  /**
   * Sends the rows a push held back for room only (each fits alone, not with the rest), in
   * pushes of their own: their changes are at or below `acked`, so no page lists them again.
   */
  async #pushHeld(session: Session): Promise<void> {
    const fingerprints = Object.fromEntries(
      session.tables.map((table) => [table, this.#replica.tableInfo(table).fingerprint]),
    );
    for (let round = 0; round < 1_000 && this.#retryHeld; round++) {
      const limit =
        this.#maxMessageBytes === undefined ? undefined : this.#maxMessageBytes - PUSH_HEADER_ROOM;
      if (!(this.#saved.held ?? []).some((h) => limit === undefined || h.size <= limit)) {
        // What waited for room turned out, once the limit was learned, not to fit at all.
        const untold = (this.#saved.held ?? []).filter((h) => !h.told);
        for (const h of untold) h.told = true;
        this.#save();
        this.#tellRefusals(untold.map((h) => this.#tooLarge(h.table, hexToBytes(h.pk), h.size)));
        break;
      }
      // Cleared first: the fit sets it again when some rows still have to wait for room.
      this.#retryHeld = false;
      const result = await this.#request({
        type: 'push',
        id: this.#nextId++,
        site: this.#replica.site,
        upTo: this.#saved.acked,
        changeset: this.#fitToLimit([], fingerprints),
      }).catch((error: unknown) => {
        // Still to be sent once the limit is learned (see #cycle).
        this.#retryHeld = true;
        throw error;
      });
      if (result.type !== 'pushResult') throw unexpected(result);
      if (!result.accepted) this.#takeBackRefused(result);
    }
  }

  /**
   * Takes the server's state back for the rows a push had refused, and tells the app which of its
   * writes were lost (read before the take-back overwrites them).
   */
  #takeBackRefused(result: Extract<ServerMessage, { type: 'pushResult' }>): void {
    const lost = this.#refusedWrites(result.refusals);
    this.#replica.takeBack(
      decodeChangeset(result.repair).changes,
      result.evictions.map(toEviction),
    );
    this.#markOwn();
    this.#tellRefusals(lost);
  }

  #tooLarge(table: string, pk: Uint8Array, size: number): WriteRefusal {
    return this.#writeRefusal(
      'too-large',
      table,
      pk,
      `the row takes ${size} bytes on the wire, over the server's message limit of ${this.#maxMessageBytes} bytes; make it smaller (store large blobs outside the synced table) or raise the server's maxMessageBytes`,
    );
  }

  /**
   * Held-back rows that went again (they changed and now fit) are no longer held, once the
   * server accepted the push that carried them.
   */
  #release(sentRows: Iterable<string>): void {
    const held = this.#saved.held;
    if (!held || held.length === 0) return;
    const sent = new Set(sentRows);
    const still = held.filter((h) => !sent.has(rowKey(h.table, h.pk)));
    if (still.length === held.length) return;
    this.#saved.held = still;
    this.#save();
    this.#setStatus({ oversizedRows: this.#oversizedView() });
  }

  /**
   * When the set of locally drifted tables (see `SqliteReplica.schemaDrift`) changed, the
   * session's tables are stale: returns undefined after dropping it, so a new hello follows.
   */
  #dropSessionOnDrift(): undefined {
    const names = [...this.#replica.schemaDrift().keys()].sort().join('\u0000');
    if (names !== this.#driftNames) {
      this.#driftNames = names;
      this.#session = undefined;
    }
    return undefined;
  }

  /**
   * After `replica.migrate` (or any alter) the session's hello declared stale fingerprints:
   * returns undefined after dropping it, so a new hello follows.
   */
  #dropSessionOnMigrate(): undefined {
    if (this.#session === undefined) return undefined;
    const schemas: Record<string, DeclaredSchema> = {};
    for (const table of this.#replica.syncedTables()) {
      const info = this.#replica.tableInfo(table);
      schemas[table] = { canonical: info.canonical, fingerprint: info.fingerprint };
    }
    if (declaredKey(schemas) !== this.#declared) this.#session = undefined;
    return undefined;
  }

  /**
   * Tables the server refused before and syncs now: this device's changes to them were never
   * sent (`acked` moved past them) and the pull cursor moved past the server's. Pushes all of
   * this device's changes to them and pulls them from the start; both are idempotent merges,
   * so doing it again after a crash is safe.
   */
  async #catchUp(session: Session): Promise<void> {
    const tables = (this.#saved.catchUp ?? []).filter((table) => session.tables.includes(table));
    if (tables.length === 0) return;
    const limit = this.#options.pageSize ?? 1000;
    const site = this.#replica.site;
    const fingerprints = Object.fromEntries(
      tables.map((table) => [table, this.#replica.tableInfo(table).fingerprint]),
    );
    for (let after = 0, guard = 0; guard < 1_000_000; guard++) {
      const page = this.#replica.changesSince(0, { onlySite: site, tables, limit, after });
      if (page.changes.length > 0) {
        const result = await this.#request({
          type: 'push',
          id: this.#nextId++,
          site,
          upTo: this.#saved.acked,
          changeset: encodeChangeset({ changes: page.changes, fingerprints }),
        });
        if (result.type !== 'pushResult') throw unexpected(result);
        if (!result.accepted) this.#takeBackRefused(result);
      }
      after = page.cursor;
      if (!page.hasMore) break;
    }
    for (let cursor = 0, guard = 0; guard < 1_000_000; guard++) {
      const page = await this.#request({
        type: 'pull',
        id: this.#nextId++,
        site,
        cursor,
        since: 0,
        limit,
        tables,
        pending: this.#status.pending,
        fingerprints,
      });
      if (page.type !== 'changes') throw unexpected(page);
      if (page.evictions.length > 0) this.#replica.evict(page.evictions.map(toEviction));
      this.#replica.applyChanges(page.changeset);
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    this.#saved.catchUp = (this.#saved.catchUp ?? []).filter((table) => !tables.includes(table));
    this.#save();
    this.#markOwn();
  }

  /**
   * A table whose local schema was changed without beginAlter is left out of the session (its
   * changes cannot be read or merged) and shown in `refusedTables` with the fix; the others
   * keep syncing.
   */
  #withoutDrift(session: Session): Session {
    const drift = this.#replica.schemaDrift();
    if (drift.size === 0) return session;
    const refused: Record<string, TableRefusal> = { ...this.#status.refusedTables };
    for (const [table, error] of drift)
      refused[table] = { code: 'schema-mismatch', message: error.message };
    this.#setStatus({ refusedTables: refused });
    if (!session.tables.some((table) => drift.has(table))) return session;
    const narrowed: Session = {
      ...session,
      tables: session.tables.filter((table) => !drift.has(table)),
    };
    this.#session = narrowed;
    return narrowed;
  }

  #oversizedView(): SyncStatus['oversizedRows'] {
    return (this.#saved.held ?? []).map((h) => {
      let key: SqlValue[] = [];
      try {
        key = unpackPrimaryKey(hexToBytes(h.pk));
      } catch {
        // Shown without its key rather than not at all.
      }
      return { table: h.table, key };
    });
  }

  /**
   * Local changes the server does not hold, read from the replica rather than assumed: those
   * after the acknowledged sequence in the tables this session syncs, and every local change of
   * a table the server refuses (they were never sent, and `acked` moves past them).
   */
  #pendingCount(session: Session | undefined): number {
    try {
      const site = this.#replica.site;
      const synced = this.#replica.syncedTables();
      const tables = session ? synced.filter((table) => session.tables.includes(table)) : synced;
      let pending = this.#replica.changesSince(this.#saved.acked, { onlySite: site, tables })
        .changes.length;
      const held = session ? synced.filter((table) => !session.tables.includes(table)) : [];
      if (held.length > 0)
        pending += this.#replica.changesSince(0, { onlySite: site, tables: held }).changes.length;
      for (const row of this.#saved.held ?? []) pending += row.changes;
      return pending;
    } catch {
      // Keep the last count if the database cannot be read now (closing, mid-alter).
      return this.#status.pending;
    }
  }

  /** What the app is about to lose with the server's refusals (read before the take-back). */
  #refusedWrites(refusals: readonly RowRefusal[]): WriteRefusal[] {
    return refusals.map((refusal) =>
      this.#writeRefusal('refused', refusal.table, hexToBytes(refusal.pk), refusal.reason),
    );
  }

  /**
   * Local rows the server holds in a later life (deleted or re-created on a device this one had
   * not heard from): their local life is discarded by the merge, as the CRDT says it must be,
   * but the app still has to hear that its write did not survive.
   */
  #supersededWrites(repair: readonly Change[], evictions: readonly Eviction[]): WriteRefusal[] {
    const lost: WriteRefusal[] = [];
    // An accepted push evicts only rows whose later life this user may not see (a deleted row
    // is visible to no select policy): the write lost all the same.
    for (const eviction of evictions) {
      if (!this.#replica.syncedTables().includes(eviction.table)) continue;
      lost.push(
        this.#writeRefusal(
          'superseded',
          eviction.table,
          hexToBytes(eviction.pk),
          'the server holds a later life of the row (deleted on another device before this write reached the server)',
        ),
      );
    }
    for (const change of repair) {
      if (change.column !== null || !this.#replica.syncedTables().includes(change.table)) continue;
      const local = this.#replica
        .rowsState(change.table, [change.pk])
        .find((cell) => cell.column === null);
      if (local === undefined || local.cl >= change.cl) continue;
      lost.push(
        this.#writeRefusal(
          'superseded',
          change.table,
          change.pk,
          change.cl % 2 === 0
            ? 'the row was deleted on another device before this write reached the server'
            : 'the row was deleted and created again on another device before this write reached the server',
        ),
      );
    }
    return lost;
  }

  #writeRefusal(
    kind: WriteRefusal['kind'],
    table: string,
    pk: Uint8Array,
    reason: string,
  ): WriteRefusal {
    let key: SqlValue[] = [];
    const values: Record<string, SqlValue> = {};
    let deleted = false;
    try {
      key = unpackPrimaryKey(pk);
      const state = this.#replica.rowsState(table, [pk]);
      deleted = (state.find((cell) => cell.column === null)?.cl ?? 1) % 2 === 0;
      for (const cell of state) if (cell.column !== null) values[cell.column] = cell.value;
    } catch {
      // A key or table this replica cannot read still gets reported, with what is known.
    }
    return { kind, table, key, values, deleted, reason };
  }

  #tellRefusals(refusals: readonly WriteRefusal[]): void {
    for (const refusal of refusals) logRefusal(this.#options.logger, refusal);
    for (const refusal of refusals)
      for (const listener of this.#refusalListeners) {
        try {
          listener(refusal);
        } catch {
          // An app's listener that throws must not stop the sync loop.
        }
      }
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

/**
 * Adds a pulled page to the held part of a unit. A row the page evicts loses what earlier held
 * pages brought for it (applied in page order, the eviction would have come after them).
 */
function holdPage(
  held: { changes: Change[]; evictions: Eviction[]; fingerprints: Record<string, string> },
  changes: readonly Change[],
  fingerprints: Readonly<Record<string, string>> | undefined,
  evictions: readonly Eviction[],
): { changes: Change[]; evictions: Eviction[]; fingerprints: Record<string, string> } {
  const evicted = new Set(evictions.map((eviction) => `${eviction.table}\u0000${eviction.pk}`));
  const kept =
    evicted.size === 0
      ? held.changes
      : held.changes.filter(
          (change) => !evicted.has(`${change.table}\u0000${bytesToHex(change.pk)}`),
        );
  return {
    changes: kept.concat(changes),
    evictions: held.evictions.concat(evictions),
    fingerprints: { ...held.fingerprints, ...fingerprints },
  };
}

/** The declared schemas as one comparable string. */
function declaredKey(schemas: Readonly<Record<string, DeclaredSchema>>): string {
  return Object.keys(schemas)
    .sort()
    .map((table) => `${table}\u0000${schemas[table]!.fingerprint}`)
    .join('\u0001');
}

function rowKey(table: string, pkHex: string): string {
  return `${table}\u0000${pkHex}`;
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
