import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import {
  type ClientMessage,
  decodeClientMessage,
  encodeMessage,
  OffsyncError,
  SchemaError,
  type ServerMessage,
} from '@offsync/core';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  ApiKeyStore,
  AuthError,
  Authenticator,
  ensureAdminKey,
  requireAdmin,
  TokenVerifier,
} from '../auth/index.js';
import { PolicyError } from '../rls/index.js';
import { handleAdmin } from './admin-api.js';
import { type CentralStore, DatabaseError, SqliteCentralStore } from './central-store.js';
import { DEFAULT_LIMITS, type ServerLimits, TokenBucket } from './limits.js';
import { loadServerConfig } from './server-config.js';
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
  /** Where to log (default: console). */
  readonly log?: (line: string) => void;
  /** Store to use instead of the embedded SQLite one. */
  readonly store?: CentralStore;
  /** How often buffered device and traffic records are written (ms, default 2,000). */
  readonly flushIntervalMs?: number;
}

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
}

interface SocketSession extends SyncSession {
  readonly database: string;
  readonly socket: WebSocket;
  readonly bucket: TokenBucket;
}

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
  const log = options.log ?? ((line: string) => console.log(line));
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const config = loadServerConfig(options.dataDir);
  const apiKeys = await ApiKeyStore.open(join(options.dataDir, 'keys.json'));
  const generatedAdminKey = await ensureAdminKey(apiKeys, { fromEnv: options.adminKey });
  const tokens =
    config.jwt.hs256Secret || config.jwt.rs256PublicKeyPath || config.jwt.jwksPath
      ? await TokenVerifier.create({
          ...(config.jwt.hs256Secret ? { hs256Secret: config.jwt.hs256Secret } : {}),
          ...(config.jwt.rs256PublicKeyPath
            ? {
                rs256PublicKey: (await import('node:fs')).readFileSync(
                  config.jwt.rs256PublicKeyPath,
                  'utf8',
                ),
              }
            : {}),
          ...(config.jwt.jwksPath ? { jwksPath: config.jwt.jwksPath } : {}),
          ...(config.jwt.issuer ? { issuer: config.jwt.issuer } : {}),
          ...(config.jwt.audience ? { audience: config.jwt.audience } : {}),
          env: { now },
        })
      : undefined;
  const authenticator = new Authenticator({ apiKeys, ...(tokens ? { tokens } : {}) });
  const store = options.store ?? new SqliteCentralStore(options.dataDir);
  const sessions = new Set<SocketSession>();
  const httpBuckets = new Map<string, TokenBucket>();
  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | undefined;
  const startedAt = now();

  const service = new SyncService({
    store,
    authenticator,
    limits,
    now,
    notify: (database, version, except) => {
      const frame = encodeMessage({ type: 'notify', id: 0, serverVersion: version });
      for (const session of sessions) {
        if (
          session.database === database &&
          session.site !== undefined &&
          session.site !== except.site &&
          session.socket.readyState === 1
        ) {
          session.socket.send(frame);
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

  const connected = (database: string): ReadonlySet<string> => {
    const sites = new Set<string>();
    for (const session of sessions)
      if (session.database === database && session.site) sites.add(session.site);
    return sites;
  };

  const http: Server = createServer((request, response) => {
    if (closing) {
      respondJson(response, 503, {
        error: { code: 'shutting-down', message: 'the server is shutting down' },
      });
      return;
    }
    void track(() => route(request, response)).catch((error: unknown) => {
      log(`offsync: request failed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!response.headersSent)
        respondJson(response, 500, {
          error: { code: 'internal', message: 'internal server error' },
        });
      else response.destroy();
    });
  });

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (request.method === 'GET' && (url.pathname === '/' || url.pathname === '/dashboard')) {
      response.writeHead(302, { location: '/dashboard/' }).end();
      return;
    }
    if (parts[0] === 'dashboard')
      return serveStatic(response, options.dashboardDir, parts.slice(1));
    if (parts[0] !== 'v1')
      return respondJson(response, 404, {
        error: { code: 'not-found', message: `no route ${url.pathname}` },
      });
    if (parts[1] === 'health') return respondJson(response, 200, { ok: true });
    const bucketKey = `${request.socket.remoteAddress}|${request.headers.authorization ?? ''}`;
    let bucket = httpBuckets.get(bucketKey);
    if (!bucket) {
      if (httpBuckets.size > 10_000) httpBuckets.clear();
      bucket = new TokenBucket(limits.requestsPerSecond, limits.burst, now);
      httpBuckets.set(bucketKey, bucket);
    }
    if (!bucket.take())
      return respondJson(response, 429, {
        error: { code: 'rate-limited', message: 'too many requests; slow down' },
      });

    if (
      parts[1] === 'databases' &&
      parts[3] === 'sync' &&
      parts.length === 4 &&
      request.method === 'POST'
    ) {
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
      const reply = await service.handle(
        parts[2]!,
        { principal: undefined, site: undefined },
        message,
        request.headers.authorization,
      );
      return respondFrame(response, reply.type === 'error' ? reply.status : 200, reply);
    }

    if (parts[1] === 'admin') {
      try {
        requireAdmin(await authenticator.authenticate(request.headers.authorization));
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
        const result = handleAdmin(
          { store, connected, now, startedAt },
          request.method ?? 'GET',
          parts.slice(2),
          url.searchParams,
          body,
        );
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
      error: { code: 'not-found', message: `no route ${request.method} ${url.pathname}` },
    });
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes });
  http.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (
      closing ||
      parts[0] !== 'v1' ||
      parts[1] !== 'databases' ||
      parts[3] !== 'ws' ||
      parts.length !== 4
    ) {
      socket.write('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const session: SocketSession = {
        database: parts[2]!,
        socket: ws,
        principal: undefined,
        site: undefined,
        bucket: new TokenBucket(limits.requestsPerSecond, limits.burst, now),
      };
      const credential = request.headers.authorization;
      sessions.add(session);
      ws.on('message', (data, isBinary) => {
        if (!isBinary) {
          ws.close(1003, 'binary frames only');
          return;
        }
        const bytes = toUint8Array(data);
        void track(async () => {
          let message: ClientMessage;
          try {
            message = decodeClientMessage(bytes);
          } catch (error) {
            send(ws, errorMessage(0, error));
            return;
          }
          if (!session.bucket.take()) {
            send(
              ws,
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
            send(ws, errorFrame(message.id, 'unauthorized', 401, 'send hello with a token first'));
            return;
          }
          send(
            ws,
            await service.handle(
              session.database,
              session,
              message,
              message.type === 'hello' ? credential : undefined,
            ),
          );
        });
      });
      ws.on('close', () => sessions.delete(session));
      ws.on('error', () => sessions.delete(session));
    });
  });

  await new Promise<void>((resolveListen, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      resolveListen();
    });
  });
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
      for (const session of sessions) session.socket.close(1001, 'server shutting down');
      http.closeAllConnections();
      wss.close();
      await stopped;
      store.close();
    },
  };
}

function send(ws: WebSocket, message: ServerMessage): void {
  if (ws.readyState === 1) ws.send(encodeMessage(message));
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
): void {
  if (!dir) {
    response
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('dashboard assets are not installed');
    return;
  }
  const root = resolve(dir);
  const file = normalize(join(root, ...(parts.length === 0 ? ['index.html'] : parts)));
  const target =
    file.startsWith(root) && existsSync(file) && statSync(file).isFile()
      ? file
      : join(root, 'index.html');
  if (!existsSync(target)) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  response.writeHead(200, {
    'content-type': MIME[extname(target)] ?? 'application/octet-stream',
    'cache-control': 'no-cache',
  });
  createReadStream(target).pipe(response);
}
