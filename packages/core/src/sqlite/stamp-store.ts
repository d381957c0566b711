import { type Hlc, hlcToString } from '../hlc/hlc.js';
import { siteIdFromBytes, siteIdToBytes } from '../hlc/site-id.js';
import type { SqliteDriver, SqliteStatement } from './driver.js';

/**
 * The `offsync_stamps` table behind a cache: every distinct stamp a replica holds is stored once
 * and referred to by a small integer id. A local flush makes one stamp for all the rows it folds,
 * and a remote batch usually carries a handful, so per-row metadata stays a few bytes.
 *
 * @example
 * ```ts
 * const sid = stamps.idOf(stamp, seq);
 * stamps.stamp(sid); // the Hlc again
 * ```
 */
export class StampStore {
  readonly #byId = new Map<number, Hlc>();
  readonly #byStamp = new Map<string, number>();
  // Changes decoded from one changeset share stamp objects: most lookups stop here.
  readonly #byObject = new Map<Hlc, number>();
  readonly #select: SqliteStatement;
  readonly #find: SqliteStatement;
  readonly #insert: SqliteStatement;

  constructor(driver: SqliteDriver) {
    this.#select = driver.prepare('SELECT wall, counter, site FROM offsync_stamps WHERE id = ?');
    this.#find = driver.prepare(
      'SELECT id FROM offsync_stamps WHERE wall = ? AND counter = ? AND site = ?',
    );
    this.#insert = driver.prepare(
      'INSERT INTO offsync_stamps(wall, counter, site, seq) VALUES (?, ?, ?, ?) RETURNING id',
    );
  }

  /** The stamp with id `sid` (throws on an unknown id: the metadata is corrupt). */
  stamp(sid: number): Hlc {
    let stamp = this.#byId.get(sid);
    if (stamp === undefined) {
      const row = this.#select.all([BigInt(sid)])[0];
      if (!row) throw new Error(`offsync_stamps has no stamp ${sid}: the sync metadata is damaged`);
      stamp = {
        wall: Number(row[0]),
        counter: Number(row[1]),
        site: siteIdFromBytes(row[2] as Uint8Array),
      };
      this.#byId.set(sid, stamp);
    }
    return stamp;
  }

  /** The id of `stamp`, stored now (first seen at local sequence `seq`) if it is new. */
  idOf(stamp: Hlc, seq: number): number {
    let sid = this.#byObject.get(stamp);
    if (sid !== undefined) return sid;
    const key = hlcToString(stamp);
    sid = this.#byStamp.get(key);
    if (sid !== undefined) {
      this.#byObject.set(stamp, sid);
      return sid;
    }
    const params = [BigInt(stamp.wall), BigInt(stamp.counter), siteIdToBytes(stamp.site)];
    const found = this.#find.all(params)[0];
    if (found) {
      sid = Number(found[0]);
    } else {
      sid = Number(this.#insert.all([...params, BigInt(seq)])[0]![0]);
    }
    this.#byStamp.set(key, sid);
    this.#byObject.set(stamp, sid);
    this.#byId.set(sid, stamp);
    return sid;
  }

  /** Forgets every cached stamp (at the start of a transaction: ids may have changed since). */
  reset(): void {
    this.#byId.clear();
    this.#byStamp.clear();
    this.#byObject.clear();
  }
}
