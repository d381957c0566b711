import type { SqliteDriver, SqliteStatement, SqlValue } from '@offsync/core';
import type Database from 'libsql';
import { parameterCount } from './parameter-count.js';

type Statement = Database.Statement<unknown[]>;

// With the u flag a surrogate pair is one code point, so this matches only a lone surrogate.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Checks the parameters before they reach libsql's native code: their count against the
 * statement's, and their types, since libsql 0.5.29 aborts the whole process (a Rust panic, not
 * an exception) on a boolean. Anything but the five SQLite storage classes is refused with a
 * `TypeError`, the way better-sqlite3 refuses it, and so is a string with a lone surrogate:
 * libsql would silently store U+FFFD in its place, other bindings store the WTF-8 bytes.
 */
function bindable(params: readonly SqlValue[] | undefined, expected: number): unknown[] {
  const given = params?.length ?? 0;
  // libsql binds NULL for a missing value and drops extra ones: either would write what the app
  // never asked for. The messages are better-sqlite3's.
  if (given < expected) throw new RangeError('Too few parameter values were provided');
  if (given > expected) throw new RangeError('Too many parameter values were provided');
  if (!params) return [];
  for (let i = 0; i < params.length; i++) {
    const value: unknown = params[i];
    const type = typeof value;
    if (type === 'string') {
      if (LONE_SURROGATE.test(value as string)) {
        throw new TypeError(
          `parameter ${i + 1} holds a lone UTF-16 surrogate, which libsql would store as U+FFFD: bind it as valid text or as a BLOB`,
        );
      }
      continue;
    }
    if (value === null || type === 'number' || type === 'bigint' || value instanceof Uint8Array) {
      continue;
    }
    throw new TypeError(
      `parameter ${i + 1} is a ${value === undefined ? 'undefined' : type}: SQLite can bind only null, number, bigint, string and Uint8Array`,
    );
  }
  return params as unknown[];
}

// EXPLAIN, after leading comments: SQLite counts an EXPLAIN statement stepped to its end as
// still running until it is reset.
const EXPLAIN = /^\s*(?:(?:--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)\s*)*EXPLAIN\b/iu;

/** Whether the connection is open: libsql statements keep working after `close()`. */
interface Connection {
  open: boolean;
}

class LibsqlStatement implements SqliteStatement {
  readonly #statement: Statement;
  readonly #connection: Connection;
  readonly #reader: boolean;
  readonly #explain: boolean;
  readonly #parameters: number;

  constructor(statement: Statement, sql: string, connection: Connection) {
    this.#connection = connection;
    this.#reader = statement.reader;
    this.#explain = EXPLAIN.test(sql);
    this.#parameters = parameterCount(sql);
    // INTEGER as bigint (exact to 64 bits), REAL as number, rows as arrays.
    statement.safeIntegers(true);
    if (this.#reader) statement.raw(true);
    this.#statement = statement;
  }

  // The parameters always go as ONE array argument. libsql's `run(...params)` takes a lone
  // object argument for named parameters, so a lone BLOB aborted the process (a panic looking up
  // its "names") and a lone NULL threw ("failed to downcast any to object"); an array is always
  // positional.
  run(params?: readonly SqlValue[]): void {
    // libsql's run() steps a statement once and resets it only at its next use: on
    // `INSERT ... RETURNING` that kept the write transaction open and every other connection got
    // SQLITE_BUSY. Reading every row ends the statement.
    if (this.#reader) this.all(params);
    else this.#statement.run(this.#bindable(params));
  }

  all(params?: readonly SqlValue[]): SqlValue[][] {
    const values = this.#bindable(params);
    if (!this.#reader) {
      this.#statement.run(values);
      return [];
    }
    const rows = this.#statement.all(values) as SqlValue[][];
    // An EXPLAIN left un-reset keeps the connection's next read transaction open, so commits by
    // other connections stayed invisible (live queries never saw them). get() resets.
    if (this.#explain) this.#statement.get(values);
    return rows;
  }

  #bindable(params: readonly SqlValue[] | undefined): unknown[] {
    if (!this.#connection.open) throw new TypeError('The database connection is not open');
    return bindable(params, this.#parameters);
  }
}

/**
 * The {@link SqliteDriver} over a libsql connection: exact values (INTEGER as bigint, REAL as
 * number, whole numbers bound as REAL, BLOB as Buffer), parameters always bound by position,
 * and a cache of prepared statements that stay usable until {@link LibsqlDriver.close}.
 *
 * libsql 0.5.29 (SQLite 3.45.1) has limits no driver can hide; see the package README: TEXT is
 * read up to its first NUL, REAL-to-TEXT conversion keeps 15 significant digits, and reading TEXT
 * that is not valid UTF-8 aborts the process.
 *
 * @example
 * ```ts
 * import Database from 'libsql';
 * const driver = new LibsqlDriver(new Database('app.db'));
 * const replica = SqliteReplica.open(driver);
 * ```
 */
export class LibsqlDriver implements SqliteDriver {
  /** The connection the app uses too. */
  readonly db: Database.Database;
  readonly #statements = new Map<string, LibsqlStatement>();
  readonly #connection: Connection = { open: true };

  constructor(db: Database.Database) {
    this.db = db;
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  prepare(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = new LibsqlStatement(this.db.prepare(sql), sql, this.#connection);
      // Generated SQL comes in a bounded number of shapes; cap the cache all the same.
      if (this.#statements.size >= 2000) this.#statements.clear();
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  close(): void {
    this.#connection.open = false;
    this.#statements.clear();
    this.db.close();
  }
}
