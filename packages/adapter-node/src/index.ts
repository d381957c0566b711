export * from './better-sqlite3-driver.js';
export * from './open-replica.js';
