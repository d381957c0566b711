import { createHash } from 'node:crypto';
import {
  ApplyError,
  bytesToHex,
  type ClientMessage,
  DecodeError,
  DriftError,
  hlcToString,
  InvalidChangeError,
  NotSyncedError,
  OffsyncError,
  ProtocolError,
  SchemaError,
  SchemaMismatchError,
  type ServerMessage,
} from '@offsync/core';
import { decodeChangeset, encodeChangeset, PROTOCOL_VERSION } from '@offsync/core/codec';
import {
  AuthError,
  type Authenticator,
  checkDatabaseBinding,
  DEFAULT_CLOCK_LEEWAY_SECONDS,
  type Principal,
} from '../auth/index.js';
import { PolicyError } from '../rls/index.js';
import type { CentralDatabase, StagedUnit } from './central-database.js';
import { type CentralStore, DatabaseError } from './central-store.js';
import type { ServerLimits } from './limits.js';
import {
  liftPush,
  migrationField,
  narrowChangeset,
  pullViews,
  reviewNegotiation,
} from './migration-views.js';
import { PushSchemaError, SiteMismatchError } from './push-check.js';

/**
 * A client connection's state across requests (a WebSocket keeps one; HTTP requests carry
 * everything and get a fresh one each time).
 *
 * @example
 * ```ts
 * const session: SyncSession = { principal: undefined, site: undefined };
 * ```
 */
export interface SyncSession {
  /** Who the client authenticated as (after `hello`, or from the request's credential). */
  principal: Principal | undefined;
  /** The client's site id. */
  site: string | undefined;
  /** The tables the session's hello agreed on (a push may write only these). */
  tables?: ReadonlySet<string>;
  /** The multi-page push units this connection is sending, by name (dropped with it). */
  staged?: Map<string, StagedUnit>;
}

/**
 * A request the service refuses as a whole, with an HTTP-like status.
 *
 * @example
 * ```ts
 * throw new RequestError('too-large', 413, 'push of 300000 changes exceeds 200000');
 * ```
 */
export class RequestError extends OffsyncError {
  readonly type = 'RequestError';
  /** Machine-readable code. */
  readonly code: string;
  /** HTTP status. */
  readonly status: number;

  constructor(code: string, status: number, message: string) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/**
 * The sync protocol on the server side, independent of transport: turns one client message into
 * one response. HTTP and WebSocket handlers both call it.
 *
 * @example
 * ```ts
 * const response = await service.handle('todos', session, message, authorizationHeader);
 * ```
 */
export class SyncService {
  readonly #store: CentralStore;
  readonly #auth: Authenticator;
  readonly #limits: ServerLimits;
  readonly #now: () => number;
  readonly #notify: (database: string, version: number, except: SyncSession) => void;
  readonly #clockLeewayMs: number;
  readonly #requireDatabaseAudience: boolean;

  constructor(options: {
    readonly store: CentralStore;
    readonly authenticator: Authenticator;
    readonly limits: ServerLimits;
    readonly now: () => number;
    /** Called after a push changed a database, to tell the other connected clients. */
    readonly notify: (database: string, version: number, except: SyncSession) => void;
    /**
     * How long after its `exp` a user token is still honoured on an open session, in ms: the
     * same leeway the token verifier grants at hello, so a session never outlives what a fresh
     * request with the same token would be allowed (default 30,000).
     */
    readonly clockLeewayMs?: number;
    /** Refuse user tokens whose `aud` names no database (see {@link checkDatabaseBinding}). */
    readonly requireDatabaseAudience?: boolean;
  }) {
    this.#store = options.store;
    this.#auth = options.authenticator;
    this.#limits = options.limits;
    this.#now = options.now;
    this.#notify = options.notify;
    this.#clockLeewayMs = options.clockLeewayMs ?? DEFAULT_CLOCK_LEEWAY_SECONDS * 1000;
    this.#requireDatabaseAudience = options.requireDatabaseAudience ?? false;
  }

