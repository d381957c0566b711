import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';

/**
 * The C functions of the sqlite-wasm build the driver calls directly, as the WebAssembly module
 * exports them: pointers are numbers (the build uses 32-bit memory), 64-bit integers are
 * `bigint` (the build has WASM_BIGINT). The package types these exports as `any`; this is the
 * narrow, checked view of the few the driver needs.
 *
 * The raw exports are used instead of `sqlite3.capi` because the capi wrappers convert
 * arguments (strings to NUL-terminated C strings, numbers to int or double by value), which is
 * exactly the looseness exact binding must avoid, and cost a conversion layer per call.
 *
 * @internal
 */
export interface RawSqlite {
  sqlite3_open_v2(filename: number, ppDb: number, flags: number, vfs: number): number;
  sqlite3_close_v2(db: number): number;
  sqlite3_errmsg(db: number): number;
  sqlite3_exec(db: number, sql: number, callback: number, arg: number, errmsg: number): number;
  sqlite3_prepare_v3(
    db: number,
    sql: number,
    bytes: number,
    flags: number,
    ppStmt: number,
    pzTail: number,
  ): number;
  sqlite3_finalize(stmt: number): number;
  sqlite3_reset(stmt: number): number;
  sqlite3_step(stmt: number): number;
  sqlite3_bind_parameter_count(stmt: number): number;
  sqlite3_bind_parameter_name(stmt: number, index: number): number;
  sqlite3_bind_null(stmt: number, index: number): number;
  sqlite3_bind_int64(stmt: number, index: number, value: bigint): number;
  sqlite3_bind_double(stmt: number, index: number, value: number): number;
  sqlite3_bind_text(stmt: number, index: number, text: number, bytes: number, dtor: number): number;
  sqlite3_bind_blob(stmt: number, index: number, blob: number, bytes: number, dtor: number): number;
  sqlite3_column_count(stmt: number): number;
  sqlite3_column_type(stmt: number, column: number): number;
  sqlite3_column_int64(stmt: number, column: number): bigint;
  sqlite3_column_double(stmt: number, column: number): number;
  sqlite3_column_text(stmt: number, column: number): number;
  sqlite3_column_blob(stmt: number, column: number): number;
  sqlite3_column_bytes(stmt: number, column: number): number;
  sqlite3_malloc(bytes: number): number;
  sqlite3_free(pointer: number): void;
}

/** SQLite result codes and flags the driver uses (values from sqlite3.h). @internal */
export const SQLITE = {
  OK: 0,
  ROW: 100,
  DONE: 101,
  INTEGER: 1,
  FLOAT: 2,
  TEXT: 3,
  BLOB: 4,
  NULL: 5,
  OPEN_READWRITE: 0x02,
  OPEN_CREATE: 0x04,
  OPEN_URI: 0x40,
  OPEN_EXRESCODE: 0x0200_0000,
  PREPARE_PERSISTENT: 0x01,
  /** `SQLITE_TRANSIENT`: SQLite copies the bound bytes before the bind call returns. */
  TRANSIENT: -1,
} as const;

const REQUIRED: readonly (keyof RawSqlite)[] = [
  'sqlite3_open_v2',
  'sqlite3_close_v2',
  'sqlite3_errmsg',
  'sqlite3_exec',
  'sqlite3_prepare_v3',
  'sqlite3_finalize',
  'sqlite3_reset',
  'sqlite3_step',
  'sqlite3_bind_parameter_count',
  'sqlite3_bind_parameter_name',
  'sqlite3_bind_null',
  'sqlite3_bind_int64',
  'sqlite3_bind_double',
  'sqlite3_bind_text',
  'sqlite3_bind_blob',
  'sqlite3_column_count',
  'sqlite3_column_type',
  'sqlite3_column_int64',
  'sqlite3_column_double',
  'sqlite3_column_text',
  'sqlite3_column_blob',
  'sqlite3_column_bytes',
  'sqlite3_malloc',
  'sqlite3_free',
];

/**
 * The raw exports of a loaded sqlite-wasm module, checked: a build without BigInt support (which
 * would bind 64-bit integers as doubles) or with 64-bit pointers is refused rather than used
 * loosely.
 *
 * @internal
 */
export function rawSqliteOf(sqlite3: Sqlite3Static): RawSqlite {
  const wasm = sqlite3.wasm as unknown as {
    readonly bigIntEnabled: boolean;
    readonly ptr?: { readonly size?: number };
    readonly exports: Record<string, unknown>;
    readonly memory?: unknown;
  };
  if (!wasm.bigIntEnabled) {
    throw new Error(
      'this sqlite-wasm build has no BigInt support, so it cannot bind INTEGER exactly',
    );
  }
  if ((wasm.ptr?.size ?? 4) !== 4) {
    throw new Error(
      'this sqlite-wasm build uses 64-bit pointers; the driver needs the 32-bit build',
    );
  }
  for (const name of REQUIRED) {
    if (wasm.exports[name] === undefined) throw new Error(`this sqlite-wasm build lacks ${name}`);
  }
  if (!(wasm.memory instanceof WebAssembly.Memory)) {
    throw new Error('this sqlite-wasm build does not expose its WebAssembly memory');
  }
  return wasm.exports as unknown as RawSqlite;
}

/**
 * The WebAssembly memory of a loaded sqlite-wasm module (checked by {@link rawSqliteOf}).
 *
 * @internal
 */
export function memoryOf(sqlite3: Sqlite3Static): WebAssembly.Memory {
  return (sqlite3.wasm as unknown as { readonly memory: WebAssembly.Memory }).memory;
}
