import type { SqliteDriver } from './driver.js';

/** Version of the metadata layout in `offsync_state` under `format`. */
export const METADATA_FORMAT = 1;

/**
 * Creates OffSync's bookkeeping tables if they are missing:
 *
 * - `offsync_state`: site id, clock, sequence counter;
 * - `offsync_tables` and `offsync_columns`: synced tables, their schema and stable column ids;
 * - `offsync_stamps`: every distinct HLC stamp the replica holds, by id.
 *
 * @example
 * ```ts
 * createMetadataTables(driver);
 * ```
 */
export function createMetadataTables(driver: SqliteDriver): void {
  driver.exec(`
    CREATE TABLE IF NOT EXISTS offsync_state(key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS offsync_tables(
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      schema TEXT NOT NULL, -- the TableSchema as JSON
      fingerprint TEXT NOT NULL,
      options TEXT NOT NULL,
      altering TEXT
    );
    CREATE TABLE IF NOT EXISTS offsync_columns(
      table_id INTEGER NOT NULL,
      id INTEGER NOT NULL,
      name TEXT NOT NULL,
      position INTEGER NOT NULL,
      added_seq INTEGER NOT NULL,
      PRIMARY KEY(table_id, id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS offsync_stamps(
      id INTEGER PRIMARY KEY,
      wall INTEGER NOT NULL,
      counter INTEGER NOT NULL,
      site BLOB NOT NULL,
      seq INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS offsync_stamps_by_hlc ON offsync_stamps(wall, counter, site);
  `);
}
