import { SqliteReplica, type SqliteReplicaOptions } from '@offsync/core';
import { SqliteError } from '../errors.js';
import { Connection } from './connection.js';
import { SqliteWasmDriver, type SqliteWasmDriverOptions } from './driver.js';
import { loadSqliteWasm, type SqliteWasmLoadOptions } from './load.js';
import { SQLITE } from './raw-api.js';

/**
 * Where {@link openSqliteWasmDriver} opens its database.
 *
 * @example
 * ```ts
 * // In a worker, after `await sqlite3.installOpfsSAHPoolVfs({ name: 'opfs-sahpool' })`:
 * const options: OpenSqliteWasmOptions = { filename: '/replica.db', vfs: 'opfs-sahpool' };
 * ```
 */
export interface OpenSqliteWasmOptions extends SqliteWasmDriverOptions {
  /**
   * The database name: `:memory:` (the default), a file name on `vfs`, or a `file:` URI (for
   * example `file:/shared?vfs=memdb`, an in-memory database other connections of the same module
   * can open).
   */
  readonly filename?: string;
  /** A VFS registered in the module (`opfs-sahpool`, `opfs`, `memdb`); default: the module's default. */
  readonly vfs?: string;
  /** How to load the module, the first time only (see {@link loadSqliteWasm}). */
  readonly loadOptions?: SqliteWasmLoadOptions;
}

/**
 * Loads sqlite-wasm (once per realm) and opens a database as a {@link SqliteWasmDriver}.
 *
 * @throws `SqliteWasmLoadError` when the module cannot load; {@link SqliteError} when the database
 * cannot be opened (unknown VFS, unreadable file).
 * @example
 * ```ts
 * const driver = await openSqliteWasmDriver();
 * driver.prepare('SELECT ?').all([2n ** 63n - 1n]); // [[9223372036854775807n]]
 * ```
 */
export async function openSqliteWasmDriver(
  options: OpenSqliteWasmOptions = {},
): Promise<SqliteWasmDriver> {
  const sqlite3 = await loadSqliteWasm(options.loadOptions);
  const filename = options.filename ?? ':memory:';
  const vfs = options.vfs;
  const where = vfs === undefined ? filename : `${filename} on ${vfs}`;
  if (vfs !== undefined && sqlite3.capi.sqlite3_vfs_find(vfs) === 0) {
    throw new SqliteError(`no VFS named ${vfs} is registered`, `(open ${where})`);
  }
  // A connection not open yet (pointer 0) lends its heap helpers to the open call itself.
  const scratch = new Connection(sqlite3, 0);
  const { raw } = scratch;
  const name = scratch.scratchText(filename).pointer;
  const vfsName = vfs === undefined ? 0 : raw.sqlite3_malloc(vfs.length * 3 + 1);
  if (vfs !== undefined) {
    const heap = scratch.heap();
    const end = new TextEncoder().encodeInto(vfs, heap.subarray(vfsName)).written;
    heap[vfsName + end] = 0;
  }
  const flags =
    SQLITE.OPEN_READWRITE | SQLITE.OPEN_CREATE | SQLITE.OPEN_URI | SQLITE.OPEN_EXRESCODE;
  const rc = raw.sqlite3_open_v2(name, scratch.slotAddress(0), flags, vfsName);
  const db = scratch.slot(0);
  if (vfsName !== 0) raw.sqlite3_free(vfsName);
  scratch.detach();
  if (rc !== SQLITE.OK) {
    const reason = db === 0 ? `open failed with code ${rc}` : messageOf(sqlite3, db);
    if (db !== 0) raw.sqlite3_close_v2(db);
    throw new SqliteError(reason, `(open ${where})`);
  }
  return new SqliteWasmDriver(sqlite3, db, options);
}

function messageOf(sqlite3: SqliteWasmDriver['sqlite3'], db: number): string {
  return sqlite3.capi.sqlite3_errmsg(db);
}

/**
 * Options of {@link openSqliteWasmReplica}: the replica's clock and where its database is.
 *
 * @example
 * ```ts
 * const options: OpenSqliteWasmReplicaOptions = { filename: '/app.db', vfs: 'opfs-sahpool' };
 * ```
 */
export interface OpenSqliteWasmReplicaOptions extends SqliteReplicaOptions, OpenSqliteWasmOptions {}

/**
 * A replica over the official SQLite wasm build. The app reads and writes its tables with plain
 * SQL through `driver`.
 *
 * @example
 * ```ts
 * const replica = await openSqliteWasmReplica();
 * replica.driver.exec('CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT)');
 * replica.enableSync('todos');
 * ```
 */
export interface SqliteWasmReplica extends SqliteReplica {
  /** The sqlite-wasm connection the app uses (and the replica's own). */
  readonly driver: SqliteWasmDriver;
}

/**
 * Loads sqlite-wasm (once per realm) and opens a replica: in memory by default, or a file on a
 * VFS (in a worker, `opfs-sahpool` makes every commit durable with no call from the app).
 * Temporary data stays in memory (`temp_store=MEMORY`).
 *
 * @throws `SqliteWasmLoadError`, {@link SqliteError} (see {@link openSqliteWasmDriver}); core's
 * `SchemaError` when the database's OffSync metadata has an unsupported format.
 * @example
 * ```ts
 * const replica = await openSqliteWasmReplica(); // memory, Node or browser
 * const stored = await openSqliteWasmReplica({ filename: '/replica.db', vfs: 'opfs-sahpool' });
 * ```
 */
export async function openSqliteWasmReplica(
  options: OpenSqliteWasmReplicaOptions = {},
): Promise<SqliteWasmReplica> {
  const driver = await openSqliteWasmDriver(options);
  try {
    driver.exec('PRAGMA temp_store = MEMORY');
    return SqliteReplica.open(driver, options) as SqliteWasmReplica;
  } catch (error) {
    driver.close();
    throw error;
  }
}
