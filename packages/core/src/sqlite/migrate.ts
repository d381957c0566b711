import type { SqliteDriver } from './driver.js';
import { SchemaError } from './errors.js';
import { MigrationError, type MigrationStatement, parseMigration } from './migration-sql.js';
import { changeKind } from './schema-compat.js';
import { inSavepoint } from './sql.js';

/**
 * What one migration did to one synced table.
 *
 * @example
 * ```ts
 * const change: MigratedTable = { table: 'todos', kind: 'additive', previous: 'v1:…', fingerprint: 'v1:…', previousCanonical: '[…]', canonical: '[…]' };
 * ```
 */
export interface MigratedTable {
  /** The synced table. */
  readonly table: string;
  /**
   * `additive`: clients at the previous schema keep syncing the columns they have;
   * `destructive`: they are refused for this table until they migrate too.
   */
  readonly kind: 'additive' | 'destructive';
  /** Fingerprint before the migration. */
  readonly previous: string;
  /** Fingerprint after it. */
  readonly fingerprint: string;
  /** Canonical schema before (what a client at the previous schema declares). */
  readonly previousCanonical: string;
  /** Canonical schema after. */
  readonly canonical: string;
}

/**
 * What {@link SqliteReplica.migrate} did.
 *
 * @example
 * ```ts
 * const { applied, tables } = replica.migrate(sql);
 * ```
 */
export interface MigrationResult {
  /** False when this exact migration had already been applied here (nothing was done). */
  readonly applied: boolean;
  /** The synced tables the migration changed, by name. */
  readonly tables: readonly MigratedTable[];
}

/**
 * Options of {@link SqliteReplica.migrate}.
 *
 * @example
 * ```ts
 * replica.migrate(sql, { record: (result) => log(result) });
 * ```
 */
export interface MigrateOptions {
  /**
   * Runs inside the migration's transaction once the schema is taken up (a sync server records
   * the migration there): a throw undoes the whole migration.
   */
  readonly record?: (result: MigrationResult) => void;
}

/**
 * The part of a replica a migration drives (its public alter API and its settings).
 *
 * @example
 * ```ts
 * const target: MigratingReplica = replica;
 * ```
 */
export interface MigratingReplica {
  readonly driver: SqliteDriver;
  syncedTables(): string[];
  tableInfo(table: string): { readonly canonical: string; readonly fingerprint: string };
  beginAlter(table: string): void;
  commitAlter(table: string, options?: { renamed?: Readonly<Record<string, string>> }): void;
  readSetting(key: string): string | undefined;
  writeSetting(key: string, value: string | null): void;
}

/**
 * Runs a migration file on a replica, all or nothing: each synced table a statement touches is
 * altered between `beginAlter` and `commitAlter` (renames taken from the statements, not
 * guessed), so its metadata and fingerprint follow. On any failure the database is rolled back
 * and `reload` puts the replica's in-memory state back in step with it. Applying the same file
 * twice does nothing the second time (the file's hash is kept).
 *
 * @example
 * ```ts
 * runMigration(replica, 'ALTER TABLE todos ADD COLUMN due TEXT', {}, reload);
 * ```
 */
export function runMigration(
  replica: MigratingReplica,
  sql: string,
  options: MigrateOptions,
  reload: () => void,
): MigrationResult {
  const statements = parseMigration(sql);
  const key = `offsync:migration:${hashText(sql.trim())}`;
  if (replica.readSetting(key) !== undefined) return { applied: false, tables: [] };
  const synced = new Map(replica.syncedTables().map((name) => [name.toLowerCase(), name]));
  const touched = new Map<string, MigrationStatement[]>();
  statements.forEach((statement, index) => {
    const name = synced.get(statement.table.toLowerCase());
    if (name === undefined || statement.action === 'create-table') return;
    if (statement.action === 'rename-table') {
      throw new MigrationError(
        'rename-synced-table',
        `table ${name} is synced and a renamed table is a new table to every device: disable sync, rename it, and enable sync again`,
        index + 1,
        name,
      );
    }
    touched.set(name, [...(touched.get(name) ?? []), statement]);
  });
  const before = new Map([...touched.keys()].map((name) => [name, replica.tableInfo(name)]));
  const { driver } = replica;
  try {
    return inSavepoint(driver, () => {
      for (const name of touched.keys()) replica.beginAlter(name);
      statements.forEach((statement, index) => {
        if (statement.action !== 'create-table' && !tableExists(driver, statement.table)) {
          throw new MigrationError(
            'unknown-table',
            `there is no table ${statement.table}`,
            index + 1,
            statement.table,
          );
        }
        try {
          driver.exec(statement.sql);
        } catch (error) {
          throw new MigrationError(
            'statement-failed',
            `SQLite refused "${statement.sql}": ${error instanceof Error ? error.message : String(error)}`,
            index + 1,
            statement.table,
          );
        }
      });
      const tables: MigratedTable[] = [];
      for (const [name, list] of touched) {
        try {
          replica.commitAlter(name, { renamed: renamesOf(list, before.get(name)!.canonical) });
        } catch (error) {
          if (!(error instanceof SchemaError)) throw error;
          throw new MigrationError(
            'schema',
            `table ${name} could no longer sync: ${error.message}`,
            undefined,
            name,
          );
        }
        const previous = before.get(name)!;
        const after = replica.tableInfo(name);
        tables.push({
          table: name,
          kind: changeKind(previous.canonical, after.canonical),
          previous: previous.fingerprint,
          fingerprint: after.fingerprint,
          previousCanonical: previous.canonical,
          canonical: after.canonical,
        });
      }
      tables.sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
      const result: MigrationResult = { applied: true, tables };
      replica.writeSetting(key, JSON.stringify(tables.map((table) => table.fingerprint)));
      options.record?.(result);
      return result;
    });
  } catch (error) {
    reload();
    throw error;
  }
}

function tableExists(driver: SqliteDriver, table: string): boolean {
  return (
    driver
      .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE")
      .all([table]).length > 0
  );
}

/**
 * The renames a table's statements make, from original column names to final ones (a column
 * renamed twice counts once; a column added by the migration is not a rename).
 */
function renamesOf(
  statements: readonly MigrationStatement[],
  canonical: string,
): Record<string, string> {
  const original = new Set((JSON.parse(canonical) as [string][]).map((column) => column[0]));
  const current = new Map<string, string>();
  for (const statement of statements) {
    if (statement.action !== 'rename-column') continue;
    const from = statement.from!;
    const origin = [...current].find(([, now]) => now === from)?.[0] ?? from;
    current.set(origin, statement.to!);
  }
  return Object.fromEntries([...current].filter(([from, to]) => original.has(from) && from !== to));
}

function hashText(input: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(input)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffff_ffff_ffff_ffffn;
  }
  return hash.toString(16).padStart(16, '0');
}
