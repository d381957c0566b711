import type { SqlValue } from '../changes/value.js';
import type { SqliteDriver } from '../sqlite/driver.js';

/**
 * The tables a query reads, as found by {@link readTables}.
 *
 * @example
 * ```ts
 * const read: ReadTables = { tables: ['lists', 'todos'], complete: true };
 * ```
 */
export interface ReadTables {
  /** Names of the tables (in `main` or `temp`) the query opens, sorted. */
  readonly tables: readonly string[];
  /**
   * False when the query also reads something that cannot be named here (a virtual table, an
   * attached database): a live query over it re-runs on every commit it sees.
   */
  readonly complete: boolean;
}

// The opcodes that open a b-tree for reading: P2 is its root page, P3 the database (0 main,
// 1 temp, 2+ attached). Views, subqueries and CTEs are compiled down to these, so they need no
// parsing of our own.
const OPEN_READ = new Set(['OpenRead', 'ReopenIdx', 'OpenWrite']);

/**
 * The tables a query reads, from SQLite's own plan: `EXPLAIN` lists every b-tree the compiled
 * statement opens (views, joins, subqueries and CTEs expanded) by root page, and
 * `sqlite_schema` maps root pages (of tables and of their indexes) to table names. It needs
 * nothing from the driver beyond `prepare`, so it works on every binding; the statement is only
 * compiled, never run.
 *
 * @example
 * ```ts
 * readTables(driver, 'SELECT * FROM todo_view WHERE list = ?', ['l1']);
 * // { tables: ['lists', 'todos'], complete: true }
 * ```
 */
export function readTables(
  driver: SqliteDriver,
  sql: string,
  params: readonly SqlValue[],
): ReadTables {
  // An EXPLAIN statement is never re-compiled after a schema change (it has no schema check of
  // its own), and drivers cache statements by text: the schema version in the text gives each
  // schema its own statement, so a redefined view is not read through its old plan.
  const schema = Number(driver.prepare('PRAGMA schema_version').all()[0]?.[0] ?? 0);
  const plan = driver.prepare(`EXPLAIN /* offsync schema ${schema} */ ${sql}`).all(params);
  const pages: [number, number][] = [];
  let complete = true;
  for (const row of plan) {
    const opcode = String(row[1]);
    if (opcode === 'VOpen') complete = false;
    if (!OPEN_READ.has(opcode)) continue;
    const page = Number(row[3]);
    const database = Number(row[4]);
    if (database > 1) complete = false;
    else pages.push([database, page]);
  }
  if (pages.length === 0) return { tables: [], complete };
  const byPage = new Map<string, string>();
  for (const [database, schema] of [
    [0, 'main'],
    [1, 'temp'],
  ] as const) {
    if (!pages.some(([db]) => db === database)) continue;
    for (const [root, table] of driver
      .prepare(`SELECT rootpage, tbl_name FROM ${schema}.sqlite_schema WHERE rootpage > 0`)
      .all()) {
      byPage.set(`${database}:${Number(root)}`, String(table));
    }
  }
  const tables = new Set<string>();
  for (const [database, page] of pages) {
    // Page 1 is sqlite_schema itself, which has no row of its own.
    tables.add(byPage.get(`${database}:${page}`) ?? 'sqlite_schema');
  }
  return { tables: [...tables].sort(), complete };
}
