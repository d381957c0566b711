export {
  DatabaseClosedError,
  ParameterCountError,
  PersistenceError,
  SqliteError,
  StatementCountError,
  UnsupportedPlaceholderError,
  WasmLoadError,
} from './errors.js';
export {
  deleteFromIndexedDb,
  type IndexedDbOptions,
  openSqlJsDriverFromIndexedDb,
  saveToIndexedDb,
} from './indexeddb.js';
export { loadSqlJs, type SqlJsLoadOptions } from './loader.js';
export {
  type OpenSavedOptions,
  openSqlJsDriverFromFile,
  saveDatabaseFile,
} from './node-file.js';
export { type OpenReplicaOptions, openReplica, type WasmReplica } from './open-replica.js';
export {
  type OpenSavedReplicaOptions,
  openReplicaFile,
  openReplicaFromIndexedDb,
  saveReplicaFile,
  saveReplicaToIndexedDb,
} from './replica-persistence.js';
export * from './sqlite-wasm/index.js';
export type {
  SqlJsBindValue,
  SqlJsConfig,
  SqlJsDatabase,
  SqlJsStatement,
  SqlJsStatic,
} from './sqljs-api.js';
export {
  type OpenSqlJsOptions,
  openSqlJsDriver,
  SqlJsDriver,
  type SqlJsDriverOptions,
} from './sqljs-driver.js';
export * from './worker/index.js';
