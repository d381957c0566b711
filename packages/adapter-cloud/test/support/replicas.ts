import { openReplica as openNativeReplica } from '@offsync/adapter-node';
import { openReplica as openWasmReplica } from '@offsync/adapter-wasm';
import { quoteIdentifier, type SqliteReplica, type SqlValue } from '@offsync/core';
import { exactRows, showSqlValue, toHex } from '@offsync/testkit';

/** Which SQLite binding a test client runs on. */
export type ReplicaKind = 'native' | 'wasm';

/**
 * Opens a client replica (native: better-sqlite3, in memory or on `path`; wasm: sql.js in
 * memory), creates the schema when the tables are missing and switches sync on for `tables`.
 */
export async function openClientReplica(
  kind: ReplicaKind,
  schemaSql: string,
  tables: readonly string[],
  path = ':memory:',
): Promise<SqliteReplica> {
  const replica = kind === 'native' ? openNativeReplica(path) : await openWasmReplica();
  const existing = new Set(
    replica.driver
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
      .all()
      .map((row) => String(row[0])),
  );
  if (!tables.every((table) => existing.has(table))) replica.driver.exec(schemaSql);
  for (const table of tables) replica.enableSync(table);
  return replica;
}

/**
 * A table's rows in primary-key order, each value shown with its storage class and compared by
 * the bytes SQLite holds (a TEXT that is not valid UTF-8 shows its bytes, never U+FFFD).
 */
export function tableRows(replica: SqliteReplica, table: string): string[][] {
  const keys = replica.tableInfo(table).schema.primaryKey;
  return exactRows(replica.driver, table, keys.map((key) => quoteIdentifier(key)).join(', '));
}

/** `replica.dump()` in hex: the replicated state with causal lengths and stamps. */
export function dumpHex(replica: SqliteReplica): string {
  return toHex(replica.dump());
}

/** Every synced table's rows, for messages. */
export function showTables(replica: SqliteReplica): string {
  return replica
    .syncedTables()
    .map(
      (table) =>
        `${table}: ${showSome(tableRows(replica, table).map((row) => `(${row.join(', ')})`))}`,
    )
    .join('\n    ');
}

/** Runs one parameterised statement on the replica's own connection. */
export function run(replica: SqliteReplica, sql: string, params: readonly SqlValue[] = []): void {
  replica.driver.prepare(sql).run(params);
}

/** Reads rows on the replica's own connection. */
export function query(
  replica: SqliteReplica,
  sql: string,
  params: readonly SqlValue[] = [],
): SqlValue[][] {
  return replica.driver.prepare(sql).all(params);
}

/**
 * Where two replicas' replicated states differ: per row, the causal length, and per cell, the
 * value and stamp (read as changes since 0, so deleted rows and their lives count too).
 */
export function stateDiff(actual: SqliteReplica, expected: SqliteReplica, limit = 8): string[] {
  const index = (replica: SqliteReplica): Map<string, string> => {
    const cells = new Map<string, string>();
    for (const change of replica.changesSince(0).changes) {
      cells.set(
        `${change.table} ${toHex(change.pk)} ${change.column ?? '(row)'}`,
        `cl ${change.cl} ${showSqlValue(change.value)} @${change.stamp.wall}.${change.stamp.counter}.${change.stamp.site.slice(0, 6)}`,
      );
    }
    return cells;
  };
  const a = index(actual);
  const b = index(expected);
  const lines: string[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(key) !== b.get(key))
      lines.push(`${key}: ${a.get(key) ?? 'absent'} (expected ${b.get(key) ?? 'absent'})`);
  }
  return lines.slice(0, limit);
}

function showSome(rows: readonly string[], limit = 12): string {
  if (rows.length === 0) return '(empty)';
  const shown = rows.slice(0, limit).join(' ');
  return rows.length > limit ? `${shown} … ${rows.length} rows` : shown;
}
