/**
 * A value sql.js binds. The driver turns every `SqlValue` into one of these: a `bigint` becomes its
 * decimal text under `CAST(? AS INTEGER)`, since sql.js cannot bind a 64-bit integer.
 *
 * @example
 * ```ts
 * const values: SqlJsBindValue[] = [null, 1.5, 'text', new Uint8Array([1])];
 * ```
 */
export type SqlJsBindValue = null | number | string | Uint8Array;

/**
 * The part of a sql.js 1.16 `Statement` the driver uses.
 *
 * @example
 * ```ts
 * const statement: SqlJsStatement = database.prepare('SELECT 1');
 * ```
 */
export interface SqlJsStatement {
  /** Resets the statement and binds `values` to its parameters, in order. */
  bind(values?: readonly SqlJsBindValue[] | null): boolean;
  /** Steps once: `true` when a row is ready. Throws SQLite's error. */
  step(): boolean;
  /** The current row; with `useBigInt` INTEGER columns come back as `bigint`. */
  get(
    params: null,
    config: { readonly useBigInt: true },
  ): (null | bigint | number | string | Uint8Array)[];
  /** The SQL text SQLite compiled (the first statement of what was prepared). */
  getSQL(): string;
  /** Resets the statement and clears its bindings. */
  reset(): boolean;
  /** Finalizes the statement. */
  free(): boolean;
}

/**
 * The part of a sql.js 1.16 `Database` the driver uses.
 *
 * @example
 * ```ts
 * const SQL = await loadSqlJs();
 * const database: SqlJsDatabase = new SQL.Database();
 * ```
 */
export interface SqlJsDatabase {
  /** Runs one or more statements with `sqlite3_exec`. */
  run(sql: string): unknown;
  /** Compiles the first statement of `sql`. */
  prepare(sql: string): SqlJsStatement;
  /** The database as the bytes of a SQLite file (a consistent snapshot, via the backup API). */
  export(): Uint8Array;
  /** Finalizes every statement and closes the database. */
  close(): void;
}

/**
 * The sql.js module once its WebAssembly is loaded: what {@link loadSqlJs} returns.
 *
 * @example
 * ```ts
 * const SQL: SqlJsStatic = await loadSqlJs();
 * const database = new SQL.Database();
 * ```
 */
export interface SqlJsStatic {
  /** Opens an in-memory database, empty or from the bytes of a SQLite file. */
  readonly Database: new (
    data?: Uint8Array | null,
  ) => SqlJsDatabase;
}

/**
 * Emscripten module settings sql.js accepts at initialisation (only those OffSync uses).
 *
 * @example
 * ```ts
 * const config: SqlJsConfig = { locateFile: (file) => `/assets/${file}` };
 * ```
 */
export interface SqlJsConfig {
  /** Maps the name of a file sql.js needs (`sql-wasm.wasm`) to its URL or path. */
  readonly locateFile?: (file: string, prefix: string) => string;
  /** The WebAssembly bytes, so nothing is fetched. */
  readonly wasmBinary?: ArrayBuffer | Uint8Array;
}
