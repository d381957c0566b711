import type { SqliteDriver, SqlValue } from '@offsync/core';

/**
 * Which rows each device was sent under row-level security. An eviction ("drop this row") is
 * only sent to a device that holds the row: telling every user the keys of every changed row they
 * may not see would leak other users' primary keys. Kept in the central database
 * (`offsync_server_sent`), one small entry per device and visible row.
 *
 * @example
 * ```ts
 * const sent = new SentRows(driver);
 * sent.record(site, 'todos', [pk]);
 * sent.held(site, 'todos', [pk]); // [pk]
 * ```
 */
export class SentRows {
  readonly #driver: SqliteDriver;
  readonly #devices = new Map<string, bigint>();

  constructor(driver: SqliteDriver) {
    this.#driver = driver;
    driver.exec(`
      CREATE TABLE IF NOT EXISTS offsync_server_device_ids(id INTEGER PRIMARY KEY, site TEXT NOT NULL UNIQUE);
      CREATE TABLE IF NOT EXISTS offsync_server_sent(
        device INTEGER NOT NULL, tbl TEXT NOT NULL, pk BLOB NOT NULL, PRIMARY KEY(device, tbl, pk)
      ) WITHOUT ROWID;
    `);
  }

  /** Records that the device now holds these rows. */
  record(site: string, table: string, pks: readonly Uint8Array[]): void {
    if (pks.length === 0) return;
    const device = this.#device(site);
    const insert = this.#driver.prepare(
      'INSERT OR IGNORE INTO offsync_server_sent(device, tbl, pk) VALUES (?, ?, ?)',
    );
    for (const pk of pks) insert.run([device, table, pk]);
  }

  /** Of these rows, those the device holds; they are forgotten (the caller evicts them). */
  takeHeld(site: string, table: string, pks: readonly Uint8Array[]): Uint8Array[] {
    if (pks.length === 0) return [];
    const device = this.#device(site);
    const select = this.#driver.prepare(
      'SELECT 1 FROM offsync_server_sent WHERE device = ? AND tbl = ? AND pk = ?',
    );
    const remove = this.#driver.prepare(
      'DELETE FROM offsync_server_sent WHERE device = ? AND tbl = ? AND pk = ?',
    );
    const held: Uint8Array[] = [];
    for (const pk of pks) {
      const params: SqlValue[] = [device, table, pk];
      if (select.all(params).length > 0) {
        held.push(pk);
        remove.run(params);
      }
    }
    return held;
  }

  /** Forgets everything the device held (it dropped its synced rows to resync). */
  forget(site: string): void {
    this.#driver
      .prepare('DELETE FROM offsync_server_sent WHERE device = ?')
      .run([this.#device(site)]);
  }

  #device(site: string): bigint {
    let id = this.#devices.get(site);
    if (id === undefined) {
      this.#driver
        .prepare('INSERT OR IGNORE INTO offsync_server_device_ids(site) VALUES (?)')
        .run([site]);
      id = this.#driver
        .prepare('SELECT id FROM offsync_server_device_ids WHERE site = ?')
        .all([site])[0]![0] as bigint;
      this.#devices.set(site, id);
    }
    return id;
  }
}
