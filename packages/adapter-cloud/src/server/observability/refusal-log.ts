import { RequestError } from '../sync-service.js';

/**
 * One refusal the server answered a device with.
 *
 * @example
 * ```ts
 * const entry: RefusalEntry = {
 *   at: 1764813600000, user: 'alice', site: 'a1…', table: 'todos', kind: 'row',
 *   reason: 'the insert policy of todos refused this row',
 * };
 * ```
 */
export interface RefusalEntry {
  /** When, in ms since the Unix epoch. */
  readonly at: number;
  /** Who (a token's `sub`, or `service:<label>` for an API key); null before authentication. */
  readonly user: string | null;
  /** The device's site id, null when the request named none. */
  readonly site: string | null;
  /** The table, null for a refusal of the whole request. */
  readonly table: string | null;
  /**
   * `row` (a pushed row refused), `schema-mismatch` / `not-enabled` (a table refused at hello),
   * else the error code of the refused request (`unauthorized`, `site-mismatch`, `too-large`…).
   */
  readonly kind: string;
  /** The reason the device was given. */
  readonly reason: string;
}

/**
 * How many refusals each database keeps: enough to see what a misbehaving app did over the last
 * while, small enough (about 300 kB at worst) that a flood of bad requests cannot grow memory.
 *
 * @example
 * ```ts
 * new RefusalLog(REFUSAL_LOG_CAPACITY);
 * ```
 */
export const REFUSAL_LOG_CAPACITY = 1000;

/** The most refusals one request adds: a push refusing 100,000 rows must not flush the log. */
const PER_REQUEST = 20;

/**
 * The latest refusals per database, in memory, bounded: a ring of {@link REFUSAL_LOG_CAPACITY}
 * entries each, the oldest dropped first. Lost on restart: it is for looking at now; the counts
 * that last are in `/metrics` (`offsync_refusals_total`).
 *
 * @example
 * ```ts
 * const log = new RefusalLog();
 * log.record('app', [entry]);
 * log.list('app', 100); // newest first
 * ```
 */
export class RefusalLog {
  readonly #capacity: number;
  readonly #rings = new Map<string, { entries: RefusalEntry[]; next: number }>();

  constructor(capacity = REFUSAL_LOG_CAPACITY) {
    this.#capacity = Math.max(1, capacity);
  }

  /**
   * Records the refusals of one request; beyond a few, one more entry says how many were left
   * out.
   */
  record(database: string, entries: readonly RefusalEntry[]): void {
    if (entries.length === 0) return;
    let ring = this.#rings.get(database);
    if (!ring) {
      ring = { entries: [], next: 0 };
      this.#rings.set(database, ring);
    }
    const kept = entries.slice(0, PER_REQUEST);
    const first = entries[0]!;
    if (entries.length > PER_REQUEST)
      kept.push({
        ...first,
        table: null,
        reason: `and ${entries.length - PER_REQUEST} more refusals in the same request`,
      });
    for (const entry of kept) {
      if (ring.entries.length < this.#capacity) ring.entries.push(entry);
      else ring.entries[ring.next] = entry;
      ring.next = (ring.next + 1) % this.#capacity;
    }
  }

  /** The latest `limit` refusals of a database, newest first. */
  list(database: string, limit: number): RefusalEntry[] {
    const ring = this.#rings.get(database);
    if (!ring) return [];
    const count = Math.min(limit, ring.entries.length);
    const result: RefusalEntry[] = [];
    for (let back = 1; back <= count; back++) {
      const index = (ring.next - back + ring.entries.length * 2) % ring.entries.length;
      result.push(ring.entries[index]!);
    }
    return result;
  }

  /** Forgets a database's refusals (it was deleted). */
  forget(database: string): void {
    this.#rings.delete(database);
  }
}

/**
 * The answer of `GET /v1/admin/databases/:db/refusals?limit=100`: the latest refusals, newest
 * first; `limit` is 1 to {@link REFUSAL_LOG_CAPACITY} (default 100).
 *
 * @example
 * ```ts
 * listRefusals(log, 'app', new URLSearchParams('limit=10'));
 * ```
 */
export function listRefusals(
  log: RefusalLog | undefined,
  database: string,
  query: URLSearchParams,
): RefusalEntry[] {
  const raw = query.get('limit');
  const limit = raw === null ? 100 : Number(raw);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > REFUSAL_LOG_CAPACITY)
    throw new RequestError(
      'bad-request',
      400,
      `limit must be a whole number from 1 to ${REFUSAL_LOG_CAPACITY}`,
    );
  return log?.list(database, limit) ?? [];
}