  /**
   * When a session must end, in ms since the Unix epoch: its user token's `exp` plus the clock
   * leeway; `undefined` for API keys (which do not expire) and sessions not yet authenticated.
   * The WebSocket server closes the socket at this time.
   *
   * @example
   * ```ts
   * const deadline = service.sessionDeadline(session);
   * if (deadline !== undefined) setTimeout(() => socket.close(4001, 'token expired'), deadline - Date.now());
   * ```
   */
  sessionDeadline(session: SyncSession): number | undefined {
    const principal = session.principal;
    return principal?.kind === 'user' ? principal.expiresAt + this.#clockLeewayMs : undefined;
  }

  /**
   * Handles one message. Never throws: failures become `error` messages with a code and status.
   * `credential` is the request's Authorization header (HTTP); a WebSocket authenticates once
   * with the token in `hello`.
   */
  async handle(
    databaseName: string,
    session: SyncSession,
    message: ClientMessage,
    credential?: string,
  ): Promise<ServerMessage> {
    try {
      const database = this.#store.open(databaseName);
      switch (message.type) {
        case 'hello': {
          const principal = await this.#auth.authenticate(
            message.token ?? credential,
            databaseName,
          );
          checkDatabaseBinding(principal, databaseName, this.#requireDatabaseAudience);
          // A hello must not take over another user's device: its site would then speak for that
          // device, and changes stamped with it would be hidden from it forever.
          ownSite(database, principal, { principal, site: undefined }, message.site);
          session.principal = principal;
          session.site = message.site;
          return remembered(database, session, this.#hello(database, session.principal, message));
        }
        case 'push':
          return this.#push(
            database,
            await this.#principal(databaseName, session, credential),
            message,
            session,
          );
        case 'pull':
          return this.#pull(
            database,
            await this.#principal(databaseName, session, credential),
            message,
            session,
          );
      }
    } catch (error) {
      return errorMessage(message.id, error);
    }
  }

