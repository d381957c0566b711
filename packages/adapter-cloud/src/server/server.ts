import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { type ClientMessage, OffsyncError, SchemaError, type ServerMessage } from '@offsync/core';
import { decodeClientMessage, encodeMessage } from '@offsync/core/codec';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  ApiKeyStore,
  AuthError,
  Authenticator,
  ensureAdminKey,
  type Principal,
  requireAdmin,
} from '../auth/index.js';
import { tokenVerifierFromConfig } from '../auth/jwt-config.js';
import { UserRevocations } from '../auth/user-revocations.js';
import { PolicyError } from '../rls/index.js';
import { handleAdmin } from './admin-api.js';
import {
  ADMIN_CLOSED_CODE,
  AdminFile,
  type SessionView,
  sendAdminFile,
} from './admin-operations.js';
import { type CentralStore, DatabaseError, SqliteCentralStore } from './central-store.js';
import { CLOSE_CODES, ConnectionFlow, type ConnectionStats } from './connection-flow.js';
import { applyCors } from './cors.js';
import { DEFAULT_LIMITS, RateLimiter, type ServerLimits, TokenBucket } from './limits.js';
import type { LogLevel } from './observability/logger.js';
import { ServerObservability } from './observability/server-observability.js';
import { upgradeOriginAllowed } from './origin-check.js';
import { OriginPolicy } from './origin-policy.js';
import { parseRequestTarget, type RequestTarget } from './request-target.js';
import { isLeewaySeconds, loadServerConfig, ServerConfigError } from './server-config.js';
import { errorMessage, RequestError, SyncService, type SyncSession } from './sync-service.js';

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** The data folder: databases, keys, configuration. */
  readonly dataDir: string;
  /** Port (0 picks a free one). Default 8787. */
  readonly port?: number;
  /** Address to listen on. Default 127.0.0.1. */
  readonly host?: string;
  /** Limits (merged over the defaults). */
  readonly limits?: Partial<ServerLimits>;
  /** Admin key to register at start (else one is generated when none exists). */
  readonly adminKey?: string;
  /** Folder of the dashboard's built assets, served at `/dashboard/`. */
  readonly dashboardDir?: string;
  /** Clock (tests). */
  readonly now?: () => number;
  /** Receives each log line, JSON (default: stdout). */
  readonly log?: (line: string) => void;
  /** Lowest log level written; overrides `log.level` of `server.json` (default `info`). */
  readonly logLevel?: LogLevel;
  /** Store to use instead of the embedded SQLite one. */
  readonly store?: CentralStore;
  /** How often buffered device and traffic records are written (ms, default 2,000). */
  readonly flushIntervalMs?: number;
  /**
   * Leeway for token `exp`/`nbf` against clock skew, in whole seconds; overrides
   * `jwt.clockLeewaySeconds` of `server.json` (default 30). An open WebSocket session is closed
   * (code {@link TOKEN_EXPIRED_CLOSE_CODE}) this long after its token's `exp`.
   */
  readonly clockLeewaySeconds?: number;
}

/**
 * The WebSocket close code the server sends when the session's token expired: 4000 + the HTTP
 * status, like the deadline close 4408 (RFC 6455 leaves 4000–4999 to applications). The client
 * treats it as "get a fresh token and reconnect".
 *
 * @example
 * ```ts
 * socket.addEventListener('close', (event) => {
 *   if (event.code === TOKEN_EXPIRED_CLOSE_CODE) refreshToken();
 * });
 * ```
 */
export const TOKEN_EXPIRED_CLOSE_CODE = 4401;

/**
 * A running server.
 *
 * @example
 * ```ts
 * const server = await startServer({ dataDir: './data', port: 0 });
 * console.log(server.url);
 * await server.close();
 * ```
 */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  /** The port. */
  readonly port: number;
  /** The databases. */
  readonly store: CentralStore;
  /** The admin key generated at this start, if one was (shown once). */
  readonly generatedAdminKey: string | undefined;
  /** Graceful shutdown: stops accepting, lets requests in flight finish, closes sockets and files. */
  close(): Promise<void>;
  /** The open WebSocket connections' flow counters (queued requests, unwritten reply bytes). */
  connections(): readonly ConnectionStats[];
}

