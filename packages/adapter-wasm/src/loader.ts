import initSqlJs from 'sql.js';
import { messageOf, WasmLoadError } from './errors.js';
import type { SqlJsConfig, SqlJsStatic } from './sqljs-api.js';

/**
 * Where sql.js finds its WebAssembly (`sql-wasm.wasm`, about 690 kB). Give at most one.
 *
 * - In Node, give nothing: the file is loaded from the installed `sql.js` package.
 * - In a browser, give `wasmUrl` (with Vite: `import wasmUrl from 'sql.js/dist/sql-wasm-browser.wasm?url'`),
 *   `locateFile`, or the bytes as `wasmBinary`. With nothing, sql.js fetches `sql-wasm-browser.wasm`
 *   relative to the page.
 *
 * @example
 * ```ts
 * const options: SqlJsLoadOptions = { wasmUrl: '/assets/sql-wasm-browser.wasm' };
 * ```
 */
export interface SqlJsLoadOptions {
  /** URL of the WebAssembly file. */
  readonly wasmUrl?: string | URL;
  /** Emscripten's hook: maps a file name sql.js needs to its URL or path. */
  readonly locateFile?: (file: string) => string;
  /** The WebAssembly file's bytes; nothing is fetched. */
  readonly wasmBinary?: ArrayBuffer | Uint8Array;
}

function isNode(): boolean {
  return typeof globalThis.process?.versions?.node === 'string';
}

function configFor(options: SqlJsLoadOptions): SqlJsConfig {
  const { wasmUrl, locateFile, wasmBinary } = options;
  if (wasmBinary !== undefined) return { wasmBinary };
  if (wasmUrl !== undefined) return { locateFile: () => String(wasmUrl) };
  if (locateFile !== undefined) return { locateFile: (file) => locateFile(file) };
  if (!isNode()) return {};
  // Resolved from this module, not from sql.js's own __dirname, so it still works when the
  // application is bundled for Node. import.meta.resolve needs no node: import (browser bundles
  // stay free of them); sql.js reads file: URLs with fs in Node.
  return { locateFile: (file) => import.meta.resolve(`sql.js/dist/${file}`) };
}

/**
 * Loads sql.js and compiles its WebAssembly. The first call decides: sql.js keeps one module per
 * JavaScript realm, so later calls return it whatever their options, and a failed load cannot be
 * retried without reloading the page (sql.js caches the failure).
 *
 * @throws {@link WasmLoadError} when the WebAssembly file cannot be fetched or compiled.
 * @example
 * ```ts
 * const SQL = await loadSqlJs({ wasmUrl: '/assets/sql-wasm-browser.wasm' });
 * const driver = new SqlJsDriver(new SQL.Database());
 * ```
 */
export async function loadSqlJs(options: SqlJsLoadOptions = {}): Promise<SqlJsStatic> {
  try {
    return await initSqlJs(configFor(options));
  } catch (error) {
    throw new WasmLoadError(messageOf(error));
  }
}
