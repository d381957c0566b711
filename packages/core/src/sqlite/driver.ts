import type { SqlValue } from '../changes/value.js';

/**
 * A prepared SQL statement of a {@link SqliteDriver}.
 *
 * Parameters are positional (`?`) and bind exactly: `bigint` as INTEGER (full 64 bits), `number`
 * as REAL (even when integral: `2` binds as `2.0`), `string` as TEXT, `Uint8Array` as BLOB, `null`
 * as NULL. Result rows are arrays of column values read back exactly: INTEGER as `bigint`, REAL as
 * `number`, TEXT as `string`, BLOB as `Uint8Array`, NULL as `null`.
 *
 * @example
 * ```ts
 * const select = driver.prepare('SELECT id, title FROM todos WHERE id = ?');
 * const rows = select.all(['t1']); // [['t1', 'milk']]
 * ```
 */
export interface SqliteStatement {
  /** Executes the statement, discarding any result rows. */
  run(params?: readonly SqlValue[]): void;
  /** Executes the statement and returns every result row. */
  all(params?: readonly SqlValue[]): SqlValue[][];
}

/**
 * The whole contract between OffSync and a SQLite binding: three methods. Everything else (the
 * metadata tables, triggers, merge, transactions with `BEGIN`/`SAVEPOINT` through `exec`) is
 * written once in `@offsync/core` on top of it. A binding author implements this for their
 * driver (bun:sqlite, node:sqlite, expo-sqlite, ...) and runs `@offsync/testkit`'s
 * `runDriverConformance` against it.
 *
 * The connection must be the one the application writes through (or share its database file):
 * OffSync's triggers live in the database and capture writes from every connection.
 *
 * @example
 * ```ts
 * const driver: SqliteDriver = {
 *   exec: (sql) => db.exec(sql),
 *   prepare: (sql) => wrap(db.prepare(sql)),
 *   close: () => db.close(),
 * };
 * ```
 */
export interface SqliteDriver {
  /** Executes one or more SQL statements without parameters or results. */
  exec(sql: string): void;
  /** Prepares one SQL statement. May be called repeatedly with the same text. */
  prepare(sql: string): SqliteStatement;
  /** Closes the connection. */
  close(): void;
}
