import init, { type Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { SqliteWasmLoadError } from './errors.js';
import { rawSqliteOf } from './raw-api.js';

/**
 * Options of {@link loadSqliteWasm}. Nothing is needed in Node (the package finds its
 * `sqlite3.wasm`) nor with a bundler that handles `new URL(..., import.meta.url)` (Vite does).
 *
 * @example
 * ```ts
 * const options: SqliteWasmLoadOptions = { locateFile: (file) => `/assets/${file}` };
 * ```
 */
export interface SqliteWasmLoadOptions {
  /** Emscripten's hook: maps a file the module needs (`sqlite3.wasm`) to its URL. */
  readonly locateFile?: (file: string) => string;
  /** Where the module's messages go (warnings such as a missing OPFS); default: dropped. */
  readonly print?: (message: string) => void;
  /** Where the module's error messages go; default: `console.error`. */
  readonly printErr?: (message: string) => void;
}

/** The init function as it is, accepting Emscripten's module options (its types say none). */
type InitWithOptions = (options: Record<string, unknown>) => Promise<Sqlite3Static>;

let loading: Promise<Sqlite3Static> | undefined;

async function load(options: SqliteWasmLoadOptions): Promise<Sqlite3Static> {
  const moduleOptions: Record<string, unknown> = {
    print: options.print ?? (() => {}),
    printErr: options.printErr ?? ((message: string) => console.error(message)),
  };
  if (options.locateFile !== undefined) {
    const { locateFile } = options;
    moduleOptions.locateFile = (file: string) => locateFile(file);
  }
  let sqlite3: Sqlite3Static;
  try {
    sqlite3 = await (init as unknown as InitWithOptions)(moduleOptions);
  } catch (error) {
    throw new SqliteWasmLoadError(error instanceof Error ? error.message : String(error));
  }
  try {
    rawSqliteOf(sqlite3);
  } catch (error) {
    throw new SqliteWasmLoadError(error instanceof Error ? error.message : String(error));
  }
  return sqlite3;
}

/**
 * Loads and initialises `@sqlite.org/sqlite-wasm` once per JavaScript realm (a page, a worker, a
 * Node process): every later call returns the same module, whatever its options. A failed load
 * may be retried.
 *
 * @throws {@link SqliteWasmLoadError} when the WebAssembly cannot be fetched or compiled.
 * @example
 * ```ts
 * const sqlite3 = await loadSqliteWasm();
 * sqlite3.version.libVersion; // '3.53.4'
 * ```
 */
export function loadSqliteWasm(options: SqliteWasmLoadOptions = {}): Promise<Sqlite3Static> {
  if (loading === undefined) {
    loading = load(options);
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}
