import {
  InvalidValueError,
  SQL_INTEGER_MAX,
  SQL_INTEGER_MIN,
  type SqliteDriver,
  type SqliteStatement,
  type SqlValue,
} from '@offsync/core';
import {
  DatabaseClosedError,
  messageOf,
  ParameterCountError,
  SqliteError,
  StatementCountError,
} from './errors.js';
import { loadSqlJs, type SqlJsLoadOptions } from './loader.js';
import {
  findPlaceholders,
  isBlankSql,
  type PlaceholderKind,
  type PlaceholderScan,
} from './placeholders.js';
import type { SqlJsBindValue, SqlJsDatabase } from './sqljs-api.js';
import { StatementCache, type Variant } from './statement-cache.js';

/** Default bound on compiled statements kept per database. */
const DEFAULT_STATEMENT_CACHE_SIZE = 256;
const READ_CONFIG = { useBigInt: true } as const;
const NO_PARAMS: readonly SqlValue[] = [];

/**
 * Options of {@link SqlJsDriver}.
 *
 * @example
 * ```ts
 * const options: SqlJsDriverOptions = { statementCacheSize: 64 };
 * ```
 */
export interface SqlJsDriverOptions {
  /**
   * Most compiled statements kept (default 256); the least recently used is finalized beyond it.
   * A statement has one compiled form per combination of parameter types (see the class notes).
   */
  readonly statementCacheSize?: number;
}

/**
 * Options of {@link openSqlJsDriver}: where the WebAssembly is, and the database to open.
 *
 * @example
 * ```ts
 * const options: OpenSqlJsOptions = { data: savedBytes, wasmUrl: '/assets/sql-wasm-browser.wasm' };
 * ```
 */
export interface OpenSqlJsOptions extends SqlJsLoadOptions, SqlJsDriverOptions {
  /** The bytes of a SQLite database file to open (copied); an empty database when absent. */
  readonly data?: Uint8Array;
}

/**
 * How one parameter is bound, decided by its JavaScript type alone so that a statement has one
 * compiled form per combination of types, not per combination of values.
 */
function kindOf(value: SqlValue): PlaceholderKind {
  switch (typeof value) {
    case 'bigint':
      return 'integer';
    case 'number':
      return 'real';
    default:
      return 'plain';
  }
}

function bindValueOf(value: SqlValue): SqlJsBindValue {
  switch (typeof value) {
    case 'bigint':
      if (value < SQL_INTEGER_MIN || value > SQL_INTEGER_MAX) {
        throw new InvalidValueError(`INTEGER ${value} is outside the signed 64-bit range`);
      }
      // Exact: SQLite parses the decimal text under CAST(? AS INTEGER).
      return value.toString();
    case 'number':
      // sql.js binds -0 with sqlite3_bind_int (it is an int32), which loses the sign even under
      // CAST(? AS REAL); the text '-0.0' casts to the REAL -0.0 that sqlite3_bind_double(-0.0)
      // gives. NaN goes through sqlite3_bind_double, where SQLite stores it as NULL.
      return Object.is(value, -0) ? '-0.0' : value;
    case 'string':
      return value;
    case 'object':
      if (value === null || value instanceof Uint8Array) return value;
      throw new InvalidValueError('objects other than Uint8Array are not SQL values');
    default:
      throw new InvalidValueError(`a ${typeof value} is not a SQL value`);
  }
}

/**
 * A prepared statement of a {@link SqlJsDriver}: the SQL text, its placeholders, and the compiled
 * form used last.
 */
class SqlJsPreparedStatement implements SqliteStatement {
  readonly #driver: SqlJsDriver;
  readonly #cache: StatementCache;
  readonly #scan: PlaceholderScan;
  #lastSignature = '';
  #last: Variant;

  constructor(driver: SqlJsDriver, cache: StatementCache, scan: PlaceholderScan) {
    this.#driver = driver;
    this.#cache = cache;
    this.#scan = scan;
    // Compiled now, so SQL errors surface at prepare like in every other SQLite binding.
    const kinds = scan.offsets.map((): PlaceholderKind => 'plain');
    this.#lastSignature = 'p'.repeat(kinds.length);
    this.#last = cache.variant(scan, kinds, this.#lastSignature);
  }

