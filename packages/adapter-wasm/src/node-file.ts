import { messageOf, PersistenceError } from './errors.js';
import { type OpenSqlJsOptions, openSqlJsDriver, type SqlJsDriver } from './sqljs-driver.js';

// node: modules are taken from the running Node with process.getBuiltinModule (Node >= 20.16),
// not with import(): a bundler resolves every import() specifier it sees, so a browser build of
// this package (which re-exports these helpers) would pull node:fs stubs in, and warn, although
// no browser calls them. test/packaging/browser-bundle.test.ts guards it.

/** Saves in progress per path: two saves to one file must not share its `.tmp`. */
const savesInFlight = new Map<string, Promise<void>>();

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const { open, rename, rm } = process.getBuiltinModule('node:fs/promises');
  const { dirname } = process.getBuiltinModule('node:path');
  const temporary = `${path}.tmp`;
  try {
    const file = await open(temporary, 'w');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new PersistenceError('save', path, messageOf(error));
  }
  // The rename is durable once the directory is synced. Some platforms (Windows) cannot open a
  // directory for that; the file itself is already synced there.
  try {
    const directory = await open(dirname(path), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  } catch (error) {
    const code = codeOf(error);
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') {
      throw new PersistenceError('save', path, messageOf(error));
    }
  }
}

/**
 * Node only. Saves the database to a SQLite file at `path`, atomically: the bytes go to
 * `path + '.tmp'`, are fsynced, then renamed over `path`, so a crash leaves either the old file
 * or the new one, never a torn one. The snapshot is taken when called (synchronously); saves to
 * the same path from this process run one after another.
 *
 * The file is an ordinary SQLite database: better-sqlite3 or the `sqlite3` shell can open it.
 *
 * @throws {@link SqliteError} inside a write transaction (commit first); {@link PersistenceError}
 * when the file cannot be written.
 * @example
 * ```ts
 * await saveDatabaseFile(driver, '/var/lib/app/replica.db');
 * ```
 */
export async function saveDatabaseFile(driver: SqlJsDriver, path: string): Promise<void> {
  const bytes = driver.export();
  const previous = savesInFlight.get(path) ?? Promise.resolve();
  const save = previous.catch(() => undefined).then(() => writeAtomically(path, bytes));
  savesInFlight.set(path, save);
  try {
    await save;
  } finally {
    if (savesInFlight.get(path) === save) savesInFlight.delete(path);
  }
}

/**
 * Options of {@link openSqlJsDriverFromFile} and {@link openSqlJsDriverFromIndexedDb}.
 *
 * @example
 * ```ts
 * const options: OpenSavedOptions = { mustExist: true };
 * ```
 */
export interface OpenSavedOptions extends Omit<OpenSqlJsOptions, 'data'> {
  /** Refuse with {@link PersistenceError} when nothing is saved there (default: open empty). */
  readonly mustExist?: boolean;
}

/**
 * Node only. Opens a SQLite file into memory (sql.js databases live in memory; save changes back
 * with {@link saveDatabaseFile}). A missing file opens an empty database, as SQLite does, unless
 * `mustExist` is set.
 *
 * @throws {@link PersistenceError} when the file cannot be read; {@link SqliteError} when it is
 * not a SQLite database.
 * @example
 * ```ts
 * const driver = await openSqlJsDriverFromFile('/var/lib/app/replica.db');
 * ```
 */
export async function openSqlJsDriverFromFile(
  path: string,
  options: OpenSavedOptions = {},
): Promise<SqlJsDriver> {
  const { readFile } = process.getBuiltinModule('node:fs/promises');
  let data: Uint8Array | undefined;
  try {
    data = await readFile(path);
  } catch (error) {
    if (codeOf(error) !== 'ENOENT' || options.mustExist === true) {
      throw new PersistenceError('load', path, messageOf(error));
    }
  }
  return openSqlJsDriver(data === undefined ? options : { ...options, data });
}
