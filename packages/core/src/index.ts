export * from './changes/index.js';
export * from './crdt/index.js';
export * from './env.js';
export * from './errors.js';
export * from './hlc/index.js';
export * from './memory/index.js';
export * from './sqlite/index.js';
export * from './sync/index.js';
