import type { SqliteDriver } from '../sqlite/driver.js';
import { ColumnNamesError } from './errors.js';

const PROBE = 'offsync_columns_probe';

/**
 * `sql` with every parameter (`?`, `?NNN`, `:name`, `@name`, `$name`) replaced by `NULL`, outside
 * string literals, quoted identifiers and comments: what a view (which cannot take parameters)
 * needs to describe the statement's result columns.
 *
 * @example
 * ```ts
 * withoutParameters("SELECT '?' AS q, id FROM t WHERE id = ?"); // "SELECT '?' AS q, id FROM t WHERE id = NULL"
 * ```
 */
export function withoutParameters(sql: string): string {
  let out = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      let j = i + 1;
      for (;;) {
        if (j >= n) break;
        if (sql[j] === close) {
          // A doubled quote is an escaped quote (not for [brackets], which cannot nest).
          if (close !== ']' && sql[j + 1] === close) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '?') {
      let j = i + 1;
      while (j < n && isDigit(sql[j]!)) j++;
      out += 'NULL';
      i = j;
    } else if ((c === ':' || c === '@' || c === '$') && next !== undefined && isWord(next)) {
      let j = i + 1;
      while (j < n && isWord(sql[j]!)) j++;
      out += 'NULL';
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isWord(c: string): boolean {
  return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c > '\x7f';
}

/**
 * The names of a query's result columns, through a driver that returns rows as arrays only: the
 * query becomes a temporary view (parameters replaced by NULL) whose columns SQLite lists. It
 * goes through `prepare`, one statement: any text after the first statement is never run. The
 * view lives in the connection's `temp` schema for the duration of the call, so it changes
 * nothing other connections or the sync metadata see.
 *
 * @example
 * ```ts
 * resultColumnNames(driver, 'SELECT id, title AS name FROM todos WHERE id = ?'); // ['id', 'name']
 * ```
 */
export function resultColumnNames(driver: SqliteDriver, sql: string): string[] {
  const body = withoutParameters(sql).trim().replace(/;+$/u, '');
  try {
    driver.prepare(`CREATE TEMP VIEW ${PROBE} AS ${body}`).run();
  } catch (error) {
    throw new ColumnNamesError(sql, error instanceof Error ? error.message : String(error));
  }
  try {
    return driver
      .prepare(`SELECT name FROM pragma_table_info('${PROBE}', 'temp') ORDER BY cid`)
      .all()
      .map((row) => String(row[0]));
  } finally {
    driver.exec(`DROP VIEW IF EXISTS temp.${PROBE}`);
  }
}
