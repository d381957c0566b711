import type { HybridClock } from '../hlc/hlc.js';
import type { SiteId } from '../hlc/site-id.js';
import type { BulkWriter } from './bulk.js';
import type { SqliteDriver } from './driver.js';
import type { StampStore } from './stamp-store.js';

/**
 * What the replica's parts share: the connection, clock, stamp store and sequence counter.
 *
 * @example
 * ```ts
 * const seq = context.nextSeq();
 * ```
 */
export interface ReplicaContext {
  /** The SQLite connection. */
  readonly driver: SqliteDriver;
  /** This replica's site id. */
  readonly site: SiteId;
  /** This replica's clock. */
  readonly clock: HybridClock;
  /** Stored stamps by id. */
  readonly stamps: StampStore;
  /** Multi-row statement runner. */
  readonly bulk: BulkWriter;
  /** Takes the next local sequence number. */
  nextSeq(): number;
  /** Takes `count` consecutive sequence numbers and returns the first. */
  reserveSeqs(count: number): number;
}
