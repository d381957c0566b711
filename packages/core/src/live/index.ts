export type { ListenerErrorHandler } from './change-feed.js';
export * from './errors.js';
export type { ArrayRow, IntegerMode, QueryOptions, ValueWith } from './query-options.js';
export { type ReadTables, readTables } from './read-tables.js';
export type { ChangedRow, LiveQuery, ReplicaChange } from './replica-change.js';
export * from './table.js';
