import type { SqliteDriver } from '@offsync/core';

/**
 * The devices (site ids) an admin revoked on one central database. Kept in the database's own
 * `offsync_server_revoked_devices` table with a durable write, unlike the device statistics: a
 * revocation lost to a crash would let a lost or stolen device sync again.
 *
 * @example
 * ```ts
 * const revocations = new DeviceRevocations(database.replica.driver);
 * revocations.revoke(site, Date.now());
 * revocations.revokedAt(site); // the instant, in ms
 * ```
 */
export class DeviceRevocations {
  readonly #driver: SqliteDriver;
  readonly #revoked = new Map<string, number>();

  constructor(driver: SqliteDriver) {
    this.#driver = driver;
    driver.exec(
      'CREATE TABLE IF NOT EXISTS offsync_server_revoked_devices(site TEXT PRIMARY KEY NOT NULL, revoked_at INTEGER NOT NULL) WITHOUT ROWID',
    );
    for (const [site, at] of driver
      .prepare('SELECT site, revoked_at FROM offsync_server_revoked_devices')
      .all())
      this.#revoked.set(String(site), Number(at));
  }

  /**
   * Revokes a device; revoking it again keeps the first instant.
   *
   * @example
   * ```ts
   * revocations.revoke('0123456789abcdef0123456789abcdef', Date.now());
   * ```
   */
  revoke(site: string, now: number): number {
    const earlier = this.#revoked.get(site);
    if (earlier !== undefined) return earlier;
    this.#driver
      .prepare('INSERT INTO offsync_server_revoked_devices(site, revoked_at) VALUES (?, ?)')
      .run([site, BigInt(now)]);
    this.#revoked.set(site, now);
    return now;
  }

  /**
   * When the device was revoked (ms since the epoch), or `undefined` while it may sync.
   *
   * @example
   * ```ts
   * if (revocations.revokedAt(site) !== undefined) refuse();
   * ```
   */
  revokedAt(site: string): number | undefined {
    return this.#revoked.get(site);
  }
}
