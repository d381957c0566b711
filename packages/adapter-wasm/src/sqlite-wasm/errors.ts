import { OffsyncError } from '@offsync/core';

/**
 * `@sqlite.org/sqlite-wasm` could not be loaded: its WebAssembly file was not found or did not
 * compile, or the build is not one the driver can bind exactly with (no BigInt, 64-bit pointers).
 * In a browser, check that the bundler serves `sqlite3.wasm` (or pass `locateFile`).
 *
 * @example
 * ```ts
 * try {
 *   await loadSqliteWasm({ locateFile: () => '/missing.wasm' });
 * } catch (error) {
 *   if (error instanceof SqliteWasmLoadError) console.log(error.reason);
 * }
 * ```
 */
export class SqliteWasmLoadError extends OffsyncError {
  readonly type = 'SqliteWasmLoadError';
  /** What went wrong, from the loader. */
  readonly reason: string;

  constructor(reason: string) {
    super(`could not load SQLite WebAssembly (@sqlite.org/sqlite-wasm): ${reason}`);
    this.reason = reason;
  }
}