interface SocketSession extends SyncSession {
  readonly database: string;
  readonly socket: WebSocket;
  readonly bucket: TokenBucket;
  readonly flow: ConnectionFlow;
  /** Closes the socket when the session's token expires (re-armed by every hello). */
  expiryTimer?: ReturnType<typeof setTimeout>;
}

const TOKEN_EXPIRED_REASON = 'token expired; reconnect with a fresh token';
/** setTimeout's largest delay; a later deadline is re-checked when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/**
 * Starts the sync server: HTTP (sync, admin API, dashboard) and WebSocket on one port, over the
 * databases of a data folder.
 *
 * Sync: `POST /v1/databases/:db/sync` (one framed message in, one out; credential in the
 * Authorization header) and `GET /v1/databases/:db/ws` (WebSocket; `hello` carries the token;
 * the server also sends `notify` when another client changed the database).
 *
 * @example
 * ```ts
 * const server = await startServer({ dataDir: './data', port: 8787 });
 * ```
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const now = options.now ?? (() => Date.now());
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const config = loadServerConfig(options.dataDir);
  const observe = new ServerObservability({
    config,
    ...(options.logLevel ? { level: options.logLevel } : {}),
    ...(options.log ? { write: options.log } : {}),
    now,
    connections: () => [...sessions].map((session) => session.flow.stats),
  });
  const log = (line: string): void => observe.logger.error(line);
  const apiKeys = await ApiKeyStore.open(join(options.dataDir, 'keys.json'));
  // A key from the caller is recorded before listening (its holder knows it). A generated one is
  // only persisted once the server listens: persisted by a start that then failed (port in use),
  // it would never be shown, and every later start would see an admin key and generate none.
  if (options.adminKey) await ensureAdminKey(apiKeys, { fromEnv: options.adminKey });
  const clockLeewaySeconds = options.clockLeewaySeconds ?? config.jwt.clockLeewaySeconds;
  if (clockLeewaySeconds !== undefined && !isLeewaySeconds(clockLeewaySeconds))
    throw new ServerConfigError(
      'ServerOptions.clockLeewaySeconds',
      'must be a whole number of seconds between 0 and 86400',
    );
  const tokens = await tokenVerifierFromConfig(config.jwt, { now, clockLeewaySeconds });
  const userRevocations = UserRevocations.open(join(options.dataDir, 'revocations.json'));
  const origins = new OriginPolicy(config.allowedOrigins);
  const authenticator = new Authenticator({
    apiKeys,
    revocations: userRevocations,
    ...(tokens ? { tokens } : {}),
  });
  const store = options.store ?? new SqliteCentralStore(options.dataDir);
  observe.recognise((name) => store.opened().some((database) => database.name === name));
  const sessions = new Set<SocketSession>();
  // HTTP requests are counted twice: per address before authentication (credential guessing,
  // connection floods), per principal after it, so spelling one credential many ways (the
  // header is free text) does not buy a fresh allowance.
  // An address is never held to less than one caller may do (a server tuned for a busy service
  // raises requestsPerSecond and would otherwise meet the address default instead).
  const addressLimiter = new RateLimiter(
    Math.max(limits.addressRequestsPerSecond, limits.requestsPerSecond),
    Math.max(limits.addressBurst, limits.burst),
    now,
  );
  const principalLimiter = new RateLimiter(limits.requestsPerSecond, limits.burst, now);
  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | undefined;
  const startedAt = now();

  const service = new SyncService({
    store,
    authenticator,
    limits,
    now,
    ...(clockLeewaySeconds === undefined ? {} : { clockLeewayMs: clockLeewaySeconds * 1000 }),
    requireDatabaseAudience: config.jwt.requireDatabaseAudience === true,
    notify: (database, version, except) => {
      const frame = encodeMessage({ type: 'notify', id: 0, serverVersion: version });
      for (const session of sessions) {
        if (
          session.database === database &&
          session.site !== undefined &&
          session.site !== except.site &&
          session.socket.readyState === 1
        ) {
          session.flow.notify(frame);
        }
      }
    },
  });

  const track = async <T>(work: () => Promise<T>): Promise<T> => {
    inFlight++;
    try {
      return await work();
    } finally {
      inFlight--;
      if (closing && inFlight === 0) drained?.();
    }
  };

  const expired = (session: SocketSession): boolean => {
    const deadline = service.sessionDeadline(session);
    return deadline !== undefined && deadline <= now();
  };

  // The proactive half of expiry: an idle socket (only listening for notify) would otherwise
  // keep receiving other users' change notifications after its token expired.
  const armExpiry = (session: SocketSession): void => {
    clearTimeout(session.expiryTimer);
    session.expiryTimer = undefined;
    const deadline = service.sessionDeadline(session);
    if (deadline === undefined) return;
    session.expiryTimer = setTimeout(
      () => {
        if (expired(session)) session.socket.close(TOKEN_EXPIRED_CLOSE_CODE, TOKEN_EXPIRED_REASON);
        else armExpiry(session);
      },
      Math.min(MAX_TIMER_MS, Math.max(0, deadline - now())),
    );
    session.expiryTimer.unref();
  };

  const connected = (database: string): ReadonlySet<string> => {
    const sites = new Set<string>();
    for (const session of sessions)
      if (session.database === database && session.site) sites.add(session.site);
    return sites;
  };

  // After a migration every socket of the database hears it, so each says hello again.
  const notifyMigration = (database: string, version: number, migration: number): void => {
    const frame = encodeMessage({ type: 'notify', id: 0, serverVersion: version, migration });
    for (const session of sessions)
      if (
        session.database === database &&
        session.site !== undefined &&
        session.socket.readyState === 1
      )
        session.flow.notify(frame);
  };

  // Admin operations end sessions at once: a revoked device or key, a deleted database.
  const closeSessions = (match: (session: SessionView) => boolean, reason: string): number => {
    let closed = 0;
    for (const session of sessions) {
      if (!match(session)) continue;
      session.flow.end(ADMIN_CLOSED_CODE, reason);
      sessions.delete(session);
      closed++;
    }
    return closed;
  };

  const http: Server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
      // Node checks both timeouts on this interval (30 s by default): a short timeout needs it.
      connectionsCheckingInterval: Math.max(
        10,
        Math.min(30_000, Math.floor(limits.headersTimeoutMs / 4)),
      ),
    },
    (request, response) => {
      const logger = observe.request(request, response);
      if (closing) {
        respondJson(response, 503, {
          error: { code: 'shutting-down', message: 'the server is shutting down' },
        });
        return;
      }
      // The last resort: whatever escapes a route answers 500 for this request only.
      void track(() => route(request, response, logger)).catch((error: unknown) => {
        logger.error({ err: error }, 'request failed');
        try {
          if (!response.headersSent)
            respondJson(response, 500, {
              error: { code: 'internal', message: 'internal server error' },
            });
          else response.destroy();
        } catch {
          response.destroy();
        }
      });
    },
  );

  async function route(
    request: IncomingMessage,
    response: ServerResponse,
    logger: Logger,
  ): Promise<void> {
    let target: RequestTarget;
    try {
      target = parseRequestTarget(request.url);
    } catch (error) {
      return respondJson(response, 400, errorBody(error));
    }
    const { pathname, parts } = target;
    if (request.method === 'GET' && (pathname === '/' || pathname === '/dashboard')) {
      response.writeHead(302, { location: '/dashboard/' }).end();
      return;
    }
    if (parts[0] === 'dashboard')
      return serveStatic(response, options.dashboardDir, parts.slice(1), log);
    if (parts[0] === 'metrics' && parts.length === 1) {
      if (!addressLimiter.take(`address:${request.socket.remoteAddress}`))
        return rateLimited(response);
      return observe.serveMetrics(request, response, async () =>
        requireAdmin(await authenticator.authenticate(request.headers.authorization)),
      );
    }
    if (parts[0] !== 'v1')
      return respondJson(response, 404, {
        error: { code: 'not-found', message: `no route ${pathname}` },
      });
    if (applyCors(origins, request, response)) return;
    if (parts[1] === 'health') return respondJson(response, 200, { ok: true });
    if (!addressLimiter.take(`address:${request.socket.remoteAddress}`))
      return rateLimited(response);

    if (parts[1] === 'databases' && parts[3] === 'sync' && parts.length === 4) {
      if (request.method !== 'POST') {
        response.setHeader('allow', 'POST');
        return respondJson(response, 405, {
          error: { code: 'method-not-allowed', message: `${request.method} ${pathname}: use POST` },
        });
      }
      const body = await readBody(request, limits.maxMessageBytes);
      if (body === undefined) {
        // The rest of the body is not read: the connection ends with this answer.
        response.setHeader('connection', 'close');
        return respondFrame(
          response,
          413,
          errorFrame(
            0,
            'too-large',
            413,
            `requests are limited to ${limits.maxMessageBytes} bytes`,
          ),
        );
      }
      let message: ClientMessage;
      try {
        message = decodeClientMessage(body);
      } catch (error) {
        return respondFrame(response, 400, errorMessage(0, error));
      }
      // The principal is looked up for the rate limit only: the service authenticates the
      // request itself (and answers a bad credential), with the database's own checks.
      const who = await authenticator
        .authenticate(
          message.type === 'hello'
            ? (message.token ?? request.headers.authorization)
            : request.headers.authorization,
          parts[2],
        )
        .catch(() => undefined);
      if (who && !principalLimiter.take(principalKey(who))) return rateLimited(response);
      const started = observe.started();
      const httpSession: SyncSession = { principal: undefined, site: undefined };
      const reply = await service.handle(
        parts[2]!,
        httpSession,
        message,
        request.headers.authorization,
      );
      observe.answered(parts[2]!, httpSession.principal, message, reply, started, 'http', logger);
      return respondFrame(response, reply.type === 'error' ? reply.status : 200, reply);
    }

    if (parts[1] === 'admin') {
      try {
        const who = await authenticator.authenticate(request.headers.authorization);
        if (!principalLimiter.take(principalKey(who))) return rateLimited(response);
        requireAdmin(who);
        const raw =
          request.method === 'GET' ? undefined : await readBody(request, limits.maxMessageBytes);
        if (raw === undefined && request.method !== 'GET') {
          response.setHeader('connection', 'close');
          throw new RequestError('too-large', 413, 'request too large');
        }
        let body: unknown;
        if (raw && raw.length > 0) {
          try {
            body = JSON.parse(new TextDecoder().decode(raw));
          } catch {
            throw new RequestError('bad-request', 400, 'the body is not valid JSON');
          }
        }
        const result = await handleAdmin(
          {
            store,
            connected,
            now,
            startedAt,
            apiKeys,
            closeSessions,
            notify: notifyMigration,
            userRevocations,
            refusals: observe.refusals,
          },
          request.method ?? 'GET',
          parts.slice(2),
          target.query,
          body,
        );
        if (result instanceof AdminFile) return sendAdminFile(response, result);
        return respondJson(response, 200, result);
      } catch (error) {
        const [status, code] = adminStatus(error);
        if (status === 500)
          log(
            `offsync: admin request failed: ${error instanceof Error ? error.stack : String(error)}`,
          );
        const data =
          error instanceof OffsyncError ? error.toJSON() : { message: 'internal server error' };
        return respondJson(response, status, { error: { ...data, code } });
      }
    }
    return respondJson(response, 404, {
      error: { code: 'not-found', message: `no route ${request.method} ${pathname}` },
    });
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes });
  http.on('upgrade', (request, socket, head) => {
    // Node leaves an upgraded socket without an error listener: a reset would be thrown.
    socket.on('error', () => socket.destroy());
    try {
      upgrade(request, socket, head);
    } catch (error) {
      log(`offsync: upgrade failed: ${error instanceof Error ? error.stack : String(error)}`);
      refuseUpgrade(socket, 500, 'Internal Server Error');
    }
  });

  function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    let parts: readonly string[];
    try {
      parts = parseRequestTarget(request.url).parts;
    } catch {
      refuseUpgrade(socket, 400, 'Bad Request');
      return;
    }
    if (
      closing ||
      parts[0] !== 'v1' ||
      parts[1] !== 'databases' ||
      parts[3] !== 'ws' ||
      parts.length !== 4
    ) {
      refuseUpgrade(socket, 404, 'Not Found');
      return;
    }
    if (!upgradeOriginAllowed(origins, request)) {
      refuseUpgrade(socket, 403, 'Forbidden');
      return;
    }
    if (!addressLimiter.take(`address:${request.socket.remoteAddress}`)) {
      refuseUpgrade(socket, 429, 'Too Many Requests');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const handle = (bytes: Uint8Array): Promise<void> =>
        track(async () => {
          let message: ClientMessage;
          try {
            message = decodeClientMessage(bytes);
          } catch (error) {
            session.flow.send(errorMessage(0, error));
            return;
          }
          if (!session.bucket.take()) {
            session.flow.send(
              errorFrame(
                message.id,
                'rate-limited',
                429,
                'too many requests on this connection; slow down',
              ),
            );
            return;
          }
          if (
            message.type !== 'hello' &&
            session.principal === undefined &&
            credential === undefined
          ) {
            session.flow.send(
              errorFrame(message.id, 'unauthorized', 401, 'send hello with a token first'),
            );
            return;
          }
          if (message.type !== 'hello' && expired(session)) {
            // Refused before any work, then the session ends: the client reconnects and says
            // hello with a fresh token.
            session.flow.send(errorFrame(message.id, 'unauthorized', 401, TOKEN_EXPIRED_REASON));
            ws.close(TOKEN_EXPIRED_CLOSE_CODE, TOKEN_EXPIRED_REASON);
            return;
          }
          const started = observe.started();
          const reply = await service.handle(
            session.database,
            session,
            message,
            message.type === 'hello' ? credential : undefined,
          );
          observe.answered(
            session.database,
            session.principal,
            message,
            reply,
            started,
            'websocket',
            sessionLogger,
          );
          session.flow.send(reply);
          // A revoked device has nothing more to say on this socket.
          if (reply.type === 'error' && reply.code === 'device-revoked')
            return session.flow.end(ADMIN_CLOSED_CODE, 'device revoked');
          if (message.type === 'hello' && reply.type === 'welcome') {
            // A revocation that landed while this hello was being verified found no session.
            if (userRevocations.revokes(session.principal, session.database))
              return session.flow.end(ADMIN_CLOSED_CODE, 'user revoked');
            armExpiry(session);
            session.flow.helloDone();
          }
        });
      const session: SocketSession = {
        database: parts[2]!,
        socket: ws,
        principal: undefined,
        site: undefined,
        bucket: new TokenBucket(limits.requestsPerSecond, limits.burst, now),
        flow: new ConnectionFlow(ws, limits, handle, log),
      };
      const credential = request.headers.authorization;
      const sessionLogger = observe.session(request, session.database);
      sessions.add(session);
      ws.on('message', (data, isBinary) => {
        try {
          if (!isBinary) {
            session.flow.end(1003, 'binary frames only');
            return;
          }
          session.flow.receive(toUint8Array(data));
        } catch (error) {
          log(
            `offsync: WebSocket frame failed: ${error instanceof Error ? error.stack : String(error)}`,
          );
          session.flow.end(CLOSE_CODES.internal, 'internal server error');
        }
      });
      ws.on('close', (code) => {
        sessionLogger.info(
          { code, site: session.site, answered: session.flow.stats.answered },
          'session closed',
        );
        clearTimeout(session.expiryTimer);
        sessions.delete(session);
      });
      ws.on('error', () => {
        clearTimeout(session.expiryTimer);
        session.flow.dispose();
        sessions.delete(session);
      });
    });
  }

  try {
    await new Promise<void>((resolveListen, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => {
        http.off('error', reject);
        resolveListen();
      });
    });
  } catch (error) {
    if (!options.store) store.close();
    throw error;
  }
  let generatedAdminKey: string | undefined;
  if (!options.adminKey) {
    try {
      generatedAdminKey = await ensureAdminKey(apiKeys);
    } catch (error) {
      await new Promise<void>((done) => http.close(() => done()));
      if (!options.store) store.close();
      throw error;
    }
  }
  const flushTimer = setInterval(() => {
    for (const database of store.opened()) {
      try {
        database.devices.flush();
      } catch (error) {
        log(`offsync: flushing device records failed: ${String(error)}`);
      }
    }
  }, options.flushIntervalMs ?? 2000);
  flushTimer.unref();

  const address = http.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  return {
    url,
    port: address.port,
    store,
    generatedAdminKey,
    close: async () => {
      if (closing) return;
      closing = true;
      clearInterval(flushTimer);
      const stopped = new Promise<void>((done) => http.close(() => done()));
      if (inFlight > 0) await new Promise<void>((done) => (drained = done));
      for (const session of sessions) session.flow.end(1001, 'server shutting down');
      http.closeAllConnections();
      wss.close();
      await stopped;
      store.close();
    },
    connections: () => [...sessions].map((session) => session.flow.stats),
  };
}

/** Answers an upgrade request on the raw socket (no WebSocket exists yet) and ends it. */
function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  if (socket.writable)
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  // A peer that never reads must not keep the socket: end() waits for the write.
  setTimeout(() => socket.destroy(), 1_000).unref();
}

