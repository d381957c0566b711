export * from './known-limitations.js';
export * from './libsql-driver.js';
export * from './open-replica.js';
export * from './parameter-count.js';
