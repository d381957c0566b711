import { OffsyncError } from '../errors.js';

/**
 * An INTEGER that a query asked to read as a JS `number` (`integers: 'number'`) lies beyond
 * 2^53 - 1, where a double can no longer hold every integer: reading it would silently change
 * the value, so the whole read is refused. Read that column with `integers: 'bigint'` or
 * `'string'` instead.
 *
 * @example
 * ```ts
 * try {
 *   replica.query('SELECT id, big FROM t', [], { integers: 'number' });
 * } catch (error) {
 *   if (error instanceof IntegerPrecisionError) console.log(error.column, error.value);
 * }
 * ```
 */
export class IntegerPrecisionError extends OffsyncError {
  readonly type = 'IntegerPrecisionError';
  /** The result column's name (or `column <index>` when SQLite could not name it). */
  readonly column: string;
  /** The exact value. */
  readonly value: bigint;

  constructor(column: string, value: bigint) {
    super(
      `column ${column} holds INTEGER ${value}, beyond 2^53 - 1: it cannot be read as a number without losing precision; read it with integers 'bigint' or 'string'`,
    );
    this.column = column;
    this.value = value;
  }
}

/**
 * A change listener or a live query's callback threw (or a live query failed to re-run). The
 * merge or commit that caused the event is not affected and other listeners still run: the error
 * is handed to the handlers registered with `replica.onListenerError` (or `console.error` when
 * there are none).
 *
 * @example
 * ```ts
 * replica.onListenerError((error) => {
 *   if (error.source === 'watch') console.warn(error.sql, error.cause);
 * });
 * ```
 */
export class ListenerError extends OffsyncError {
  readonly type = 'ListenerError';
  /** Who failed: an `onChange` listener, or a `watch` (its query or its callback). */
  readonly source: 'change' | 'watch';
  /** The live query's SQL, for `source: 'watch'`. */
  readonly sql: string | undefined;
  /** What was thrown. */
  override readonly cause: unknown;

  constructor(source: 'change' | 'watch', cause: unknown, sql?: string) {
    const what = source === 'change' ? 'a change listener' : `the live query ${sql ?? ''}`;
    super(`${what} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.source = source;
    this.sql = sql;
    this.cause = cause;
  }
}

/**
 * A query's result columns could not be named (asked for with `rows: 'object'`): the statement is
 * not a `SELECT` (or `WITH ... SELECT`, `VALUES`) that SQLite can describe as a view.
 *
 * @example
 * ```ts
 * replica.query('PRAGMA table_info(t)', [], { rows: 'object' }); // throws ColumnNamesError
 * ```
 */
export class ColumnNamesError extends OffsyncError {
  readonly type = 'ColumnNamesError';
  /** The query. */
  readonly sql: string;
  /** SQLite's reason. */
  readonly reason: string;

  constructor(sql: string, reason: string) {
    super(
      `cannot name the result columns of ${sql}: ${reason}; object rows need a SELECT statement`,
    );
    this.sql = sql;
    this.reason = reason;
  }
}
