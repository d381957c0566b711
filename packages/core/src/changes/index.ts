export * from './change.js';
export * from './codec.js';
export * from './crc32.js';
export * from './encoding.js';
export * from './primary-key.js';
export * from './value.js';
export * from './value-codec.js';
