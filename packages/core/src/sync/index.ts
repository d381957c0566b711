export * from './backoff.js';
// The message codec (encodeMessage, decodeMessage, ...) is exported from `@offsync/core/codec`;
// `export type *` keeps every message type here, whoever adds one.
export type * from './messages.js';
export { ProtocolError } from './messages.js';
export * from './sync-client.js';
export type { SyncLogEvent, SyncLogger, SyncLogMethod } from './sync-logger.js';
export * from './transport.js';
