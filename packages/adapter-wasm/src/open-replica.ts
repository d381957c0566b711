import { SqliteReplica, type SqliteReplicaOptions } from '@offsync/core';
import type { SqlJsLoadOptions } from './loader.js';
import { openSqlJsDriver, type SqlJsDriver, type SqlJsDriverOptions } from './sqljs-driver.js';

/**
 * Options of {@link openReplica}: the replica's clock, where sql.js finds its WebAssembly, and
 * the database to open.
 *
 * @example
 * ```ts
 * const options: OpenReplicaOptions = { data: savedBytes, loadOptions: { wasmUrl } };
 * ```
 */
export interface OpenReplicaOptions extends SqliteReplicaOptions, SqlJsDriverOptions {
  /** The bytes of a SQLite database file to open (copied); an empty database when absent. */
  readonly data?: Uint8Array;
  /** Where sql.js finds its WebAssembly (nothing to give in Node; `wasmUrl` in a browser). */
  readonly loadOptions?: SqlJsLoadOptions;
}

/**
 * A replica over sql.js (SQLite compiled to WebAssembly), in Node or a browser. The app reads and
 * writes its tables with plain SQL through `driver`; changes to synced tables are captured by
 * triggers. The database lives in memory: persist it with {@link saveReplicaFile} (Node) or
 * {@link saveReplicaToIndexedDb} (browser).
 *
 * @example
 * ```ts
 * const replica = await openReplica();
 * replica.driver.exec('CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT)');
 * replica.enableSync('todos');
 * replica.driver.prepare('INSERT INTO todos VALUES (?, ?)').run(['t1', 'milk']);
 * ```
 */
export interface WasmReplica extends SqliteReplica {
  /** The sql.js connection the app uses (and the replica's own). */
  readonly driver: SqlJsDriver;
}

/**
 * Makes an open driver a replica; the replica owns the driver from then on, and a failure closes
 * it.
 *
 * @internal
 */
export function replicaOver(driver: SqlJsDriver, options: SqliteReplicaOptions): WasmReplica {
  try {
    // Statement journals of trigger writes and temporary b-trees stay in memory, as in the node
    // adapter (sql.js's file system is in memory anyway; this skips its file layer).
    driver.exec('PRAGMA temp_store = MEMORY');
    // SqliteReplica already keeps the driver it was opened over as `driver`; WasmReplica only
    // states its type, so nothing is attached (the node adapter attaches `db`, a second object).
    return SqliteReplica.open(driver, options) as WasmReplica;
  } catch (error) {
    driver.close();
    throw error;
  }
}

/**
 * Loads sql.js (once per JavaScript realm) and opens a database in memory as a replica: empty, or
 * from the bytes of a SQLite file (a database saved by {@link saveReplicaFile}, by
 * {@link saveReplicaToIndexedDb}, or written by any SQLite). Every database keeps temporary data
 * in memory (`temp_store=MEMORY`).
 *
 * @throws {@link WasmLoadError} when sql.js cannot load; {@link SqliteError} when `data` is not a
 * SQLite database; core's `SchemaError` when its OffSync metadata has an unsupported format.
 * @example
 * ```ts
 * const replica = await openReplica(); // Node: the wasm comes from the sql.js package
 * const copy = await openReplica({ data: replica.driver.export() });
 * ```
 */
export async function openReplica(options: OpenReplicaOptions = {}): Promise<WasmReplica> {
  const driver = await openSqlJsDriver({
    ...options.loadOptions,
    ...(options.data === undefined ? {} : { data: options.data }),
    ...(options.statementCacheSize === undefined
      ? {}
      : { statementCacheSize: options.statementCacheSize }),
  });
  return replicaOver(driver, options);
}
