import { existsSync } from 'node:fs';
import { SqliteReplica, type SqliteReplicaOptions } from '@offsync/core';
import Database from 'libsql';
import { LibsqlDriver } from './libsql-driver.js';

/** Options of {@link openLibsqlReplica}. */
export interface OpenLibsqlReplicaOptions extends SqliteReplicaOptions {
  /**
   * `PRAGMA synchronous` for file databases: `'NORMAL'` (default; in WAL mode a power cut may
   * lose the last commits but never corrupts) or `'FULL'` (every commit is durable before it
   * returns).
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /** Open an existing file read-write but do not create it (throws when there is none). */
  readonly fileMustExist?: boolean;
}

/**
 * A replica over a libsql connection. The app reads and writes its tables through `db` with
 * plain SQL; changes to synced tables are captured whatever connection makes them.
 *
 * @example
 * ```ts
 * const replica = openLibsqlReplica('app.db');
 * replica.db.exec('CREATE TABLE IF NOT EXISTS todos(id TEXT PRIMARY KEY NOT NULL, title TEXT)');
 * replica.enableSync('todos');
 * replica.db.prepare('INSERT INTO todos VALUES (?, ?)').run(['t1', 'milk']);
 * ```
 */
export interface LibsqlReplica extends SqliteReplica {
  /** The libsql connection the app uses. */
  readonly db: Database.Database;
}

/**
 * Opens (or creates) a SQLite database with libsql and makes it a replica. File databases use
 * WAL mode; every database keeps temporary data in memory (`temp_store=MEMORY`), so statement
 * journals of trigger writes never go to temp files.
 *
 * @example
 * ```ts
 * const replica = openLibsqlReplica(':memory:');
 * ```
 */
export function openLibsqlReplica(
  path: string,
  options: OpenLibsqlReplicaOptions = {},
): LibsqlReplica {
  const memory = path === ':memory:' || path === '';
  // libsql 0.5.29 accepts `fileMustExist` and creates the file all the same.
  if (options.fileMustExist && !memory && !existsSync(path)) {
    throw new Error(`unable to open database file: ${path} does not exist`);
  }
  const db = new Database(path);
  try {
    if (!memory) {
      db.exec('PRAGMA journal_mode = WAL');
      db.exec(`PRAGMA synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    }
    db.exec('PRAGMA temp_store = MEMORY');
    const replica = SqliteReplica.open(new LibsqlDriver(db), options);
    Object.defineProperty(replica, 'db', { value: db, enumerable: true });
    return replica as LibsqlReplica;
  } catch (error) {
    db.close();
    throw error;
  }
}
