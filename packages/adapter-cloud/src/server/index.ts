export * from './admin-api.js';
export * from './central-database.js';
export * from './central-store.js';
export * from './device-registry.js';
export * from './limits.js';
export * from './server.js';
export * from './server-config.js';
export * from './sync-service.js';
