import type { SqliteDriver } from '@offsync/core';

/**
 * What a setup gives the suite: a connection to a fresh, empty database, and optionally how to
 * dispose of it and how to re-open it.
 *
 * @example
 * ```ts
 * const fixture: DriverFixture = {
 *   driver: new BetterSqliteDriver(new Database(path)),
 *   reopen: (driver) => {
 *     driver.close();
 *     return new BetterSqliteDriver(new Database(path));
 *   },
 *   teardown: () => rmSync(path, { force: true }),
 * };
 * ```
 */
export interface DriverFixture {
  /** A connection to a fresh, empty database. */
  readonly driver: SqliteDriver;
  /**
   * Called once the suite is done with the database, after it closed every connection it got
   * (delete files here). Optional.
   */
  readonly teardown?: () => void | Promise<void>;
  /**
   * Closes `driver` (a connection to this fixture's database, open and outside any transaction)
   * and returns a new connection to the same database, as after an app restart. Optional: without
   * it the persistence checks re-open the replica over the same connection only.
   */
  readonly reopen?: (driver: SqliteDriver) => SqliteDriver | Promise<SqliteDriver>;
  /**
   * Opens ANOTHER connection to this fixture's database, as a second process would (the suite
   * closes it). Optional: only drivers over a shared file can; the live-query checks of writes by
   * another connection run where it is given.
   */
  readonly connect?: () => SqliteDriver | Promise<SqliteDriver>;
}

/**
 * Creates a {@link DriverFixture} over a FRESH, EMPTY database on every call. The suite calls it
 * many times (several databases per test, three per random history).
 *
 * @example
 * ```ts
 * const setup: DriverSetup = () => ({ driver: new BetterSqliteDriver(new Database(':memory:')) });
 * ```
 */
export type DriverSetup = () => DriverFixture | Promise<DriverFixture>;

/**
 * The fixture of a database file that several connections can open: `open` makes a new
 * connection to it each call. The suite gets its first connection, re-opens it for the
 * persistence checks and opens a second one for the live-query checks; `teardown` deletes the
 * file once every connection is closed.
 *
 * @example
 * ```ts
 * runDriverConformance(() => {
 *   const directory = mkdtempSync(join(tmpdir(), 'my-driver-'));
 *   return sharedFileFixture(
 *     () => new MyDriver(join(directory, 'replica.db')),
 *     () => rmSync(directory, { recursive: true, force: true }),
 *   );
 * }, 'my driver, file');
 * ```
 */
export function sharedFileFixture(
  open: () => SqliteDriver,
  teardown: () => void | Promise<void>,
): DriverFixture {
  return {
    driver: open(),
    reopen: (driver) => {
      driver.close();
      return open();
    },
    connect: open,
    teardown,
  };
}
