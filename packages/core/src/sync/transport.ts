import { OffsyncError } from '../errors.js';
import type { ClientMessage, ServerMessage } from './messages.js';

/**
 * Something a transport tells its client without being asked.
 *
 * @example
 * ```ts
 * transport.subscribe((event) => {
 *   if (event.type === 'notify') client.syncNow();
 * });
 * ```
 */
export type TransportEvent =
  | { readonly type: 'notify'; readonly serverVersion: number }
  | { readonly type: 'disconnected'; readonly reason: string };

/**
 * How a client reaches a sync server: one request, one response. HTTP sends each request as a
 * POST; a WebSocket multiplexes them and also carries server notifications. Implementations
 * live in `@offsync/adapter-cloud`; `@offsync/testkit` checks them with `runTransportConformance`.
 *
 * @example
 * ```ts
 * const welcome = await transport.request({ type: 'hello', id: 1, protocol: 1, site, schemas });
 * ```
 */
export interface Transport {
  /**
   * Sends a request and resolves with the server's response (which may be an `error` message).
   * Rejects with {@link TransportError} when the server cannot be reached or the connection drops.
   */
  request(message: ClientMessage): Promise<ServerMessage>;
  /** Listens for notifications and disconnections; returns the unsubscribe function. */
  subscribe(listener: (event: TransportEvent) => void): () => void;
  /** Closes the connection; pending requests reject. */
  close(): void;
}

/**
 * The server could not be reached, or the connection dropped before a response: the client is
 * offline and will retry.
 *
 * @example
 * ```ts
 * if (error instanceof TransportError) console.log('offline:', error.reason);
 * ```
 */
export class TransportError extends OffsyncError {
  readonly type = 'TransportError';
  /** What failed. */
  readonly reason: string;

  constructor(reason: string) {
    super(`sync server unreachable: ${reason}`);
    this.reason = reason;
  }
}

/**
 * The server answered a request with an error (authentication, limits, refusal).
 *
 * @example
 * ```ts
 * if (error instanceof ServerError && error.status === 401) await refreshToken();
 * ```
 */
export class ServerError extends OffsyncError {
  readonly type = 'ServerError';
  /** Machine-readable code (`unauthorized`, `rate-limited`, `too-large`, ...). */
  readonly code: string;
  /** HTTP-like status (401, 403, 413, 429, 500, ...). */
  readonly status: number;

  constructor(code: string, status: number, message: string) {
    super(message);
    this.code = code;
    this.status = status;
  }
}
