export * from './memory-replica.js';
