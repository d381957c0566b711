import type { MigratedTable } from '@offsync/core';
import { sharedColumns } from '@offsync/core';
import type { CentralDatabase } from './central-database.js';

/**
 * One applied migration as the admin API lists it.
 *
 * @example
 * ```ts
 * const [first]: MigrationRecord[] = migrationLog(database).list();
 * ```
 */
export interface MigrationRecord {
  /** The migration's number in this database (1, 2, …): its schema version. */
  readonly id: number;
  /** The name it was given (the file's name, usually), or `null`. */
  readonly name: string | null;
  /** The SQL it ran. */
  readonly sql: string;
  /** When, in ms since the Unix epoch. */
  readonly appliedAt: number;
  /** What it did to each synced table it touched. */
  readonly tables: readonly {
    readonly table: string;
    readonly kind: 'additive' | 'destructive';
    readonly previous: string;
    readonly fingerprint: string;
  }[];
}

interface StoredRow {
  id: number;
  name: string | null;
  sql: string;
  appliedAt: number;
  tables: MigratedTable[];
}

/**
 * The migrations applied to one central database, kept in `offsync_migrations` beside its
 * tables, so the history (and the schemas older clients still declare) survives restarts.
 *
 * @example
 * ```ts
 * const log = migrationLog(database);
 * log.latest(); // 0 before any migration
 * ```
 */
export class MigrationLog {
  readonly #database: CentralDatabase;
  #rows: StoredRow[] | undefined;

  constructor(database: CentralDatabase) {
    this.#database = database;
    database.replica.driver.exec(
      'CREATE TABLE IF NOT EXISTS offsync_migrations(id INTEGER PRIMARY KEY, name TEXT, sql TEXT NOT NULL, applied_at INTEGER NOT NULL, tables TEXT NOT NULL)',
    );
  }

  /** Every applied migration, oldest first. */
  list(): MigrationRecord[] {
    return this.#all().map((row) => ({
      id: row.id,
      name: row.name,
      sql: row.sql,
      appliedAt: row.appliedAt,
      tables: row.tables.map(({ table, kind, previous, fingerprint }) => ({
        table,
        kind,
        previous,
        fingerprint,
      })),
    }));
  }

  /** The latest migration's number (0: none). */
  latest(): number {
    return this.#all().at(-1)?.id ?? 0;
  }

  /** Records a migration (inside its transaction); returns its number. */
  insert(
    name: string | null,
    sql: string,
    appliedAt: number,
    tables: readonly MigratedTable[],
  ): number {
    const [row] = this.#database.replica.driver
      .prepare(
        'INSERT INTO offsync_migrations(name, sql, applied_at, tables) VALUES (?, ?, ?, ?) RETURNING id',
      )
      .all([name, sql, appliedAt, JSON.stringify(tables)]);
    this.#rows = undefined;
    return Number(row![0]);
  }

  /** Forgets the cached rows (the transaction that inserted one rolled back). */
  invalidate(): void {
    this.#rows = undefined;
  }

  /**
   * What a client declaring `fingerprint` for `table` has: `current` (the server's schema),
   * `additive` (an older schema the current one only adds to: its columns), `destructive` (an
   * older schema a later migration dropped, renamed or retyped a column of), or `unknown` (no
   * schema of this database's history).
   */
  resolve(
    table: string,
    fingerprint: string,
  ):
    | { readonly kind: 'current' }
    | {
        readonly kind: 'additive' | 'destructive';
        readonly canonical: string;
        readonly columns: readonly string[];
        readonly migration: number;
      }
    | { readonly kind: 'unknown' } {
    const info = this.#database.replica.tableInfo(table);
    if (fingerprint === info.fingerprint) return { kind: 'current' };
    let canonical: string | undefined;
    let migration = 0;
    for (const row of this.#all()) {
      for (const entry of row.tables) {
        if (entry.table !== table) continue;
        migration = row.id;
        if (entry.previous === fingerprint) canonical = entry.previousCanonical;
        else if (entry.fingerprint === fingerprint) canonical = entry.canonical;
      }
    }
    if (canonical === undefined) return { kind: 'unknown' };
    const columns = sharedColumns(canonical, info.canonical);
    return columns === undefined
      ? { kind: 'destructive', canonical, columns: [], migration }
      : { kind: 'additive', canonical, columns, migration };
  }

  #all(): StoredRow[] {
    this.#rows ??= this.#database.replica.driver
      .prepare('SELECT id, name, sql, applied_at, tables FROM offsync_migrations ORDER BY id')
      .all()
      .map(([id, name, sql, appliedAt, tables]) => ({
        id: Number(id),
        name: name === null ? null : String(name),
        sql: String(sql),
        appliedAt: Number(appliedAt),
        tables: JSON.parse(String(tables)) as MigratedTable[],
      }));
    return this.#rows;
  }
}

const logs = new WeakMap<CentralDatabase, MigrationLog>();

/**
 * The migration log of a database (one per open database, created on first use).
 *
 * @example
 * ```ts
 * migrationLog(database).list();
 * ```
 */
export function migrationLog(database: CentralDatabase): MigrationLog {
  let log = logs.get(database);
  if (!log) {
    log = new MigrationLog(database);
    logs.set(database, log);
  }
  return log;
}