  async #principal(
    databaseName: string,
    session: SyncSession,
    credential: string | undefined,
  ): Promise<Principal> {
    if (credential !== undefined || session.principal === undefined) {
      const authenticated = await this.#auth.authenticate(credential, databaseName);
      checkDatabaseBinding(authenticated, databaseName, this.#requireDatabaseAudience);
      session.principal = authenticated;
    }
    const principal = session.principal;
    // expiresAt is already in ms; the leeway matches the verifier's, so the verdict on an open
    // session is the one a fresh request with the same token would get.
    const deadline = this.sessionDeadline(session);
    if (deadline !== undefined && deadline <= this.#now()) {
      session.principal = undefined;
      throw new AuthError(
        'expired',
        'the token expired during the session; reconnect with a fresh one',
      );
    }
    return principal;
  }

  #hello(
    database: CentralDatabase,
    principal: Principal,
    message: Extract<ClientMessage, { type: 'hello' }>,
  ): ServerMessage {
    if (message.protocol !== PROTOCOL_VERSION) {
      throw new RequestError(
        'protocol-version',
        400,
        `protocol version ${message.protocol} is not supported; this server speaks ${PROTOCOL_VERSION}`,
      );
    }
    // A client at an older schema a migration only added to keeps syncing (migration-views.ts).
    const { tables, refused, upgrades } = reviewNegotiation(
      database,
      message.schemas,
      database.negotiate(message.schemas),
    );
    const user = userOf(principal);
    const known = database.devices.get(message.site);
    // One index read (offsync_stamps by site); a malformed site id holds no stamps.
    const siteStamp = /^[0-9a-f]{32}$/.test(message.site)
      ? database.replica.latestStampFrom(message.site)
      : undefined;
    database.devices.seen(message.site, user, this.#now());
    const filtered = principal.kind === 'user';
    let resync = false;
    if (filtered) {
      const scope = scopeOf(principal.claims, database.devices.scopeVersion);
      const recorded = known?.scope;
      if (recorded === undefined) {
        database.devices.setScope(message.site, scope);
      } else if (recorded !== scope) {
        // The device drops its rows and pulls from the start; its new scope takes effect when that
        // pull begins, so a device that crashes before dropping is told to resync again.
        resync = true;
        database.forgetDevice(message.site);
        database.devices.setScope(message.site, `${PENDING}${scope}`);
      }
    }
    return {
      type: 'welcome',
      id: message.id,
      serverSite: database.replica.site,
      serverVersion: database.version,
      acked: known?.acked ?? 0,
      tables,
      refused,
      filtered,
      resync,
      maxMessageBytes: this.#limits.maxMessageBytes,
      ...migrationField(database),
      ...(upgrades.length === 0 ? {} : { upgrades }),
      // Lets a device restored from a backup see that it is behind its own earlier self.
      ...(siteStamp === undefined ? {} : { siteStamp: hlcToString(siteStamp) }),
    };
  }

  #push(
    database: CentralDatabase,
    principal: Principal,
    message: Extract<ClientMessage, { type: 'push' }>,
    session: SyncSession,
  ): ServerMessage {
    ownSite(database, principal, session, message.site);
    const raw = decodeChangeset(message.changeset);
    // A client at an older, additively migrated schema pushes the columns it has.
    const { changeset: decoded, views } = liftPush(database, raw);
    const count = decoded.changes.length;
    if (count > this.#limits.maxBatchChanges) {
      throw new RequestError(
        'too-many-changes',
        413,
        `a push of ${count} changes exceeds the limit of ${this.#limits.maxBatchChanges}; send smaller pages`,
      );
    }
    const user = userOf(principal);
    const before = database.version;
    const negotiated = session.tables ?? database.negotiatedTables(message.site);
    const checks = { site: message.site, ...(negotiated === undefined ? {} : { negotiated }) };
    // A WebSocket keeps its staged units with the connection, so a cut discards them; HTTP
    // requests share none, so the database keeps them by site. Units are told apart by name, so a
    // duplicated or late page of one never breaks another.
    const onSocket = session.site !== undefined;
    let units = onSocket ? session.staged : database.stagedUnits.get(message.site);
    if (!units) {
      units = new Map();
      if (onSocket) session.staged = units;
      else database.stagedUnits.set(message.site, units);
    }
    const name = message.unit ?? '';
    const part = message.part ?? 0;
    const staged = units.get(name);
    if (message.unit !== undefined && staged !== undefined && part < staged.next) {
      // A page staged already (a duplicate; names are fresh per run): nothing more to do.
      return this.#stagedResult(database, message);
    }
    if (part > 0 && staged?.next !== part) {
      units.delete(name);
      throw new RequestError(
        'unit-broken',
        409,
        `page ${part} of a push unit whose earlier pages are not staged here (a cut connection or a restart dropped them); push the unit again from its first page`,
      );
    }
    const earlier = part > 0 ? staged : undefined;
    if (message.continues === true) {
      database.checkPush(decoded, checks);
      const changes = [...(earlier?.changes ?? []), ...decoded.changes];
      const total = [...units.values()].reduce(
        (sum, unit) => sum + (unit === staged ? 0 : unit.changes.length),
        changes.length,
      );
      if (total > this.#limits.maxUnitChanges) {
        units.delete(name);
        throw new RequestError(
          'unit-too-large',
          413,
          `a push unit of over ${this.#limits.maxUnitChanges} changes (one local transaction) exceeds the server's limit; write it in smaller transactions`,
        );
      }
      units.delete(name);
      // Only the latest few units of a device can still complete; older ones were abandoned.
      while (units.size >= MAX_STAGED_UNITS) units.delete(units.keys().next().value as string);
      units.set(name, {
        next: part + 1,
        changes,
        fingerprints: { ...earlier?.fingerprints, ...decoded.fingerprints },
        bytes: (earlier?.bytes ?? 0) + message.changeset.length,
      });
      return this.#stagedResult(database, message);
    }
    units.delete(name);
    const unit = earlier
      ? encodeChangeset({
          changes: [...earlier.changes, ...decoded.changes],
          fingerprints: { ...earlier.fingerprints, ...decoded.fingerprints },
        })
      : decoded === raw
        ? message.changeset
        : encodeChangeset(decoded);
    const bytes = (earlier?.bytes ?? 0) + message.changeset.length;
    const outcome = database.push(principal, unit, checks);
    const now = this.#now();
    if (outcome.accepted) {
      database.devices.recordPush(
        message.site,
        user,
        message.upTo,
        bytes,
        outcome.rows,
        now,
        // Rows of the push that lost to a later life on the server: the device is told, and so
        // is the dashboard.
        outcome.evictions.length + rowsIn(outcome.repair),
      );
      if (database.version !== before)
        this.#notify(database.name, database.version, { principal, site: message.site });
    } else {
      database.devices.recordRefusedPush(message.site, user, bytes, now, outcome.refusals.length);
    }
    return {
      type: 'pushResult',
      id: message.id,
      accepted: outcome.accepted,
      acked: database.devices.get(message.site)?.acked ?? 0,
      serverVersion: database.version,
      refusals: outcome.refusals,
      repair: narrowChangeset(outcome.repair, views),
      evictions: outcome.evictions,
      ...migrationField(database),
    };
  }

  #stagedResult(
    database: CentralDatabase,
    message: Extract<ClientMessage, { type: 'push' }>,
  ): ServerMessage {
    return {
      type: 'pushResult',
      id: message.id,
      accepted: true,
      acked: database.devices.get(message.site)?.acked ?? 0,
      serverVersion: database.version,
      refusals: [],
      repair: new Uint8Array(0),
      evictions: [],
      staged: true,
    };
  }

  #pull(
    database: CentralDatabase,
    principal: Principal,
    message: Extract<ClientMessage, { type: 'pull' }>,
    session: SyncSession,
  ): ServerMessage {
    // A pull moves the device's record (rows held, pending count, last sync): only that device's
    // own session may make it.
    ownSite(database, principal, session, message.site);
    if (principal.kind === 'user') {
      // Policies, synced tables or claims changed since this device's hello: its rows were
      // filtered under the old scope and rows that left it would stay on the device, so it must
      // say hello again (which answers `resync`).
      const recorded = database.devices.get(message.site)?.scope;
      const scope = scopeOf(principal.claims, database.devices.scopeVersion);
      if (recorded === `${PENDING}${scope}` && message.cursor === 0 && (message.since ?? 0) === 0) {
        // The resyncing device dropped its rows and pulls from the start.
        database.devices.setScope(message.site, scope);
      } else if (recorded !== undefined && recorded !== scope) {
        throw new RequestError(
          'scope-changed',
          409,
          'the rows this user may see changed (policies, synced tables or claims); send hello again to resync',
        );
      }
    }
    const limit = Math.max(1, Math.min(message.limit, this.#limits.maxPageRows));
    // Only tables the hello agreed on: a table it refused has another schema on the device, which
    // could not take the server's rows as they are.
    const negotiated = session.tables ?? database.negotiatedTables(message.site);
    const tables = negotiated
      ? message.tables.filter((table) => negotiated.has(table))
      : message.tables;
    const views = pullViews(database, message.fingerprints, tables);
    const page = database.pull(
      principal,
      message.site,
      message.cursor,
      limit,
      tables,
      message.since,
    );
    database.devices.recordPull(
      message.site,
      userOf(principal),
      page.changeset.length,
      message.pending,
      !page.hasMore,
      this.#now(),
    );
    return {
      type: 'changes',
      id: message.id,
      cursor: page.cursor,
      hasMore: page.hasMore,
      serverVersion: database.version,
      changeset: narrowChangeset(page.changeset, views),
      evictions: page.evictions,
      ...(page.continues ? { continues: true } : {}),
      ...migrationField(database),
    };
  }
}

/**
 * Refuses a request made for another site than the session's: on a WebSocket, the site its hello
 * named; for a user, also a site whose device record belongs to another user (an HTTP request
 * carries no hello, and a hello re-binds a device to its new user).
 */
function ownSite(
  database: CentralDatabase,
  principal: Principal,
  session: SyncSession,
  site: string,
): void {
  if (database.devices.revocations.revokedAt(site) !== undefined)
    throw new RequestError('device-revoked', 403, `device ${site} was revoked by an admin`);
  if (session.site !== undefined && session.site !== site)
    throw new SiteMismatchError(
      session.site,
      site,
      'a request names another site than its hello; one session speaks for one device',
    );
  if (principal.kind !== 'user') return;
  const owner = database.devices.get(site)?.user;
  if (owner !== undefined && owner !== principal.sub)
    throw new SiteMismatchError(
      site,
      site,
      `site ${site} is the device of another user; say hello as this device's own site`,
    );
}

/** Keeps what a hello agreed on, so the session's (and the device's) pushes are held to it. */
function remembered(
  database: CentralDatabase,
  session: SyncSession,
  response: ServerMessage,
): ServerMessage {
  if (response.type === 'welcome' && session.site !== undefined) {
    session.tables = new Set(response.tables);
    database.rememberNegotiation(session.site, response.tables);
  }
  return response;
}

/** Units one device may have staged at once: its current one and a few abandoned by cuts. */
const MAX_STAGED_UNITS = 4;

/** Marks a scope a device was told to resync into and has not started pulling under yet. */
const PENDING = 'pending:';

function userOf(principal: Principal): string {
  return principal.kind === 'user' ? principal.sub : `${principal.kind}:${principal.label}`;
}

function scopeOf(claims: Readonly<Record<string, unknown>>, version: number): string {
  const {
    exp: _exp,
    iat: _iat,
    nbf: _nbf,
    jti: _jti,
    ...stable
  } = claims as Record<string, unknown>;
  return createHash('sha256')
    .update(`${version}:${JSON.stringify(stable, Object.keys(stable).sort())}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * The `error` message for a failure: typed errors map to a code and status; anything else is an
 * internal error whose details stay in the server log.
 *
 * @example
 * ```ts
 * socket.send(encodeMessage(errorMessage(message.id, error)));
 * ```
 */
export function errorMessage(id: number, error: unknown): ServerMessage {
  const [code, status] = classify(error);
  const message =
    status === 500
      ? 'internal server error'
      : error instanceof Error
        ? error.message
        : String(error);
  if (status === 500) console.error('offsync: internal error', error);
  return { type: 'error', id, code, status, message };
}

function classify(error: unknown): [string, number] {
  if (error instanceof AuthError)
    return [
      error.code === 'forbidden' ||
      error.code === 'wrong-database' ||
      error.code === 'key-source-unavailable'
        ? error.code
        : 'unauthorized',
      error.status,
    ];
  if (error instanceof RequestError) return [error.code, error.status];
  if (error instanceof SiteMismatchError) return ['site-mismatch', 403];
  if (error instanceof PushSchemaError)
    return [error.code === 'not-enabled' ? 'not-enabled' : 'schema-mismatch', 409];
  if (error instanceof DatabaseError)
    return [
      error.code === 'not-found' ? 'no-such-database' : error.code,
      error.code === 'not-found' ? 404 : 400,
    ];
  if (
    error instanceof DecodeError ||
    error instanceof ProtocolError ||
    error instanceof InvalidChangeError
  )
    return ['bad-request', 400];
  if (error instanceof SchemaMismatchError) return ['schema-mismatch', 409];
  if (error instanceof NotSyncedError) return ['not-enabled', 409];
  if (error instanceof SchemaError) return ['schema', 409];
  if (error instanceof DriftError) return ['clock-drift', 422];
  if (error instanceof ApplyError) return ['refused', 422];
  if (error instanceof PolicyError) return ['policy', 400];
  if (error instanceof OffsyncError) return [error.type, 400];
  return ['internal', 500];
}

/** Distinct rows in an encoded changeset (a push's repair: rare and small). */
function rowsIn(changeset: Uint8Array): number {
  if (changeset.length === 0) return 0;
  const rows = new Set<string>();
  for (const change of decodeChangeset(changeset).changes)
    rows.add(`${change.table}\u0000${bytesToHex(change.pk)}`);
  return rows.size;
}
