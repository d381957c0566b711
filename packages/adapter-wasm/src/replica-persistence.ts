import {
  type IndexedDbOptions,
  openSqlJsDriverFromIndexedDb,
  saveToIndexedDb,
} from './indexeddb.js';
import { openSqlJsDriverFromFile, saveDatabaseFile } from './node-file.js';
import { type OpenReplicaOptions, replicaOver, type WasmReplica } from './open-replica.js';

/**
 * Options of {@link openReplicaFile} and {@link openReplicaFromIndexedDb}: those of
 * {@link openReplica} (the bytes come from the saved image), and whether something must be saved.
 *
 * @example
 * ```ts
 * const options: OpenSavedReplicaOptions = { mustExist: true, loadOptions: { wasmUrl } };
 * ```
 */
export interface OpenSavedReplicaOptions extends Omit<OpenReplicaOptions, 'data'> {
  /** Refuse with {@link PersistenceError} when nothing is saved there (default: open empty). */
  readonly mustExist?: boolean;
}

function driverOptions(options: OpenSavedReplicaOptions) {
  return {
    ...options.loadOptions,
    ...(options.statementCacheSize === undefined
      ? {}
      : { statementCacheSize: options.statementCacheSize }),
    ...(options.mustExist === undefined ? {} : { mustExist: options.mustExist }),
  };
}

/**
 * Node only. Saves a replica (its tables, sync metadata, site id and clock: the whole database)
 * to a SQLite file at `path`, atomically, as {@link saveDatabaseFile} does. Writes captured but
 * not yet folded are saved as captured and folded after reopening, so nothing is lost.
 *
 * @throws {@link SqliteError} inside a write transaction (commit first); {@link PersistenceError}
 * when the file cannot be written.
 * @example
 * ```ts
 * await saveReplicaFile(replica, '/var/lib/app/replica.db');
 * ```
 */
export function saveReplicaFile(replica: WasmReplica, path: string): Promise<void> {
  return saveDatabaseFile(replica.driver, path);
}

/**
 * Node only. Opens a replica saved with {@link saveReplicaFile} (or any SQLite file) into memory:
 * same site id, version, clock and synced tables. A missing file opens an empty replica unless
 * `mustExist` is set. Save again to keep later changes.
 *
 * @throws {@link PersistenceError} when the file cannot be read; {@link SqliteError} when it is
 * not a SQLite database.
 * @example
 * ```ts
 * const replica = await openReplicaFile('/var/lib/app/replica.db');
 * ```
 */
export async function openReplicaFile(
  path: string,
  options: OpenSavedReplicaOptions = {},
): Promise<WasmReplica> {
  return replicaOver(await openSqlJsDriverFromFile(path, driverOptions(options)), options);
}

/**
 * Browser. Saves a replica (the whole database) to IndexedDB under `name`, in one durable
 * transaction, as {@link saveToIndexedDb} does.
 *
 * @throws {@link SqliteError} inside a write transaction (commit first); {@link PersistenceError}
 * when IndexedDB refuses (quota, private mode, no IndexedDB).
 * @example
 * ```ts
 * await saveReplicaToIndexedDb(replica, 'todos');
 * ```
 */
export function saveReplicaToIndexedDb(
  replica: WasmReplica,
  name: string,
  options: IndexedDbOptions = {},
): Promise<void> {
  return saveToIndexedDb(replica.driver, name, options);
}

/**
 * Browser. Opens a replica saved with {@link saveReplicaToIndexedDb} into memory: same site id,
 * version, clock and synced tables. Nothing saved under `name` opens an empty replica unless
 * `mustExist` is set.
 *
 * @throws {@link PersistenceError} when IndexedDB cannot be read or holds something else under
 * `name`; {@link SqliteError} when the bytes are not a SQLite database.
 * @example
 * ```ts
 * const replica = await openReplicaFromIndexedDb('todos', { loadOptions: { wasmUrl } });
 * ```
 */
export async function openReplicaFromIndexedDb(
  name: string,
  options: OpenSavedReplicaOptions & IndexedDbOptions = {},
): Promise<WasmReplica> {
  const where: IndexedDbOptions = {
    ...(options.database === undefined ? {} : { database: options.database }),
    ...(options.indexedDB === undefined ? {} : { indexedDB: options.indexedDB }),
  };
  return replicaOver(
    await openSqlJsDriverFromIndexedDb(name, { ...driverOptions(options), ...where }),
    options,
  );
}
