import type { MemoryTableSchema, SqlValue } from '@offsync/core';

/**
 * A table random histories write, described for both SQLite and the memory reference model.
 *
 * @example
 * ```ts
 * const items: HistoryTable = HISTORY_TABLES[0]!;
 * items.key(2); // ['k2']
 * ```
 */
export interface HistoryTable {
  /** Table name. */
  readonly name: string;
  /** Primary-key columns, in key order. */
  readonly keyColumns: readonly string[];
  /** Value columns. */
  readonly valueColumns: readonly string[];
  /** The key values of key number `i` (a small overlapping key space). */
  key(i: number): SqlValue[];
  /** The same table for a `MemoryReplica`. */
  readonly memory: MemoryTableSchema;
}

/**
 * The schema of random histories: a TEXT-keyed rowid table with two value columns, and a
 * WITHOUT ROWID table with a composite TEXT + INTEGER key. Columns have no declared type, so
 * values are stored exactly (no affinity) and the memory model can mirror them.
 *
 * @example
 * ```ts
 * driver.exec(HISTORY_SQL);
 * ```
 */
export const HISTORY_SQL = `
  CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, a, b);
  CREATE TABLE pairs(x TEXT NOT NULL, y INTEGER NOT NULL, v, PRIMARY KEY(x, y)) WITHOUT ROWID;
`;

/**
 * The tables of {@link HISTORY_SQL}.
 *
 * @example
 * ```ts
 * for (const table of HISTORY_TABLES) replica.enableSync(table.name);
 * ```
 */
export const HISTORY_TABLES: readonly HistoryTable[] = [
  {
    name: 'items',
    keyColumns: ['id'],
    valueColumns: ['a', 'b'],
    key: (i) => [`k${i}`],
    memory: { name: 'items', columns: ['id', 'a', 'b'], primaryKey: ['id'] },
  },
  {
    name: 'pairs',
    keyColumns: ['x', 'y'],
    valueColumns: ['v'],
    key: (i) => [i % 2 === 0 ? 'p' : 'q', BigInt(i >> 1)],
    memory: { name: 'pairs', columns: ['x', 'y', 'v'], primaryKey: ['x', 'y'] },
  },
];
