export * from './auth/index.js';
export * from './cli/admin-client.js';
export * from './cli/inspect.js';
export * from './client/index.js';
export * from './node-connect.js';
export * from './rls/index.js';
export * from './server/index.js';
