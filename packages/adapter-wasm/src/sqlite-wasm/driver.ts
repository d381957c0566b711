import type { SqliteDriver, SqliteStatement } from '@offsync/core';
import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { SqliteError, StatementCountError, UnsupportedPlaceholderError } from '../errors.js';
import { isBlankSql } from '../placeholders.js';
import { Connection } from './connection.js';
import { SQLITE } from './raw-api.js';
import { SqliteWasmStatement } from './statement.js';

/** Default number of statements kept for reuse by SQL text. */
const DEFAULT_STATEMENT_CACHE_SIZE = 256;

/**
 * Options of {@link SqliteWasmDriver}.
 *
 * @example
 * ```ts
 * const options: SqliteWasmDriverOptions = { statementCacheSize: 64 };
 * ```
 */
export interface SqliteWasmDriverOptions {
  /**
   * How many statements `prepare` remembers by SQL text (default 256). A forgotten statement is
   * never finalized while anything references it: it stays usable until `close()`.
   */
  readonly statementCacheSize?: number;
}

/**
 * An oo1 `DB` of sqlite-wasm, or anything else that owns a database pointer and closes it.
 *
 * @example
 * ```ts
 * const owner: SqliteWasmDatabase = new sqlite3.oo1.DB(':memory:');
 * ```
 */
export interface SqliteWasmDatabase {
  /** The `sqlite3*` pointer. */
  readonly pointer?: number | bigint | undefined;
  /** Closes the database. */
  close(): void;
}

/**
 * A {@link SqliteDriver} over the official SQLite WebAssembly build (`@sqlite.org/sqlite-wasm`,
 * SQLite 3.53), through its C API: the same engine in Node and browsers, in memory or on any VFS
 * of the build (the OPFS ones in a worker).
 *
 * Values are exact in all five storage classes, with no SQL rewriting: `bigint` binds with
 * `sqlite3_bind_int64` (range-checked), every `number` with `sqlite3_bind_double` (so `2` is the
 * REAL 2.0), `string` as UTF-8 with its byte length (a NUL inside survives; a lone surrogate is
 * stored as WTF-8, as better-sqlite3 stores it), `Uint8Array` as BLOB (empty included), `null` as
 * NULL. Columns read by `sqlite3_column_type`: INTEGER as `bigint`, REAL as `number`, TEXT as
 * `string`, BLOB as a copied `Uint8Array`.
 *
 * A statement from `prepare` stays usable until `close()`, however many others are prepared
 * after it: the cache only forgets it, and a forgotten statement is finalized once the garbage
 * collector finds it unreferenced. Errors are typed ({@link SqliteError},
 * {@link UnsupportedPlaceholderError}, {@link ParameterCountError}, {@link StatementCountError},
 * {@link DatabaseClosedError}, core's `InvalidValueError`).
 *
 * @example
 * ```ts
 * const sqlite3 = await loadSqliteWasm();
 * const driver = new SqliteWasmDriver(sqlite3, new sqlite3.oo1.DB(':memory:'));
 * driver.exec('CREATE TABLE t(v)');
 * driver.prepare('INSERT INTO t VALUES (?)').run([2]);
 * driver.prepare('SELECT typeof(v) FROM t').all(); // [['real']]
 * ```
 */
export class SqliteWasmDriver implements SqliteDriver {
  /** The sqlite-wasm module the database lives in. */
  readonly sqlite3: Sqlite3Static;
  readonly #connection: Connection;
  readonly #owner: SqliteWasmDatabase | undefined;
  readonly #capacity: number;
  /** Statements by SQL text, least recently prepared first. */
  readonly #cache = new Map<string, SqliteWasmStatement>();
  /** Every statement pointer not finalized yet, cached or not. */
  readonly #live = new Set<number>();
  readonly #registry: FinalizationRegistry<number>;

