export * from './causal-length.js';
export * from './lww.js';
export * from './merge.js';
