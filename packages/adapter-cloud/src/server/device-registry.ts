import type { SqliteDriver } from '@offsync/core';
import { DeviceRevocations } from './device-revocations.js';

/**
 * What the server knows of a device (a client replica, by site id).
 *
 * @example
 * ```ts
 * const devices: DeviceInfo[] = database.devices.list();
 * ```
 */
export interface DeviceInfo {
  /** The device's site id. */
  readonly site: string;
  /** The user (`sub`) or API key label it authenticated as. */
  readonly user: string;
  /** First contact (ms since the epoch). */
  readonly firstSeen: number;
  /** Last request. */
  readonly lastSeen: number;
  /** Last completed pull. */
  readonly lastSync: number | undefined;
  /** The device's local sequence the server holds everything up to. */
  readonly acked: number;
  /** Changes the device reported it still had to push, at its last pull. */
  readonly pending: number;
  /** Bytes received from it. */
  readonly bytesUp: number;
  /** Bytes sent to it. */
  readonly bytesDown: number;
  /** Scope (claims and policies) it last synced under. */
  readonly scope: string | undefined;
  /** Rows of its pushes the server did not keep (refused by a policy or schema, or superseded). */
  readonly refusals: number;
}

/**
 * Traffic of one minute.
 *
 * @example
 * ```ts
 * const series: MetricPoint[] = database.devices.metrics(60);
 * ```
 */
export interface MetricPoint {
  /** Minute (ms since the epoch, at the minute's start). */
  readonly minute: number;
  /** Bytes received. */
  readonly bytesUp: number;
  /** Bytes sent. */
  readonly bytesDown: number;
  /** Rows changed by merges. */
  readonly changesMerged: number;
  /** Pushed rows the server did not keep (refused, or superseded by a later life). */
  readonly rowsRefused: number;
}

type MutableDevice = { -readonly [K in keyof DeviceInfo]: DeviceInfo[K] };
type MutablePoint = { -readonly [K in keyof MetricPoint]: MetricPoint[K] };

/**
 * Devices and traffic of a central database. Kept in memory and written to the database's
 * `offsync_server_devices` / `offsync_server_metrics` tables by `flush` (the server flushes every
 * few seconds and at shutdown): a lost update only makes a device push again from an older
 * acknowledgement, which is idempotent, so these writes do not need a durable commit each.
 *
 * @example
 * ```ts
 * registry.recordPush(site, 'alice', upTo, bytes.length, rows, Date.now());
 * ```
 */
export class DeviceRegistry {
  readonly #driver: SqliteDriver;
  readonly #devices = new Map<string, MutableDevice>();
  readonly #metrics = new Map<number, MutablePoint>();
  readonly #dirty = new Set<string>();
  readonly #dirtyMinutes = new Set<number>();
  #scopeVersion: number;
  /** Devices an admin revoked: their hellos and requests are refused with 403 `device-revoked`. */
  readonly revocations: DeviceRevocations;

