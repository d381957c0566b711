export * from './config.js';
export * from './logger.js';
export * from './metrics.js';
export * from './refusal-log.js';
export * from './server-observability.js';
export * from './sync-observer.js';
