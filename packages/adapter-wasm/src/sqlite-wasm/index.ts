export {
  type SqliteWasmDatabase,
  SqliteWasmDriver,
  type SqliteWasmDriverOptions,
} from './driver.js';
export { SqliteWasmLoadError } from './errors.js';
export { loadSqliteWasm, type SqliteWasmLoadOptions } from './load.js';
export {
  type OpenSqliteWasmOptions,
  type OpenSqliteWasmReplicaOptions,
  openSqliteWasmDriver,
  openSqliteWasmReplica,
  type SqliteWasmReplica,
} from './open.js';
