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
  /** Closes the connection; pending requests reject, and so do later ones until {@link reopen}. */
  close(): void;
  /**
   * Undoes {@link close}: later requests connect anew. A client calls it on `start()` after a
   * `disconnect()`, so pause/resume works on one transport. Optional for compatibility: a
   * transport without it cannot be restarted once closed (`start()` then throws
   * {@link TransportClosedError} rather than retrying a dead transport forever).
   */
  reopen?(): void;
}

/**
 * `start()` was called after `disconnect()` on a transport that cannot be reopened (it has no
 * `reopen()`): give the client a new transport instead.
 *
 * @example
 * ```ts
 * try { client.start(); } catch (error) { if (error instanceof TransportClosedError) reconnectWithNewTransport(); }
 * ```
 */
export class TransportClosedError extends OffsyncError {
  readonly type = 'TransportClosedError';

  constructor() {
    super(
      'the transport was closed by disconnect() and cannot be reopened: create a new client with a new transport',
    );
  }
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
