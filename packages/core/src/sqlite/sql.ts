import type { SqliteDriver } from './driver.js';

/**
 * Quotes an SQL identifier (`my "table"` → `"my ""table"""`).
 *
 * @example
 * ```ts
 * driver.exec(`DROP TABLE ${quoteIdentifier(name)}`);
 * ```
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Most bound parameters one statement uses (the historic SQLite default, for every binding). */
export const MAX_PARAMETERS = 999;

/**
 * Runs `fn` inside a savepoint: the outermost one is the transaction (BEGIN/COMMIT), inner ones
 * nest. On a throw everything `fn` did is rolled back and the error rethrown.
 *
 * @example
 * ```ts
 * inSavepoint(driver, () => {
 *   driver.exec('INSERT INTO t VALUES (1)');
 * });
 * ```
 */
export function inSavepoint<T>(driver: SqliteDriver, fn: () => T): T {
  driver.exec('SAVEPOINT offsync');
  try {
    const result = fn();
    driver.exec('RELEASE offsync');
    return result;
  } catch (error) {
    driver.exec('ROLLBACK TO offsync');
    driver.exec('RELEASE offsync');
    throw error;
  }
}