  run(params: readonly SqlValue[] = NO_PARAMS): void {
    const { statement } = this.#bind(params, 'run');
    try {
      // Stepped to the end: a statement with RETURNING or a trigger-heavy insert finishes its
      // work; the row count is bounded by the result.
      while (statement.step()) {
        // rows are discarded
      }
    } catch (error) {
      throw new SqliteError(messageOf(error), this.#scan.sql);
    } finally {
      statement.reset();
    }
  }

  all(params: readonly SqlValue[] = NO_PARAMS): SqlValue[][] {
    const { statement } = this.#bind(params, 'all');
    const rows: SqlValue[][] = [];
    try {
      while (statement.step()) rows.push(statement.get(null, READ_CONFIG));
    } catch (error) {
      throw new SqliteError(messageOf(error), this.#scan.sql);
    } finally {
      statement.reset();
    }
    return rows;
  }

  #bind(params: readonly SqlValue[], operation: string): Variant {
    if (this.#driver.closed) throw new DatabaseClosedError(operation);
    const count = this.#scan.offsets.length;
    if (params.length !== count) {
      throw new ParameterCountError(count, params.length, this.#scan.sql);
    }
    const values: SqlJsBindValue[] = new Array(count);
    // One letter per placeholder, as StatementCache keys variants: plain, integer, real.
    let signature = '';
    for (let i = 0; i < count; i++) {
      const value = params[i]!;
      values[i] = bindValueOf(value);
      signature += typeof value === 'bigint' ? 'i' : typeof value === 'number' ? 'r' : 'p';
    }
    let variant = this.#last;
    if (signature !== this.#lastSignature || variant.freed) {
      variant = this.#cache.variant(this.#scan, params.map(kindOf), signature);
      this.#last = variant;
      this.#lastSignature = signature;
    }
    try {
      variant.statement.bind(values);
    } catch (error) {
      throw new SqliteError(messageOf(error), this.#scan.sql);
    }
    return variant;
  }
}

/**
 * A {@link SqliteDriver} over sql.js 1.16, SQLite compiled to WebAssembly: the same database
 * engine in Node and in browsers, held in memory (persist it with {@link saveDatabaseFile} or
 * {@link saveToIndexedDb}).
 *
 * Values are exact in all five storage classes, as with better-sqlite3 in `safeIntegers` mode.
 * sql.js alone would bind a `bigint` as TEXT and an integral `number` as INTEGER, so the driver
 * rewrites each `?` by the JavaScript type of its value: a `bigint` goes in as
 * `(+CAST(? AS INTEGER))` bound to its decimal text (exact over the whole 64-bit range), a
 * `number` as `(+CAST(? AS REAL))`. The unary `+` drops the CAST's affinity, so comparisons behave
 * as with a plain parameter. Each combination of types is compiled once and cached.
 *
 * Edge values, as with `sqlite3_bind_double` in better-sqlite3: NaN is stored as NULL; `-0` is the
 * REAL -0.0, which reads back as `-0` from a column without declared type or from an expression,
 * while a REAL column stores it as 0 (SQLite writes integral REALs as integers on disk) and
 * INTEGER/NUMERIC columns convert it to INTEGER 0.
 *
 * Only anonymous `?` placeholders are supported; errors are typed ({@link SqliteError},
 * {@link UnsupportedPlaceholderError}, {@link ParameterCountError}, {@link StatementCountError},
 * {@link DatabaseClosedError}).
 *
 * @example
 * ```ts
 * const driver = await openSqlJsDriver();
 * driver.exec('CREATE TABLE todos(id TEXT PRIMARY KEY, done)');
 * driver.prepare('INSERT INTO todos VALUES (?, ?)').run(['t1', 0n]);
 * driver.prepare('SELECT done FROM todos').all(); // [[0n]]
 * ```
 */
export class SqlJsDriver implements SqliteDriver {
  #database: SqlJsDatabase | undefined;
  readonly #cache: StatementCache;
  /** Prepared statements by SQL text: preparing the same text again costs one map lookup. */
  readonly #prepared = new Map<string, SqlJsPreparedStatement>();
  readonly #preparedCapacity: number;

  /**
   * Wraps an open sql.js database; the driver owns it from then on (and closes it).
   *
   * @param database A database from `new SQL.Database()` of {@link loadSqlJs}.
   * @param options Statement cache size.
   */
  constructor(database: SqlJsDatabase, options: SqlJsDriverOptions = {}) {
    this.#database = database;
    const capacity = options.statementCacheSize ?? DEFAULT_STATEMENT_CACHE_SIZE;
    this.#cache = new StatementCache(database, capacity);
    this.#preparedCapacity = Math.max(1, Math.floor(capacity));
  }

  /** Whether {@link SqlJsDriver.close} was called. */
  get closed(): boolean {
    return this.#database === undefined;
  }

  /** Executes one or more SQL statements (`sqlite3_exec`); parameters are not supported here. */
  exec(sql: string): void {
    const database = this.#open('exec');
    try {
      database.run(sql);
    } catch (error) {
      throw new SqliteError(messageOf(error), sql);
    }
  }

  /**
   * Prepares one SQL statement with anonymous `?` placeholders. Preparing the same text again is
   * cheap: compiled statements are cached.
   */
  prepare(sql: string): SqliteStatement {
    this.#open('prepare');
    let statement = this.#prepared.get(sql);
    if (statement === undefined) {
      if (isBlankSql(sql)) throw new StatementCountError('none', sql);
      statement = new SqlJsPreparedStatement(this, this.#cache, findPlaceholders(sql));
      if (this.#prepared.size >= this.#preparedCapacity) {
        this.#prepared.delete(this.#prepared.keys().next().value!);
      }
      this.#prepared.set(sql, statement);
    }
    return statement;
  }

  /**
   * The database as the bytes of a SQLite file: a consistent snapshot taken with SQLite's backup
   * API. Prepared statements stay usable. Fails with {@link SqliteError} inside a write
   * transaction (commit first).
   */
  export(): Uint8Array {
    const database = this.#open('export');
    let bytes: Uint8Array;
    try {
      bytes = database.export();
    } catch (error) {
      throw new SqliteError(messageOf(error), '(export the database)');
    }
    // sql.js may hand out a view on a larger buffer; a structured clone (IndexedDB, postMessage)
    // would copy all of that buffer.
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? bytes
      : bytes.slice();
  }

  /** Finalizes every statement and closes the database. Closing twice does nothing. */
  close(): void {
    const database = this.#database;
    if (database === undefined) return;
    this.#database = undefined;
    this.#prepared.clear();
    try {
      this.#cache.clear();
      database.close();
    } catch (error) {
      throw new SqliteError(messageOf(error), '(close the database)');
    }
  }

  #open(operation: string): SqlJsDatabase {
    if (this.#database === undefined) throw new DatabaseClosedError(operation);
    return this.#database;
  }
}

/**
 * Loads sql.js (see {@link loadSqlJs}) and opens a database: empty, or from the bytes of a
 * SQLite file. Bytes that are not a SQLite database are refused here, not at the first query.
 *
 * @throws {@link WasmLoadError} when sql.js cannot load; {@link SqliteError} when `data` is not a
 * SQLite database.
 * @example
 * ```ts
 * const driver = await openSqlJsDriver(); // Node: the wasm comes from the sql.js package
 * const copy = await openSqlJsDriver({ data: driver.export() });
 * ```
 */
export async function openSqlJsDriver(options: OpenSqlJsOptions = {}): Promise<SqlJsDriver> {
  const SQL = await loadSqlJs(options);
  let database: SqlJsDatabase;
  try {
    database = new SQL.Database(options.data ?? null);
  } catch (error) {
    throw new SqliteError(messageOf(error), '(open the database)');
  }
  const driver = new SqlJsDriver(database, options);
  if (options.data !== undefined) {
    try {
      driver.prepare('SELECT count(*) FROM sqlite_schema').all();
    } catch (error) {
      driver.close();
      throw error;
    }
  }
  return driver;
}
