import { createHash } from 'node:crypto';
import {
  ApplyError,
  type ClientMessage,
  DecodeError,
  DriftError,
  decodeChangeset,
  InvalidChangeError,
  NotSyncedError,
  OffsyncError,
  PROTOCOL_VERSION,
  ProtocolError,
  SchemaError,
  SchemaMismatchError,
  type ServerMessage,
} from '@offsync/core';
import { AuthError, type Authenticator, type Principal } from '../auth/index.js';
import { PolicyError } from '../rls/index.js';
import type { CentralDatabase } from './central-database.js';
import { type CentralStore, DatabaseError } from './central-store.js';
import type { ServerLimits } from './limits.js';

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

  constructor(options: {
    readonly store: CentralStore;
    readonly authenticator: Authenticator;
    readonly limits: ServerLimits;
    readonly now: () => number;
    /** Called after a push changed a database, to tell the other connected clients. */
    readonly notify: (database: string, version: number, except: SyncSession) => void;
  }) {
    this.#store = options.store;
    this.#auth = options.authenticator;
    this.#limits = options.limits;
    this.#now = options.now;
    this.#notify = options.notify;
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
          session.principal = await this.#auth.authenticate(message.token ?? credential);
          session.site = message.site;
          return this.#hello(database, session.principal, message);
        }
        case 'push':
          return this.#push(database, await this.#principal(session, credential), message);
        case 'pull':
          return this.#pull(database, await this.#principal(session, credential), message);
      }
    } catch (error) {
      return errorMessage(message.id, error);
    }
  }

  async #principal(session: SyncSession, credential: string | undefined): Promise<Principal> {
    if (credential !== undefined || session.principal === undefined) {
      session.principal = await this.#auth.authenticate(credential);
    }
    const principal = session.principal;
    if (principal.kind === 'user' && principal.expiresAt * 1000 <= this.#now()) {
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
    const { tables, refused } = database.negotiate(message.schemas);
    const user = userOf(principal);
    const known = database.devices.get(message.site);
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
    };
  }

  #push(
    database: CentralDatabase,
    principal: Principal,
    message: Extract<ClientMessage, { type: 'push' }>,
  ): ServerMessage {
    const count = decodeChangeset(message.changeset).changes.length;
    if (count > this.#limits.maxBatchChanges) {
      throw new RequestError(
        'too-many-changes',
        413,
        `a push of ${count} changes exceeds the limit of ${this.#limits.maxBatchChanges}; send smaller pages`,
      );
    }
    const user = userOf(principal);
    const before = database.version;
    const outcome = database.push(principal, message.changeset);
    const now = this.#now();
    if (outcome.accepted) {
      database.devices.recordPush(
        message.site,
        user,
        message.upTo,
        message.changeset.length,
        outcome.rows,
        now,
      );
      if (database.version !== before)
        this.#notify(database.name, database.version, { principal, site: message.site });
    } else {
      database.devices.recordRefusedPush(message.site, user, message.changeset.length, now);
    }
    return {
      type: 'pushResult',
      id: message.id,
      accepted: outcome.accepted,
      acked: database.devices.get(message.site)?.acked ?? 0,
      serverVersion: database.version,
      refusals: outcome.refusals,
      repair: outcome.repair,
      evictions: outcome.evictions,
    };
  }

  #pull(
    database: CentralDatabase,
    principal: Principal,
    message: Extract<ClientMessage, { type: 'pull' }>,
  ): ServerMessage {
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
    const page = database.pull(
      principal,
      message.site,
      message.cursor,
      limit,
      message.tables,
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
      changeset: page.changeset,
      evictions: page.evictions,
    };
  }
}

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
    return [error.code === 'forbidden' ? 'forbidden' : 'unauthorized', error.status];
  if (error instanceof RequestError) return [error.code, error.status];
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