  constructor(driver: SqliteDriver) {
    this.#driver = driver;
    this.revocations = new DeviceRevocations(driver);
    driver.exec(`
      CREATE TABLE IF NOT EXISTS offsync_server_devices(
        site TEXT PRIMARY KEY NOT NULL, user TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
        last_sync INTEGER, acked INTEGER NOT NULL, pending INTEGER NOT NULL, bytes_up INTEGER NOT NULL,
        bytes_down INTEGER NOT NULL, scope TEXT);
      CREATE TABLE IF NOT EXISTS offsync_server_metrics(
        minute INTEGER PRIMARY KEY NOT NULL, bytes_up INTEGER NOT NULL, bytes_down INTEGER NOT NULL,
        changes_merged INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS offsync_server_config(key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
    `);
    // Databases created before refusals were counted lack the columns; NOT NULL DEFAULT 0 lets
    // ADD COLUMN fill old rows.
    addColumnIfMissing(driver, 'offsync_server_devices', 'refusals');
    addColumnIfMissing(driver, 'offsync_server_metrics', 'rows_refused');
    for (const row of driver
      .prepare(
        'SELECT site, user, first_seen, last_seen, last_sync, acked, pending, bytes_up, bytes_down, scope, refusals FROM offsync_server_devices',
      )
      .all()) {
      const [
        site,
        user,
        firstSeen,
        lastSeen,
        lastSync,
        acked,
        pending,
        bytesUp,
        bytesDown,
        scope,
        refusals,
      ] = row;
      this.#devices.set(String(site), {
        site: String(site),
        user: String(user),
        firstSeen: Number(firstSeen),
        lastSeen: Number(lastSeen),
        lastSync: lastSync === null ? undefined : Number(lastSync),
        acked: Number(acked),
        pending: Number(pending),
        bytesUp: Number(bytesUp),
        bytesDown: Number(bytesDown),
        scope: scope === null ? undefined : String(scope),
        refusals: Number(refusals),
      });
    }
    const version = driver
      .prepare("SELECT value FROM offsync_server_config WHERE key = 'scope_version'")
      .all()[0];
    this.#scopeVersion = version ? Number(version[0]) : 0;
  }

  /** Changes whenever policies or synced tables change: devices of users resync. */
  get scopeVersion(): number {
    return this.#scopeVersion;
  }

  /** Invalidates every user's scope (policies or tables changed). */
  bumpScope(): void {
    this.#scopeVersion++;
    this.#driver
      .prepare(
        "INSERT OR REPLACE INTO offsync_server_config(key, value) VALUES ('scope_version', ?)",
      )
      .run([BigInt(this.#scopeVersion)]);
  }

  /** The device, if known. */
  get(site: string): DeviceInfo | undefined {
    return this.#devices.get(site);
  }

  /** Every known device, most recently seen first. */
  list(): DeviceInfo[] {
    return [...this.#devices.values()]
      .map((device) => ({ ...device }))
      .sort((a, b) => b.lastSeen - a.lastSeen);
  }

  /** Records a request from a device. */
  seen(site: string, user: string, now: number): DeviceInfo {
    return this.#touch(site, user, now);
  }

  #touch(site: string, user: string, now: number): MutableDevice {
    let device = this.#devices.get(site);
    if (!device) {
      device = {
        site,
        user,
        firstSeen: now,
        lastSeen: now,
        lastSync: undefined,
        acked: 0,
        pending: 0,
        bytesUp: 0,
        bytesDown: 0,
        scope: undefined,
        refusals: 0,
      };
      this.#devices.set(site, device);
    }
    device.user = user;
    device.lastSeen = now;
    this.#dirty.add(site);
    return device;
  }

  /** Records the scope a device syncs under; returns the previous one. */
  setScope(site: string, scope: string): string | undefined {
    const device = this.#devices.get(site);
    if (!device) return undefined;
    const previous = device.scope;
    device.scope = scope;
    this.#dirty.add(site);
    return previous;
  }

  /** Records an applied push. */
  recordPush(
    site: string,
    user: string,
    upTo: number,
    bytes: number,
    rows: number,
    now: number,
    refused = 0,
  ): void {
    const device = this.#touch(site, user, now);
    device.acked = Math.max(device.acked, upTo);
    device.bytesUp += bytes;
    device.refusals += refused;
    const point = this.#point(now);
    point.bytesUp += bytes;
    point.changesMerged += rows;
    point.rowsRefused += refused;
  }

  /** Records a refused push's traffic and how many of its rows were refused. */
  recordRefusedPush(site: string, user: string, bytes: number, now: number, refused = 0): void {
    const device = this.#touch(site, user, now);
    device.bytesUp += bytes;
    device.refusals += refused;
    const point = this.#point(now);
    point.bytesUp += bytes;
    point.rowsRefused += refused;
  }

  /** Records a served pull. */
  recordPull(
    site: string,
    user: string,
    bytes: number,
    pending: number,
    finished: boolean,
    now: number,
  ): void {
    const device = this.#touch(site, user, now);
    device.bytesDown += bytes;
    device.pending = pending;
    if (finished) device.lastSync = now;
    this.#point(now).bytesDown += bytes;
  }

  /** Traffic per minute over the last `minutes`, oldest first, including empty minutes. */
  metrics(minutes: number, now: number): MetricPoint[] {
    this.flush();
    const last = Math.floor(now / 60_000) * 60_000;
    const first = last - (minutes - 1) * 60_000;
    const stored = new Map(
      this.#driver
        .prepare(
          'SELECT minute, bytes_up, bytes_down, changes_merged, rows_refused FROM offsync_server_metrics WHERE minute >= ? ORDER BY minute',
        )
        .all([BigInt(first)])
        .map(([minute, up, down, merged, refused]) => [
          Number(minute),
          {
            minute: Number(minute),
            bytesUp: Number(up),
            bytesDown: Number(down),
            changesMerged: Number(merged),
            rowsRefused: Number(refused),
          },
        ]),
    );
    const series: MetricPoint[] = [];
    for (let minute = first; minute <= last; minute += 60_000) {
      series.push(
        stored.get(minute) ?? {
          minute,
          bytesUp: 0,
          bytesDown: 0,
          changesMerged: 0,
          rowsRefused: 0,
        },
      );
    }
    return series;
  }

  /** Totals since the database was created. */
  totals(): { bytesUp: number; bytesDown: number; changesMerged: number; rowsRefused: number } {
    this.flush();
    const [up, down, merged, refused] = this.#driver
      .prepare(
        'SELECT coalesce(sum(bytes_up), 0), coalesce(sum(bytes_down), 0), coalesce(sum(changes_merged), 0), coalesce(sum(rows_refused), 0) FROM offsync_server_metrics',
      )
      .all()[0]!;
    return {
      bytesUp: Number(up),
      bytesDown: Number(down),
      changesMerged: Number(merged),
      rowsRefused: Number(refused),
    };
  }

  /** Writes buffered device and metric updates. */
  flush(): void {
    if (this.#dirty.size === 0 && this.#dirtyMinutes.size === 0) return;
    const device = this.#driver.prepare(
      'INSERT OR REPLACE INTO offsync_server_devices(site, user, first_seen, last_seen, last_sync, acked, pending, bytes_up, bytes_down, scope, refusals) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
    );
    const metric = this.#driver.prepare(
      'INSERT OR REPLACE INTO offsync_server_metrics(minute, bytes_up, bytes_down, changes_merged, rows_refused) VALUES (?,?,?,?,?)',
    );
    this.#driver.exec('SAVEPOINT offsync_devices');
    try {
      for (const site of this.#dirty) {
        const d = this.#devices.get(site)!;
        device.run([
          d.site,
          d.user,
          BigInt(d.firstSeen),
          BigInt(d.lastSeen),
          d.lastSync === undefined ? null : BigInt(d.lastSync),
          BigInt(d.acked),
          BigInt(d.pending),
          BigInt(d.bytesUp),
          BigInt(d.bytesDown),
          d.scope ?? null,
          BigInt(d.refusals),
        ]);
      }
      for (const minute of this.#dirtyMinutes) {
        const p = this.#metrics.get(minute)!;
        metric.run([
          BigInt(minute),
          BigInt(p.bytesUp),
          BigInt(p.bytesDown),
          BigInt(p.changesMerged),
          BigInt(p.rowsRefused),
        ]);
      }
      this.#driver.exec('RELEASE offsync_devices');
    } catch (error) {
      this.#driver.exec('ROLLBACK TO offsync_devices; RELEASE offsync_devices');
      throw error;
    }
    this.#dirty.clear();
    this.#dirtyMinutes.clear();
  }

  #point(now: number): MutablePoint {
    const minute = Math.floor(now / 60_000) * 60_000;
    let point = this.#metrics.get(minute);
    if (!point) {
      const stored = this.#driver
        .prepare(
          'SELECT bytes_up, bytes_down, changes_merged, rows_refused FROM offsync_server_metrics WHERE minute = ?',
        )
        .all([BigInt(minute)])[0];
      point = {
        minute,
        bytesUp: stored ? Number(stored[0]) : 0,
        bytesDown: stored ? Number(stored[1]) : 0,
        changesMerged: stored ? Number(stored[2]) : 0,
        rowsRefused: stored ? Number(stored[3]) : 0,
      };
      this.#metrics.set(minute, point);
      // Older minutes are final once a new one starts.
      for (const old of this.#metrics.keys()) if (old < minute - 60_000) this.#metrics.delete(old);
    }
    this.#dirtyMinutes.add(minute);
    return point;
  }
}

function addColumnIfMissing(driver: SqliteDriver, table: string, column: string): void {
  const columns = driver
    .prepare(`SELECT name FROM pragma_table_info('${table}')`)
    .all()
    .map((row) => String(row[0]));
  if (!columns.includes(column))
    driver.exec(`ALTER TABLE ${table} ADD COLUMN ${column} INTEGER NOT NULL DEFAULT 0`);
}
