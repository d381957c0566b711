import type { SqliteDriver } from './driver.js';
import { createTriggers, dropTriggers, type ShadowNames } from './shadow-tables.js';

/**
 * Version of the metadata layout in `offsync_state` under `format`. 2: each change-log entry
 * carries the time of its write (`w`), so a change is stamped when it was made, not when folded.
 */
export const METADATA_FORMAT = 2;

/** What {@link upgradeMetadata} needs of one synced table. */
export interface UpgradableTable {
  /** The table's shadow names. */
  readonly shadow: ShadowNames;
  /** Its value (non-key) columns. */
  readonly valueColumns: readonly { readonly name: string; readonly type: string }[];
  /** Whether it is between `beginAlter` and `commitAlter` (triggers dropped until then). */
  readonly altering: boolean;
}

/**
 * Brings a replica's metadata from layout `from` up to {@link METADATA_FORMAT}, in place, in the
 * caller's transaction, and records the new format. From 1: the change logs gain the write-time
 * column (entries already captured keep `NULL` and are stamped at their fold, as before) and the
 * triggers are recreated to fill it.
 *
 * @example
 * ```ts
 * if (format < METADATA_FORMAT) upgradeMetadata(driver, format, tables);
 * ```
 */
export function upgradeMetadata(
  driver: SqliteDriver,
  from: number,
  tables: readonly UpgradableTable[],
): void {
  if (from < 2) {
    for (const table of tables) {
      const logName = table.shadow.log.slice(1, -1).replaceAll('""', '"');
      const hasTime = driver
        .prepare('SELECT 1 FROM pragma_table_info(?) WHERE name = ?')
        .all([logName, 'w']);
      if (hasTime.length === 0) driver.exec(`ALTER TABLE ${table.shadow.log} ADD COLUMN w INTEGER`);
      if (!table.altering) {
        dropTriggers(driver, table.shadow);
        createTriggers(driver, table.shadow, table.valueColumns);
      }
    }
  }
  driver
    .prepare("INSERT OR REPLACE INTO offsync_state(key, value) VALUES ('format', ?)")
    .run([BigInt(METADATA_FORMAT)]);
}

/**
 * Creates OffSync's bookkeeping tables if they are missing:
 *
 * - `offsync_state`: site id, clock, sequence counter;
 * - `offsync_tables` and `offsync_columns`: synced tables, their schema and stable column ids;
 * - `offsync_stamps`: every distinct HLC stamp the replica holds, by id (indexed by stamp, and by
 *   site for the greatest stamp of a site).
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
    -- A server tells a device the greatest stamp it holds from the device's site (restore check).
    CREATE INDEX IF NOT EXISTS offsync_stamps_by_site ON offsync_stamps(site, wall, counter);
  `);
}
