import type { ClientMessage, ServerMessage } from './messages.js';

/**
 * What the sync loop tells a {@link SyncLogger}: one structured event per step. Never carries the
 * token or row values, so an app can send these to its own log service as they are.
 *
 * - `connect`: a hello was welcomed (tables agreed, tables refused, whether to resync).
 * - `push` / `pull`: one page went up / came down.
 * - `refusal`: the server refused a table at hello, or a local write (see `WriteRefusal`).
 * - `retry`: a cycle failed; the loop tries again after `delayMs`.
 * - `error`: the server answered a request with an error.
 *
 * @example
 * ```ts
 * const event: SyncLogEvent = { event: 'retry', attempt: 2, delayMs: 1800, state: 'offline', error: 'TransportError: socket closed' };
 * ```
 */
export type SyncLogEvent =
  | {
      readonly event: 'connect';
      readonly site: string;
      readonly serverVersion: number;
      readonly tables: readonly string[];
      readonly refused: readonly string[];
      readonly resync: boolean;
    }
  | {
      readonly event: 'push';
      readonly bytes: number;
      readonly accepted: boolean;
      readonly staged: boolean;
      readonly refusals: number;
      readonly serverVersion: number;
    }
  | {
      readonly event: 'pull';
      readonly bytes: number;
      readonly cursor: number;
      readonly hasMore: boolean;
      readonly serverVersion: number;
    }
  | {
      readonly event: 'refusal';
      readonly table: string;
      /** `refused`, `superseded`, `too-large` (a write) or `schema-mismatch`, `not-enabled` (a table). */
      readonly kind: string;
      readonly reason: string;
    }
  | {
      readonly event: 'retry';
      /** How many failed cycles in a row, this one included. */
      readonly attempt: number;
      readonly delayMs: number;
      readonly state: 'offline' | 'error';
      /** The error's type and message. */
      readonly error: string;
    }
  | {
      readonly event: 'error';
      readonly request: ClientMessage['type'];
      readonly code: string;
      readonly status: number;
      readonly message: string;
    };

/**
 * One level of a {@link SyncLogger}: pino's and the console's `(object, message)` shape.
 *
 * @example
 * ```ts
 * const info: SyncLogMethod = (event, message) => console.info(message, event);
 * ```
 */
export type SyncLogMethod = (event: SyncLogEvent, message: string) => void;

/**
 * Where a `SyncClient` reports what it does, by level. `console` fits, and so does a pino
 * logger (`logger: pino()`), or any object with the four methods.
 *
 * @example
 * ```ts
 * const client = new SyncClient(replica, { transport, token, logger: console });
 * ```
 */
export interface SyncLogger {
  readonly debug: SyncLogMethod;
  readonly info: SyncLogMethod;
  readonly warn: SyncLogMethod;
  readonly error: SyncLogMethod;
}

/** Calls one level of the app's logger; a logger that throws never stops the sync loop. */
function emit(
  logger: SyncLogger | undefined,
  level: keyof SyncLogger,
  event: SyncLogEvent,
  message: string,
): void {
  if (!logger) return;
  try {
    logger[level](event, message);
  } catch {
    // The app's logger failed; syncing matters more than this line.
  }
}

/**
 * Logs one answered request: `connect` (and a `refusal` per refused table) for a welcome, `push`,
 * `pull`, or `error`.
 *
 * @example
 * ```ts
 * logAnswer(options.logger, message, response);
 * ```
 */
export function logAnswer(
  logger: SyncLogger | undefined,
  message: ClientMessage,
  response: ServerMessage,
): void {
  if (!logger) return;
  switch (response.type) {
    case 'welcome': {
      const refused = Object.keys(response.refused);
      emit(
        logger,
        'info',
        {
          event: 'connect',
          site: message.site,
          serverVersion: response.serverVersion,
          tables: response.tables,
          refused,
          resync: response.resync,
        },
        'offsync: connected',
      );
      for (const [table, refusal] of Object.entries(response.refused))
        emit(
          logger,
          'warn',
          { event: 'refusal', table, kind: refusal.code, reason: refusal.message },
          `offsync: table ${table} refused`,
        );
      return;
    }
    case 'pushResult':
      emit(
        logger,
        response.refusals.length > 0 ? 'info' : 'debug',
        {
          event: 'push',
          bytes: message.type === 'push' ? message.changeset.length : 0,
          accepted: response.accepted,
          staged: response.staged === true,
          refusals: response.refusals.length,
          serverVersion: response.serverVersion,
        },
        'offsync: pushed',
      );
      return;
    case 'changes':
      emit(
        logger,
        'debug',
        {
          event: 'pull',
          bytes: response.changeset.length,
          cursor: response.cursor,
          hasMore: response.hasMore,
          serverVersion: response.serverVersion,
        },
        'offsync: pulled',
      );
      return;
    case 'error':
      emit(
        logger,
        response.status >= 500 ? 'error' : 'warn',
        {
          event: 'error',
          request: message.type,
          code: response.code,
          status: response.status,
          message: response.message,
        },
        `offsync: ${message.type} refused`,
      );
      return;
    default:
      return;
  }
}

/**
 * Logs a refused local write (`WriteRefusal`).
 *
 * @example
 * ```ts
 * logRefusal(options.logger, refusal);
 * ```
 */
export function logRefusal(
  logger: SyncLogger | undefined,
  refusal: { readonly table: string; readonly kind: string; readonly reason: string },
): void {
  emit(
    logger,
    'warn',
    { event: 'refusal', table: refusal.table, kind: refusal.kind, reason: refusal.reason },
    `offsync: a write to ${refusal.table} was not kept`,
  );
}

/**
 * Logs a failed cycle and when the loop tries again.
 *
 * @example
 * ```ts
 * logRetry(options.logger, attempt, delay, 'offline', error);
 * ```
 */
export function logRetry(
  logger: SyncLogger | undefined,
  attempt: number,
  delayMs: number,
  state: 'offline' | 'error',
  error: unknown,
): void {
  const text =
    error instanceof Error
      ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`
      : String(error);
  emit(
    logger,
    state === 'offline' ? 'info' : 'warn',
    { event: 'retry', attempt, delayMs, state, error: text },
    `offsync: ${state}; retrying in ${Math.round(delayMs)} ms`,
  );
}
