/**
 * The app every simulated history runs: one table scoped to its owner by row-level security,
 * one shared table with a composite key, one table with an INTEGER key. The same SQL creates the
 * server's database and every device's tables.
 *
 * @example
 * ```ts
 * replica.driver.exec(SIM_SCHEMA_SQL);
 * ```
 */
export const SIM_SCHEMA_SQL = `
CREATE TABLE notes(
  id TEXT PRIMARY KEY NOT NULL,
  owner TEXT NOT NULL DEFAULT '',
  title TEXT,
  body TEXT,
  n INTEGER,
  r REAL,
  data BLOB
);
CREATE TABLE pairs(
  k1 TEXT NOT NULL,
  k2 INTEGER NOT NULL,
  v TEXT,
  w,
  PRIMARY KEY(k1, k2)
);
CREATE TABLE counters(
  id INTEGER PRIMARY KEY NOT NULL,
  label TEXT,
  hits INTEGER NOT NULL DEFAULT 0
);
`;

/** The synced tables, and the `enableSync` options each needs. */
export const SIM_TABLES: readonly {
  readonly name: string;
  readonly options: { readonly allowIntegerPrimaryKey?: boolean };
}[] = [
  { name: 'notes', options: {} },
  { name: 'pairs', options: {} },
  { name: 'counters', options: { allowIntegerPrimaryKey: true } },
];

/**
 * The row-level-security policies a history starts with: a user sees and writes the notes they
 * own; pairs and counters are shared by every user. (Adversary and policy actions change them.)
 */
export const SIM_POLICIES: readonly {
  readonly table: string;
  readonly operation: 'select' | 'insert' | 'update' | 'delete';
  readonly expression: string;
}[] = [
  ...(['select', 'insert', 'update', 'delete'] as const).map((operation) => ({
    table: 'notes',
    operation,
    expression: 'owner = auth.sub',
  })),
  ...(['pairs', 'counters'] as const).flatMap((table) =>
    (['select', 'insert', 'update', 'delete'] as const).map((operation) => ({
      table,
      operation,
      expression: '1 = 1',
    })),
  ),
];