  /**
   * Wraps an open database; the driver owns it from then on (and closes it).
   *
   * @param sqlite3 The module from {@link loadSqliteWasm}.
   * @param database An oo1 `DB` of that module, or a raw `sqlite3*` pointer.
   * @param options Statement cache size.
   */
  constructor(
    sqlite3: Sqlite3Static,
    database: SqliteWasmDatabase | number,
    options: SqliteWasmDriverOptions = {},
  ) {
    const pointer = typeof database === 'number' ? database : Number(database.pointer ?? 0);
    if (!Number.isInteger(pointer) || pointer <= 0) {
      throw new SqliteError('not an open database', '(open the database)');
    }
    this.sqlite3 = sqlite3;
    this.#connection = new Connection(sqlite3, pointer);
    this.#owner = typeof database === 'number' ? undefined : database;
    this.#capacity = Math.max(
      1,
      Math.floor(options.statementCacheSize ?? DEFAULT_STATEMENT_CACHE_SIZE),
    );
    // Runs between tasks, never inside a statement call: safe to finalize there.
    this.#registry = new FinalizationRegistry((stmt) => {
      if (this.#live.delete(stmt) && this.#connection.db !== 0) {
        this.#connection.raw.sqlite3_finalize(stmt);
      }
    });
  }

  /** Whether {@link SqliteWasmDriver.close} was called. */
  get closed(): boolean {
    return this.#connection.db === 0;
  }

  /** The `sqlite3*` pointer, for calls into `sqlite3.capi` (0 once closed). */
  get pointer(): number {
    return this.#connection.db;
  }

  /** Executes one or more SQL statements (`sqlite3_exec`); parameters are not supported here. */
  exec(sql: string): void {
    const connection = this.#connection;
    const db = connection.open('exec');
    const { pointer } = connection.scratchText(sql);
    const rc = connection.raw.sqlite3_exec(db, pointer, 0, 0, 0);
    if (rc !== SQLITE.OK) throw new SqliteError(connection.errorMessage(), sql);
  }

  /**
   * Prepares one SQL statement with anonymous `?` placeholders. Preparing the same text again
   * returns the same statement.
   */
  prepare(sql: string): SqliteStatement {
    const connection = this.#connection;
    const db = connection.open('prepare');
    const cached = this.#cache.get(sql);
    if (cached !== undefined) {
      this.#cache.delete(sql);
      this.#cache.set(sql, cached);
      return cached;
    }
    const { raw } = connection;
    const { pointer, bytes } = connection.scratchText(sql);
    const rc = raw.sqlite3_prepare_v3(
      db,
      pointer,
      bytes + 1,
      SQLITE.PREPARE_PERSISTENT,
      connection.slotAddress(0),
      connection.slotAddress(1),
    );
    if (rc !== SQLITE.OK) throw new SqliteError(connection.errorMessage(), sql);
    const stmt = connection.slot(0);
    if (stmt === 0) throw new StatementCountError('none', sql);
    const tail = connection.slot(1);
    const end = pointer + bytes;
    // Anything but blanks after the first statement is a second one that would be dropped.
    if (tail < end && !isBlankSql(connection.text(tail, end - tail))) {
      raw.sqlite3_finalize(stmt);
      throw new StatementCountError('several', sql);
    }
    const count = raw.sqlite3_bind_parameter_count(stmt);
    for (let i = 1; i <= count; i++) {
      // Named and numbered forms would bind by position here but mean something else to the
      // reader (`?2, ?1`, a name used twice): refused, as in the sql.js driver.
      const name = raw.sqlite3_bind_parameter_name(stmt, i);
      if (name !== 0) {
        const text = connection.cString(name);
        raw.sqlite3_finalize(stmt);
        throw new UnsupportedPlaceholderError(text, Math.max(0, sql.indexOf(text)), sql);
      }
    }
    const statement = new SqliteWasmStatement(connection, stmt, sql, count);
    this.#live.add(stmt);
    this.#registry.register(statement, stmt);
    if (this.#cache.size >= this.#capacity) {
      this.#cache.delete(this.#cache.keys().next().value!);
    }
    this.#cache.set(sql, statement);
    return statement;
  }

  /**
   * The database as the bytes of a SQLite file (`sqlite3_js_db_export`), for a copy or a
   * download. Prepared statements stay usable.
   */
  export(): Uint8Array {
    const db = this.#connection.open('export');
    try {
      return this.sqlite3.capi.sqlite3_js_db_export(db);
    } catch (error) {
      throw new SqliteError(error instanceof Error ? error.message : String(error), '(export)');
    }
  }

  /** Finalizes every statement and closes the database. Closing twice does nothing. */
  close(): void {
    const connection = this.#connection;
    if (connection.db === 0) return;
    const { raw } = connection;
    for (const stmt of this.#live) raw.sqlite3_finalize(stmt);
    this.#live.clear();
    this.#cache.clear();
    const db = connection.detach();
    if (this.#owner !== undefined) {
      this.#owner.close();
      return;
    }
    const rc = raw.sqlite3_close_v2(db);
    if (rc !== SQLITE.OK) throw new SqliteError(`close failed with code ${rc}`, '(close)');
  }
}
