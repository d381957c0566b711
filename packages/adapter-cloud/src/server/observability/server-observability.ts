import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ClientMessage, ServerMessage } from '@offsync/core';
import type { Logger } from 'pino';
import { AuthError, type Principal } from '../../auth/index.js';
import type { ConnectionStats } from '../connection-flow.js';
import type { ObservabilityConfig } from './config.js';
import { createServerLogger, type LogLevel, requestId } from './logger.js';
import { type HttpRoute, ServerMetrics } from './metrics.js';
import { RefusalLog } from './refusal-log.js';
import { SyncObserver } from './sync-observer.js';

/**
 * Options of {@link ServerObservability}.
 *
 * @example
 * ```ts
 * const options: ServerObservabilityOptions = { config: {}, level: 'debug', now: Date.now, connections: () => [] };
 * ```
 */
export interface ServerObservabilityOptions {
  /** `server.json`'s `log` and `metrics` sections. */
  readonly config: ObservabilityConfig;
  /** Overrides `config.log.level` (`--log-level`). */
  readonly level?: LogLevel;
  /** Receives each JSON log line (default: stdout). */
  readonly write?: (line: string) => void;
  /** Clock, for refusal times. */
  readonly now: () => number;
  /** The open WebSocket connections' flow counters, read at scrape time. */
  readonly connections: () => readonly ConnectionStats[];
  /** Whether the server holds a database of this name (only those label metrics). */
  readonly known?: (database: string) => boolean;
}

/**
 * Everything the server reports about itself, in one place: the structured logger, the
 * Prometheus metrics, and the refusal log, with the few calls the transports make.
 *
 * @example
 * ```ts
 * const observe = new ServerObservability({ config, now: Date.now, connections: () => [] });
 * const logger = observe.request(request, response); // reqId on every line of this request
 * ```
 */
export class ServerObservability {
  /** The root logger. */
  readonly logger: Logger;
  /** The Prometheus metrics. */
  readonly metrics: ServerMetrics;
  /** The latest refusals per database. */
  readonly refusals = new RefusalLog();
  readonly #observer: SyncObserver;
  readonly #public: boolean;
  #known: (database: string) => boolean;

  constructor(options: ServerObservabilityOptions) {
    this.logger = createServerLogger({
      level: options.level ?? options.config.log?.level ?? 'info',
      ...(options.write ? { write: options.write } : {}),
    });
    this.metrics = new ServerMetrics({ connections: options.connections });
    this.#observer = new SyncObserver({
      metrics: this.metrics,
      refusals: this.refusals,
      now: options.now,
    });
    this.#public = options.config.metrics?.public === true;
    this.#known = options.known ?? (() => false);
  }

  /** Sets how database names are recognised (the store opens after this is made). */
  recognise(known: (database: string) => boolean): void {
    this.#known = known;
  }

  /**
   * Starts observing one HTTP request: gives it a request id (answered in `x-request-id`) and
   * returns its logger; when the answer is sent, logs one line and counts it.
   */
  request(request: IncomingMessage, response: ServerResponse): Logger {
    const reqId = requestId(request.headers['x-request-id']);
    response.setHeader('x-request-id', reqId);
    const logger = this.logger.child({ reqId });
    const started = performance.now();
    response.once('finish', () => {
      const route = routeOf(request.url);
      this.metrics.httpRequest(route, response.statusCode);
      const line = {
        method: request.method,
        // The path only: a query string is the caller's free text.
        path: pathOf(request.url),
        status: response.statusCode,
        ms: Math.round((performance.now() - started) * 1e3) / 1e3,
      };
      if (response.statusCode >= 500) logger.error(line, 'request');
      else if (route === 'dashboard' || route === 'health' || route === 'metrics')
        logger.debug(line, 'request');
      else logger.info(line, 'request');
    });
    return logger;
  }

  /** The logger of one WebSocket session, with its own request id; logs that it opened. */
  session(request: IncomingMessage, database: string): Logger {
    const logger = this.logger.child({
      reqId: requestId(request.headers['x-request-id']),
      database,
    });
    this.metrics.httpRequest('websocket', 101);
    logger.info({ transport: 'websocket' }, 'session opened');
    return logger;
  }

  /** Records one answered sync request (metrics, refusals, a log line). */
  answered(
    database: string,
    principal: Principal | undefined,
    message: ClientMessage,
    response: ServerMessage,
    startedAt: number,
    transport: 'http' | 'websocket',
    logger: Logger,
  ): void {
    this.#observer.answered({
      database,
      known: this.#known(database),
      principal,
      message,
      response,
      seconds: (performance.now() - startedAt) / 1000,
      transport,
      logger,
    });
  }

  /** A start time for {@link ServerObservability.answered}. */
  started(): number {
    return performance.now();
  }

  /**
   * Answers `GET /metrics`: the Prometheus text, to the admin key unless `metrics.public` is set.
   * `authorize` throws an `AuthError` for a caller who is not an admin.
   */
  async serveMetrics(
    request: IncomingMessage,
    response: ServerResponse,
    authorize: () => Promise<void>,
  ): Promise<void> {
    if (request.method !== 'GET') {
      response.setHeader('allow', 'GET');
      return json(response, 405, 'method-not-allowed', `${request.method} /metrics: use GET`);
    }
    if (!this.#public) {
      try {
        await authorize();
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        return json(response, error.status, error.code, error.message);
      }
    }
    const text = await this.metrics.text();
    response.writeHead(200, {
      'content-type': this.metrics.contentType,
      'cache-control': 'no-store',
    });
    response.end(text);
  }
}

function json(response: ServerResponse, status: number, code: string, message: string): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(JSON.stringify({ error: { code, message } }));
}

function pathOf(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0] ?? '/';
  // Bounded, so one absurd URL cannot make an absurd line.
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

function routeOf(url: string | undefined): HttpRoute {
  const parts = pathOf(url).split('/');
  if (parts[1] === 'dashboard' || parts[1] === '') return 'dashboard';
  if (parts[1] === 'metrics') return 'metrics';
  if (parts[1] !== 'v1') return 'other';
  if (parts[2] === 'health') return 'health';
  if (parts[2] === 'admin') return 'admin';
  if (parts[2] === 'databases' && parts[4] === 'sync') return 'sync';
  return 'other';
}
