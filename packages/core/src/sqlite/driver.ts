import type { SqlValue } from '../changes/value.js';

/**
 * What a method of the driver contract returns when it returns nothing: `void`, never a Promise.
 * An `async` method does not type-check against it, where a plain `void` would accept one.
 *
 * @example
 * ```ts
 * const exec = (sql: string): Synchronous => {
 *   db.exec(sql);
 * };
 * ```
 */
// biome-ignore lint/suspicious/noConfusingVoidType: void is what a method without result returns; the other member refuses a Promise.
export type Synchronous = void | { readonly then?: never };

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
  /** Executes the statement, discarding any result rows. Synchronous: returns when done. */
  run(params?: readonly SqlValue[]): Synchronous;
  /** Executes the statement and returns every result row (an array, never a Promise). */
  all(params?: readonly SqlValue[]): SqlValue[][];
}

/**
 * The whole contract between OffSync and a SQLite binding: three methods. Everything else (the
 * metadata tables, triggers, merge, transactions with `BEGIN`/`SAVEPOINT` through `exec`) is
 * written once in `@offsync/core` on top of it. A binding author implements this for their
 * driver (bun:sqlite, node:sqlite, expo-sqlite, ...) and runs `@offsync/testkit`'s
 * `runDriverConformance` against it.
 *
 * Every method is SYNCHRONOUS: it returns when SQLite is done, and a failure throws. An async
 * binding (node-sqlite3, a worker proxy) cannot be a driver: a merge runs many statements inside
 * one transaction and must hold it without yielding. Wrap a synchronous build instead (better-sqlite3,
 * sql.js, `@sqlite.org/sqlite-wasm` inside a Worker). A statement stays usable until `close()`;
 * `close()` twice is harmless; use after `close()` and a wrong parameter count throw. The whole
 * contract is in `docs/testkit.md`, and `@offsync/testkit` checks each point.
 *
 * The connection must be the one the application writes through (or share its database file):
 * OffSync's triggers live in the database and capture writes from every connection.
 *
 * @example
 * ```ts
 * const driver: SqliteDriver = {
 *   exec: (sql) => {
 *     db.exec(sql);
 *   },
 *   prepare: (sql) => wrap(db.prepare(sql)),
 *   close: () => {
 *     db.close();
 *   },
 * };
 * ```
 */
export interface SqliteDriver {
  /** Executes one or more SQL statements without parameters or results. */
  exec(sql: string): Synchronous;
  /** Prepares one SQL statement. May be called repeatedly with the same text. */
  prepare(sql: string): SqliteStatement;
  /** Closes the connection. Closing twice does nothing. */
  close(): Synchronous;
}
