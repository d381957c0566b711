import { SqliteReplica, type SqliteReplicaOptions } from '@offsync/core';
import Database from 'better-sqlite3';
import { BetterSqliteDriver } from './better-sqlite3-driver.js';

/** Options of {@link openReplica}. */
export interface OpenReplicaOptions extends SqliteReplicaOptions {
  /**
   * `PRAGMA synchronous` for file databases: `'NORMAL'` (default; in WAL mode a power cut may
   * lose the last commits but never corrupts) or `'FULL'` (every commit is durable before it
   * returns, what a server acknowledging writes needs).
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /** Open an existing file read-write but do not create it. */
  readonly fileMustExist?: boolean;
}

/**
 * A replica over a better-sqlite3 connection. The app reads and writes its tables through `db`
 * with plain SQL; changes to synced tables are captured whatever connection makes them.
 *
 * @example
 * ```ts
 * const replica = openReplica('app.db');
 * replica.db.exec('CREATE TABLE IF NOT EXISTS todos(id TEXT PRIMARY KEY NOT NULL, title TEXT)');
 * replica.enableSync('todos');
 * replica.db.prepare('INSERT INTO todos VALUES (?, ?)').run('t1', 'milk');
 * ```
 */
export interface NodeReplica extends SqliteReplica {
  /** The better-sqlite3 connection the app uses. */
  readonly db: Database.Database;
}

/**
 * Opens (or creates) a SQLite database with better-sqlite3 and makes it a replica. File
 * databases use WAL mode; every database keeps temporary data in memory (`temp_store=MEMORY`),
 * so statement journals of trigger writes never go to temp files.
 *
 * @example
 * ```ts
 * const replica = openReplica(':memory:');
 * ```
 */
export function openReplica(path: string, options: OpenReplicaOptions = {}): NodeReplica {
  const db = new Database(path, options.fileMustExist ? { fileMustExist: true } : {});
  try {
    if (path !== ':memory:' && path !== '') {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    }
    db.pragma('temp_store = MEMORY');
    const replica = SqliteReplica.open(new BetterSqliteDriver(db), options);
    Object.defineProperty(replica, 'db', { value: db, enumerable: true });
    return replica as NodeReplica;
  } catch (error) {
    db.close();
    throw error;
  }
}
