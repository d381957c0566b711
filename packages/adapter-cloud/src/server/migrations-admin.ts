import type { CentralDatabase } from './central-database.js';
import { type MigrationRecord, migrationLog } from './migration-log.js';
import { migrateDatabase } from './migrations.js';
import { RequestError } from './sync-service.js';

/**
 * Largest migration file the admin API takes, in characters (a schema change, not a data load).
 *
 * @example
 * ```ts
 * if (sql.length > MAX_MIGRATION_SQL_CHARS) splitIntoSeveralMigrations(sql);
 * ```
 */
export const MAX_MIGRATION_SQL_CHARS = 256 * 1024;

/**
 * The migration routes of the admin API, for one database:
 * `POST /databases/:db/migrate {sql, name?}` → `{version, tables}` (the migration's number and
 * what it did to each synced table) and `GET /databases/:db/migrations` → every applied
 * migration, oldest first. Returns `undefined` for any other route. After a migration the
 * connected clients are told (`notify`), so each says hello again and learns what it means for
 * its tables.
 *
 * @example
 * ```ts
 * const body = handleMigrationAdmin(database, 'POST', 'migrate', { sql }, Date.now(), notify);
 * ```
 */
export function handleMigrationAdmin(
  database: CentralDatabase,
  method: string,
  section: string | undefined,
  body: unknown,
  now: number,
  notify: ((database: string, version: number, migration: number) => void) | undefined,
): unknown {
  if (section === 'migrations' && method === 'GET') return migrationLog(database).list();
  if (section !== 'migrate' || method !== 'POST') return undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new RequestError('bad-request', 400, 'the body must be a JSON object');
  const { sql, name } = body as Record<string, unknown>;
  if (typeof sql !== 'string' || sql.trim().length === 0)
    throw new RequestError('bad-request', 400, 'sql must be the migration file, as text');
  if (sql.length > MAX_MIGRATION_SQL_CHARS)
    throw new RequestError(
      'too-large',
      413,
      `a migration of ${sql.length} characters exceeds ${MAX_MIGRATION_SQL_CHARS}`,
    );
  if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.length > 200))
    throw new RequestError('bad-request', 400, 'name must be a string of 1 to 200 characters');
  const record: MigrationRecord = migrateDatabase(database, sql, name ?? null, now);
  notify?.(database.name, database.version, record.id);
  return { version: record.id, tables: record.tables };
}