function rateLimited(response: ServerResponse): void {
  respondJson(response, 429, {
    error: { code: 'rate-limited', message: 'too many requests; slow down' },
  });
}

/** The rate-limit key of a principal: the same whatever spelling its credential came in. */
function principalKey(principal: Principal): string {
  return principal.kind === 'user' ? `user:${principal.sub}` : `key:${principal.keyId}`;
}

function errorBody(error: unknown): unknown {
  if (error instanceof RequestError)
    return { error: { ...error.toJSON(), code: error.code, message: error.message } };
  return { error: { code: 'internal', message: 'internal server error' } };
}

function errorFrame(id: number, code: string, status: number, message: string): ServerMessage {
  return { type: 'error', id, code, status, message };
}

function toUint8Array(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data as Buffer[]));
  return new Uint8Array(data as ArrayBuffer);
}

function readBody(request: IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        // Answer as soon as the limit is crossed: waiting for the end would let a client stream
        // without bound (and hold graceful shutdown while it does).
        tooLarge = true;
        chunks.length = 0;
        resolveBody(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (!tooLarge) resolveBody(new Uint8Array(Buffer.concat(chunks)));
    });
    request.on('error', reject);
  });
}

function respondJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_key, value) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(text);
}

function respondFrame(response: ServerResponse, status: number, message: ServerMessage): void {
  const frame = encodeMessage(message);
  response.writeHead(status, {
    'content-type': 'application/octet-stream',
    'content-length': frame.length,
  });
  response.end(frame);
}

