export * from './backoff.js';
export * from './messages.js';
export * from './sync-client.js';
export * from './transport.js';
