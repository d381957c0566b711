import { messageOf, PersistenceError } from './errors.js';
import type { OpenSavedOptions } from './node-file.js';
import { openSqlJsDriver, type SqlJsDriver } from './sqljs-driver.js';

const DEFAULT_DATABASE = 'offsync-wasm';
const STORE = 'sqlite-images';

/**
 * Where database images live in IndexedDB: one record per name, in the object store
 * `sqlite-images` of the IndexedDB database `database` (default `offsync-wasm`).
 *
 * @example
 * ```ts
 * const where: IndexedDbOptions = { database: 'my-app' };
 * ```
 */
export interface IndexedDbOptions {
  /** Name of the IndexedDB database holding the images (default `offsync-wasm`). */
  readonly database?: string;
  /** The `IDBFactory` to use (default `globalThis.indexedDB`). */
  readonly indexedDB?: IDBFactory;
}

function locationOf(name: string, options: IndexedDbOptions): string {
  return `indexeddb:${options.database ?? DEFAULT_DATABASE}/${STORE}/${name}`;
}

function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

function transactionDone(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () =>
      reject(transaction.error ?? new Error('IndexedDB transaction failed'));
    transaction.onabort = () =>
      reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
  });
}

async function openImages(options: IndexedDbOptions): Promise<IDBDatabase> {
  const factory = options.indexedDB ?? globalThis.indexedDB;
  if (factory === undefined) throw new Error('IndexedDB is not available here');
  const request = factory.open(options.database ?? DEFAULT_DATABASE, 1);
  request.onupgradeneeded = () => {
    if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE);
  };
  return requestResult(request);
}

async function withStore<T>(
  mode: IDBTransactionMode,
  options: IndexedDbOptions,
  use: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const database = await openImages(options);
  try {
    // 'strict': the record is flushed to disk before the transaction completes, so a saved
    // image survives a crash or power loss right after the save resolved.
    const transaction = database.transaction(STORE, mode, { durability: 'strict' });
    const done = transactionDone(transaction);
    const result = requestResult(use(transaction.objectStore(STORE)));
    await Promise.all([result, done]);
    return await result;
  } finally {
    database.close();
  }
}

/**
 * Browser. Saves the database to IndexedDB under `name`, replacing what was saved there, in one
 * durable transaction. The snapshot is taken when called (synchronously).
 *
 * @throws {@link SqliteError} inside a write transaction (commit first); {@link PersistenceError}
 * when IndexedDB refuses (quota, private mode, no IndexedDB).
 * @example
 * ```ts
 * await saveToIndexedDb(driver, 'todos');
 * ```
 */
export async function saveToIndexedDb(
  driver: SqlJsDriver,
  name: string,
  options: IndexedDbOptions = {},
): Promise<void> {
  const bytes = driver.export();
  try {
    await withStore('readwrite', options, (store) => store.put(bytes, name));
  } catch (error) {
    throw new PersistenceError('save', locationOf(name, options), messageOf(error));
  }
}

/**
 * Browser. Opens the database saved in IndexedDB under `name` into memory. Nothing saved there
 * opens an empty database, unless `mustExist` is set.
 *
 * @throws {@link PersistenceError} when IndexedDB cannot be read or holds something else under
 * `name`; {@link SqliteError} when the bytes are not a SQLite database.
 * @example
 * ```ts
 * const driver = await openSqlJsDriverFromIndexedDb('todos', { wasmUrl });
 * ```
 */
export async function openSqlJsDriverFromIndexedDb(
  name: string,
  options: OpenSavedOptions & IndexedDbOptions = {},
): Promise<SqlJsDriver> {
  const location = locationOf(name, options);
  let saved: unknown;
  try {
    saved = await withStore('readonly', options, (store) => store.get(name));
  } catch (error) {
    throw new PersistenceError('load', location, messageOf(error));
  }
  if (saved === undefined) {
    if (options.mustExist === true) throw new PersistenceError('load', location, 'nothing saved');
    return openSqlJsDriver(options);
  }
  if (!(saved instanceof Uint8Array)) {
    throw new PersistenceError('load', location, 'the record is not a database image');
  }
  return openSqlJsDriver({ ...options, data: saved });
}

/**
 * Browser. Deletes the database image saved under `name` (nothing happens when there is none).
 *
 * @throws {@link PersistenceError} when IndexedDB refuses.
 * @example
 * ```ts
 * await deleteFromIndexedDb('todos');
 * ```
 */
export async function deleteFromIndexedDb(
  name: string,
  options: IndexedDbOptions = {},
): Promise<void> {
  try {
    await withStore('readwrite', options, (store) => store.delete(name));
  } catch (error) {
    throw new PersistenceError('delete', locationOf(name, options), messageOf(error));
  }
}