function adminStatus(error: unknown): [number, string] {
  if (error instanceof AuthError) return [error.status, error.code];
  if (error instanceof RequestError) return [error.status, error.code];
  if (error instanceof DatabaseError)
    return [error.code === 'not-found' ? 404 : error.code === 'exists' ? 409 : 400, error.code];
  if (error instanceof SchemaError) return [400, error.problem];
  if (error instanceof PolicyError) return [400, 'invalid-policy'];
  if (error instanceof OffsyncError) return [400, error.type];
  if (error instanceof Error && /SQLITE|syntax|no such/i.test(error.message)) return [400, 'sql'];
  return [500, 'internal'];
}

function serveStatic(
  response: ServerResponse,
  dir: string | undefined,
  parts: readonly string[],
  log: (line: string) => void,
): void {
  if (!dir) {
    response
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('dashboard assets are not installed');
    return;
  }
  const root = resolve(dir);
  const file = normalize(join(root, ...(parts.length === 0 ? ['index.html'] : parts)));
  // `root + sep`: a sibling folder whose name starts with the root's (`dashboard-old`) is outside.
  const inside = file === root || file.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
  const target = inside && isFile(file) ? file : join(root, 'index.html');
  if (!existsSync(target)) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  response.writeHead(200, {
    'content-type': MIME[extname(target)] ?? 'application/octet-stream',
    'cache-control': 'no-cache',
  });
  // Without a listener, a read error (a file removed or unreadable meanwhile) would be thrown.
  createReadStream(target)
    .on('error', (error) => {
      log(`offsync: dashboard file ${target} failed: ${error.message}`);
      response.destroy();
    })
    .pipe(response);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
