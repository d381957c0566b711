import type { SqliteDriver } from './driver.js';
import type { SyncedTable } from './synced-table.js';

/**
 * Runs writes that must not be captured as local changes (a merge, an eviction): the triggers
 * still append to the change logs, and those entries are deleted before the transaction ends,
 * so nothing of them is ever folded or visible. Must run inside a transaction, with the logs of
 * `tables` folded beforehand (so every entry past the mark is this call's own).
 *
 * @example
 * ```ts
 * withoutCapture(driver, [table], () => driver.exec('DELETE FROM todos'));
 * ```
 */
export function withoutCapture<T>(
  driver: SqliteDriver,
  tables: Iterable<SyncedTable>,
  fn: () => T,
): T {
  const marks: [SyncedTable, bigint][] = [];
  for (const table of tables) {
    const mark = driver
      .prepare(`SELECT coalesce(max(id), 0) FROM ${table.shadow.log}`)
      .all()[0]![0];
    marks.push([table, BigInt(mark as bigint)]);
  }
  const result = fn();
  for (const [table, mark] of marks)
    driver.prepare(`DELETE FROM ${table.shadow.log} WHERE id > ?`).run([mark]);
  return result;
}
