import type { SqliteReplica, SyncClient } from '@offsync/core';
import { WebSocket } from 'ws';
import { type ConnectOptions, connect as connectWith } from './client/connect.js';
import type { WebSocketConstructor } from './client/websocket-transport.js';

/**
 * {@link connectWith | connect} for Node: uses the `ws` package unless another WebSocket is given.
 *
 * @example
 * ```ts
 * const client = connectNode(openReplica('app.db'), { url, database: 'todos', token });
 * ```
 */
export function connectNode(replica: SqliteReplica, options: ConnectOptions): SyncClient {
  return connectWith(replica, {
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    ...options,
  });
}
