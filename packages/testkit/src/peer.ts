import type { SqliteDriver, SqliteReplica, SqlValue } from '@offsync/core';
import { exactRows } from './exact-rows.js';
import type { ManualEnv } from './manual-env.js';

/**
 * A replica under test with its connection and manual clock, and the app's side of it: plain SQL
 * through the same driver.
 *
 * @example
 * ```ts
 * const a = await harness.peer({ sql: TODOS, sync: ['todos'] });
 * a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'milk']);
 * a.replica.changesSince(0);
 * ```
 */
export interface Peer {
  /** The replica. */
  readonly replica: SqliteReplica;
  /** Its connection. */
  readonly driver: SqliteDriver;
  /** Its clock and randomness. */
  readonly env: ManualEnv;
  /** Runs SQL statements without parameters, as the app would. */
  exec(sql: string): void;
  /** Runs one statement with positional parameters, as the app would. */
  run(sql: string, params?: readonly SqlValue[]): void;
  /** Runs one query and returns its rows. */
  all(sql: string, params?: readonly SqlValue[]): SqlValue[][];
  /** Every row of a table, shown exactly, ordered by `orderBy` (default: the first column). */
  rows(table: string, orderBy?: string): string[][];
}

/**
 * Wraps a replica, its driver and its env as a {@link Peer}.
 *
 * @example
 * ```ts
 * const peer = makePeer(SqliteReplica.open(driver, { env }), env);
 * ```
 */
export function makePeer(replica: SqliteReplica, env: ManualEnv): Peer {
  const driver = replica.driver;
  return {
    replica,
    driver,
    env,
    exec: (sql) => driver.exec(sql),
    run: (sql, params = []) => driver.prepare(sql).run(params),
    all: (sql, params = []) => driver.prepare(sql).all(params),
    rows: (table, orderBy = '1') => exactRows(driver, table, orderBy),
  };
}
