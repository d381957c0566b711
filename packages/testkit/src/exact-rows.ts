import { quoteIdentifier, type SqliteDriver, type SqlValue } from '@offsync/core';
import { showSqlValue, toHex } from './show-value.js';

const textEncoder = new TextEncoder();

/**
 * A table's rows as `showSqlValue` shows them, but compared by the bytes SQLite holds: a TEXT
 * whose stored bytes are not the UTF-8 of the string the driver read (invalid UTF-8, read back
 * with U+FFFD) is shown as `TEXT x<stored bytes> (not valid UTF-8)`, so two replicas that differ
 * byte-wise never compare equal through decoded strings. Valid text reads as before.
 *
 * @example
 * ```ts
 * expect(exactRows(b.driver, 'todos')).toEqual(exactRows(a.driver, 'todos'));
 * ```
 */
export function exactRows(driver: SqliteDriver, table: string, orderBy = '1'): string[][] {
  const name = unquote(table);
  const columns = driver
    .prepare('SELECT name FROM pragma_table_info(?) ORDER BY cid')
    .all([name])
    .map((row) => quoteIdentifier(String(row[0])));
  if (columns.length === 0) return [];
  // The stored bytes of every TEXT, beside the decoded values (only TEXT needs them: every other
  // storage class the drivers read exactly).
  const bytes = columns.map(
    (column) => `CASE typeof(${column}) WHEN 'text' THEN CAST(${column} AS BLOB) END`,
  );
  const rows = driver
    .prepare(
      `SELECT ${columns.join(', ')}, ${bytes.join(', ')} FROM ${quoteIdentifier(name)} ORDER BY ${orderBy}`,
    )
    .all();
  return rows.map((row) => columns.map((_, i) => showExact(row[i]!, row[columns.length + i]!)));
}

function showExact(value: SqlValue, stored: SqlValue): string {
  if (typeof value !== 'string' || !(stored instanceof Uint8Array)) return showSqlValue(value);
  const encoded = textEncoder.encode(value);
  const same = encoded.length === stored.length && encoded.every((byte, i) => byte === stored[i]);
  return same ? showSqlValue(value) : `TEXT x${toHex(stored)} (not valid UTF-8)`;
}

function unquote(table: string): string {
  const quoted = /^"((?:[^"]|"")*)"$/.exec(table);
  return quoted ? quoted[1]!.replaceAll('""', '"') : table;
}
