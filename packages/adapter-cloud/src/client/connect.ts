import { type SqliteReplica, SyncClient, type SyncClientOptions } from '@offsync/core';
import { HttpTransport } from './http-transport.js';
import { type WebSocketConstructor, WebSocketTransport } from './websocket-transport.js';

/** Options of {@link connect}. */
export interface ConnectOptions extends Omit<SyncClientOptions, 'transport'> {
  /** Server base URL. */
  readonly url: string;
  /** Database name on the server. */
  readonly database: string;
  /**
   * `websocket` (default: real-time notifications) or `http` (no notifications: syncs every
   * `pullEveryMs`, default 5 s).
   */
  readonly via?: 'websocket' | 'http';
  /** WebSocket implementation (browsers: the global one; Node 20: `ws`). */
  readonly WebSocket?: WebSocketConstructor;
  /** Do not start the loop yet (call `start()`). */
  readonly manual?: boolean;
}

/**
 * Connects a replica (native or wasm) to a sync server and starts syncing: on start, on local
 * commits, on server notifications, and on reconnect with backoff.
 *
 * @example
 * ```ts
 * const client = connect(replica, { url: 'http://127.0.0.1:8787', database: 'todos', token });
 * client.on((status) => console.log(status.state, status.pending));
 * ```
 */
export function connect(replica: SqliteReplica, options: ConnectOptions): SyncClient {
  const { url, database, via, WebSocket, manual, ...clientOptions } = options;
  const transport =
    via === 'http'
      ? new HttpTransport({ url, database })
      : new WebSocketTransport({ url, database, ...(WebSocket ? { WebSocket } : {}) });
  const client = new SyncClient(replica, {
    // HTTP carries no notifications: without a periodic sync a device would only see other
    // devices' changes when it writes itself.
    ...(via === 'http' ? { pullEveryMs: 5_000 } : {}),
    ...clientOptions,
    transport,
  });
  if (!manual) client.start();
  return client;
}
