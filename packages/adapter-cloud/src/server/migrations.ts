import { MigrationError } from '@offsync/core';
import type { CentralDatabase } from './central-database.js';
import { type MigrationRecord, migrationLog } from './migration-log.js';
import { RequestError } from './sync-service.js';

/**
 * A refused migration: the {@link MigrationError}'s code, statement and table, as the admin API
 * answers it (400; 409 `already-applied`). Nothing of the migration was applied.
 *
 * @example
 * ```ts
 * if (error instanceof MigrationRefusedError) console.log(error.code, error.statement);
 * ```
 */
export class MigrationRefusedError extends RequestError {
  /** The statement at fault, 1-based, when one is. */
  readonly statement: number | undefined;
  /** The table at fault, when one is. */
  readonly table: string | undefined;

  constructor(code: string, status: number, message: string, statement?: number, table?: string) {
    super(code, status, message);
    this.statement = statement;
    this.table = table;
  }
}

/**
 * Runs a migration file on a central database, all or nothing, and records it: each synced
 * table it touches is altered between `beginAlter` and `commitAlter`, so its fingerprint moves
 * on. Throws {@link MigrationRefusedError} with nothing changed.
 *
 * @example
 * ```ts
 * const record = migrateDatabase(database, 'ALTER TABLE todos ADD COLUMN due TEXT', '002-due.sql', Date.now());
 * ```
 */
export function migrateDatabase(
  database: CentralDatabase,
  sql: string,
  name: string | null,
  now: number,
): MigrationRecord {
  const log = migrationLog(database);
  let id = 0;
  try {
    const result = database.replica.migrate(sql, {
      record: (outcome) => {
        id = log.insert(name, sql, now, outcome.tables);
      },
    });
    if (!result.applied) {
      const earlier = log.list().find((row) => row.sql.trim() === sql.trim());
      throw new MigrationRefusedError(
        'already-applied',
        409,
        `this migration was already applied to database ${database.name}${earlier ? ` (migration ${earlier.id})` : ''}`,
      );
    }
  } catch (error) {
    log.invalidate();
    if (error instanceof MigrationError)
      throw new MigrationRefusedError(error.code, 400, error.message, error.statement, error.table);
    throw error;
  }
  return log.list().find((row) => row.id === id)!;
}
