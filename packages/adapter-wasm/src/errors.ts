import { OffsyncError } from '@offsync/core';

const SQL_EXCERPT_LENGTH = 200;

function excerpt(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > SQL_EXCERPT_LENGTH ? `${flat.slice(0, SQL_EXCERPT_LENGTH)}…` : flat;
}

/**
 * SQLite refused a statement: a syntax error, a constraint violation, a missing table, a busy
 * database. `reason` is SQLite's own message (`sqlite3_errmsg`), `sql` the statement as the
 * caller wrote it (before the driver's placeholder rewrite).
 *
 * sql.js reports SQLite's message only, not the numeric result code, so there is no `code` field.
 *
 * @example
 * ```ts
 * try {
 *   driver.exec('INSERT INTO todos(id) VALUES (1)');
 * } catch (error) {
 *   if (error instanceof SqliteError) console.log(error.reason); // 'UNIQUE constraint failed: todos.id'
 * }
 * ```
 */
export class SqliteError extends OffsyncError {
  readonly type = 'SqliteError';
  /** SQLite's error message. */
  readonly reason: string;
  /** The SQL that failed. */
  readonly sql: string;

  constructor(reason: string, sql: string) {
    super(`SQLite error: ${reason} (in: ${excerpt(sql)})`);
    this.reason = reason;
    this.sql = sql;
  }
}

/**
 * The SQL uses a parameter form the driver does not bind: only anonymous `?` placeholders are
 * supported, not `?NNN`, `:name`, `@name` or `$name`.
 *
 * @example
 * ```ts
 * driver.prepare('SELECT * FROM todos WHERE id = :id'); // throws UnsupportedPlaceholderError
 * ```
 */
export class UnsupportedPlaceholderError extends OffsyncError {
  readonly type = 'UnsupportedPlaceholderError';
  /** The refused placeholder as written, e.g. `:id` or `?2`. */
  readonly placeholder: string;
  /** Its offset (UTF-16 code units) in `sql`. */
  readonly offset: number;
  /** The SQL that holds it. */
  readonly sql: string;

  constructor(placeholder: string, offset: number, sql: string) {
    super(
      `unsupported placeholder ${placeholder} at offset ${offset}: use anonymous ? placeholders ` +
        `and pass the values in order (in: ${excerpt(sql)})`,
    );
    this.placeholder = placeholder;
    this.offset = offset;
    this.sql = sql;
  }
}

/**
 * A statement was run with a different number of values than it has `?` placeholders.
 *
 * @example
 * ```ts
 * driver.prepare('SELECT ?, ?').all([1n]); // throws ParameterCountError: expected 2, received 1
 * ```
 */
export class ParameterCountError extends OffsyncError {
  readonly type = 'ParameterCountError';
  /** Placeholders in the statement. */
  readonly expected: number;
  /** Values passed. */
  readonly received: number;
  /** The statement. */
  readonly sql: string;

  constructor(expected: number, received: number, sql: string) {
    super(
      `the statement has ${expected} placeholder(s) but ${received} value(s) were passed ` +
        `(in: ${excerpt(sql)})`,
    );
    this.expected = expected;
    this.received = received;
    this.sql = sql;
  }
}

/**
 * `prepare` was given SQL that is not exactly one statement: nothing but whitespace and comments,
 * or more than one statement (run those with `exec`).
 *
 * @example
 * ```ts
 * driver.prepare('SELECT 1; SELECT 2'); // throws StatementCountError with found = 'several'
 * ```
 */
export class StatementCountError extends OffsyncError {
  readonly type = 'StatementCountError';
  /** `'none'` for empty SQL, `'several'` for more than one statement. */
  readonly found: 'none' | 'several';
  /** The SQL given to `prepare`. */
  readonly sql: string;

  constructor(found: 'none' | 'several', sql: string) {
    super(
      found === 'none'
        ? `prepare needs one SQL statement and got none (in: ${excerpt(sql)})`
        : `prepare takes one SQL statement and got several: run several with exec (in: ${excerpt(sql)})`,
    );
    this.found = found;
    this.sql = sql;
  }
}

/**
 * The driver (or a statement of it) was used after `close()`.
 *
 * @example
 * ```ts
 * driver.close();
 * driver.exec('SELECT 1'); // throws DatabaseClosedError
 * ```
 */
export class DatabaseClosedError extends OffsyncError {
  readonly type = 'DatabaseClosedError';
  /** What was attempted: `exec`, `prepare`, `run`, `all` or `export`. */
  readonly operation: string;

  constructor(operation: string) {
    super(`the database is closed: cannot ${operation}`);
    this.operation = operation;
  }
}

/**
 * sql.js could not be loaded: its WebAssembly file was not found or did not compile. In browsers
 * pass `wasmUrl`, `locateFile` or `wasmBinary` to the loader.
 *
 * @example
 * ```ts
 * await loadSqlJs({ wasmUrl: '/missing.wasm' }); // throws WasmLoadError
 * ```
 */
export class WasmLoadError extends OffsyncError {
  readonly type = 'WasmLoadError';
  /** What went wrong, from the loader. */
  readonly reason: string;

  constructor(reason: string) {
    super(
      `could not load SQLite WebAssembly (sql.js): ${reason}; in a browser pass wasmUrl, ` +
        `locateFile or wasmBinary`,
    );
    this.reason = reason;
  }
}

/**
 * Saving or loading a database image failed: a file (Node) or an IndexedDB record (browser).
 *
 * @example
 * ```ts
 * await openSqlJsDriverFromFile('/no/such/dir/app.db', { mustExist: true }); // throws PersistenceError
 * ```
 */
export class PersistenceError extends OffsyncError {
  readonly type = 'PersistenceError';
  /** Where: a file path, or `indexeddb:<database>/<store>/<key>`. */
  readonly location: string;
  /** What was attempted. */
  readonly operation: 'save' | 'load' | 'delete';
  /** Why it failed. */
  readonly reason: string;

  constructor(operation: 'save' | 'load' | 'delete', location: string, reason: string) {
    super(`could not ${operation} the database at ${location}: ${reason}`);
    this.operation = operation;
    this.location = location;
    this.reason = reason;
  }
}

/**
 * The message of anything thrown (sql.js throws both `Error`s and plain strings).
 *
 * @internal
 */
export function messageOf(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message;
  return String(thrown);
}
