import type { ClientMessage, ServerMessage } from '@offsync/core';
import type { Logger } from 'pino';
import type { Principal } from '../../auth/index.js';
import { scrubSecrets } from './logger.js';
import type { ServerMetrics } from './metrics.js';
import type { RefusalEntry, RefusalLog } from './refusal-log.js';

/**
 * One answered sync request, as {@link SyncObserver.answered} reads it.
 *
 * @example
 * ```ts
 * observer.answered({ database: 'app', known: true, principal, message, response, seconds: 0.002, transport: 'http', logger });
 * ```
 */
export interface AnsweredRequest {
  /** The database named in the URL. */
  readonly database: string;
  /** Whether the server holds that database (only then does it label metrics or keep refusals). */
  readonly known: boolean;
  /** Who the request authenticated as, if it got that far. */
  readonly principal: Principal | undefined;
  readonly message: ClientMessage;
  readonly response: ServerMessage;
  /** How long the service took, in seconds. */
  readonly seconds: number;
  /** `http` or `websocket`. */
  readonly transport: 'http' | 'websocket';
  /** The request's (or session's) logger, carrying its `reqId`. */
  readonly logger: Logger;
}

/**
 * Turns each answered sync request into metrics, refusal-log entries and one log line. The
 * service stays unaware of all three: the transports call this after it answered.
 *
 * @example
 * ```ts
 * const observer = new SyncObserver({ metrics, refusals, now: Date.now });
 * observer.answered({ database, known, principal, message, response, seconds, transport: 'http', logger });
 * ```
 */
export class SyncObserver {
  readonly #metrics: ServerMetrics;
  readonly #refusals: RefusalLog;
  readonly #now: () => number;

  constructor(options: {
    readonly metrics: ServerMetrics;
    readonly refusals: RefusalLog;
    readonly now: () => number;
  }) {
    this.#metrics = options.metrics;
    this.#refusals = options.refusals;
    this.#now = options.now;
  }

  /** Records one answered request. Never throws (observing must not fail a sync). */
  answered(request: AnsweredRequest): void {
    try {
      this.#answered(request);
    } catch (error) {
      request.logger.error({ err: error }, 'recording a sync request failed');
    }
  }

  #answered(request: AnsweredRequest): void {
    const { message, response, logger } = request;
    // An unknown name is the caller's free text: it must not become a label or a log ring.
    const database = request.known ? request.database : '';
    const user = request.principal ? userOf(request.principal) : null;
    const at = this.#now();
    const entry = (table: string | null, kind: string, reason: string): RefusalEntry => ({
      at,
      user,
      site: message.site,
      table,
      kind,
      reason: scrubSecrets(reason),
    });
    const refused: RefusalEntry[] = [];
    const line = {
      type: message.type,
      database: request.database,
      transport: request.transport,
      site: message.site,
      user,
      ms: Math.round(request.seconds * 1e6) / 1e3,
    };

    if (response.type === 'error') {
      this.#metrics.error(database, response.code);
      if (message.type === 'push') this.#metrics.push(database, 'error');
      if (response.status >= 500) {
        logger.error({ ...line, code: response.code, status: response.status }, 'sync failed');
        return;
      }
      refused.push(entry(null, response.code, response.message));
      this.#metrics.refusal(database, response.code);
      logger.warn(
        {
          ...line,
          code: response.code,
          status: response.status,
          reason: scrubSecrets(response.message),
        },
        'sync refused',
      );
    } else if (response.type === 'welcome') {
      for (const [table, refusal] of Object.entries(response.refused)) {
        refused.push(entry(table, refusal.code, refusal.message));
        this.#metrics.refusal(database, refusal.code);
      }
      logger.info(
        { ...line, tables: response.tables, refused: Object.keys(response.refused) },
        'hello',
      );
    } else if (response.type === 'pushResult' && message.type === 'push') {
      this.#metrics.bytes(database, 'in', message.changeset.length);
      if (response.staged === true) {
        this.#metrics.push(database, 'staged');
      } else {
        this.#metrics.push(database, response.accepted ? 'accepted' : 'refused', request.seconds);
      }
      for (const refusal of response.refusals)
        refused.push(entry(refusal.table, 'row', refusal.reason));
      if (response.refusals.length > 0)
        this.#metrics.refusal(database, 'row', response.refusals.length);
      logger.info(
        {
          ...line,
          bytes: message.changeset.length,
          accepted: response.accepted,
          refusals: response.refusals.length,
          serverVersion: response.serverVersion,
        },
        'push',
      );
    } else if (response.type === 'changes') {
      this.#metrics.pull(database);
      this.#metrics.bytes(database, 'out', response.changeset.length);
      logger.debug(
        { ...line, bytes: response.changeset.length, hasMore: response.hasMore },
        'pull',
      );
    }
    if (request.known) this.#refusals.record(request.database, refused);
  }
}

function userOf(principal: Principal): string {
  return principal.kind === 'user' ? principal.sub : `${principal.kind}:${principal.label}`;
}
