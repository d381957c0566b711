import type { Env } from '../env.js';
import { OffsyncError } from '../errors.js';
import { parseSiteId, type SiteId } from './site-id.js';

/**
 * A hybrid logical clock stamp: wall-clock milliseconds (48 bits), a logical counter (16 bits)
 * and the site that made it. Both numbers stay far below 2^53, so a stamp never passes through a
 * double that cannot hold it exactly; the 64-bit form is only ever a `bigint`.
 *
 * Order is total: wall, then counter, then site id bytes.
 *
 * @example
 * ```ts
 * const stamp: Hlc = { wall: 1_700_000_000_000, counter: 0, site };
 * ```
 */
export interface Hlc {
  /** Logical wall time in milliseconds since the Unix epoch, 0 ≤ wall < 2^48. */
  readonly wall: number;
  /** Logical counter within one millisecond, 0 ≤ counter < 2^16. */
  readonly counter: number;
  /** The replica that made the stamp. */
  readonly site: SiteId;
}

/** Largest logical wall time a stamp can hold (2^48 - 1 ms, the year 10889). */
export const HLC_MAX_WALL = 2 ** 48 - 1;
/** Largest logical counter (2^16 - 1). */
export const HLC_MAX_COUNTER = 0xffff;
/** Default bound on how far a remote stamp may run ahead of the local physical clock. */
export const DEFAULT_MAX_DRIFT_MS = 5 * 60 * 1000;

/**
 * A remote stamp ran further ahead of the local physical clock than the allowed drift. The
 * batch carrying it is refused whole; nothing of it is applied.
 *
 * @example
 * ```ts
 * if (error instanceof DriftError) console.log(`${error.driftMs} ms ahead, max ${error.maxDriftMs}`);
 * ```
 */
export class DriftError extends OffsyncError {
  readonly type = 'DriftError';
  /** Wall time of the refused stamp (ms). */
  readonly remoteMs: number;
  /** Local physical time when it was refused (ms). */
  readonly nowMs: number;
  /** How far ahead the stamp was: `remoteMs - nowMs`. */
  readonly driftMs: number;
  /** The configured bound. */
  readonly maxDriftMs: number;
  /** The site whose clock ran ahead. */
  readonly site: SiteId;

  constructor(remote: Hlc, nowMs: number, maxDriftMs: number) {
    const driftMs = remote.wall - nowMs;
    super(
      `clock drift refused: a stamp from site ${remote.site} is ${driftMs} ms ahead of the local ` +
        `clock, more than the allowed ${maxDriftMs} ms; fix the clock of that device or raise maxDriftMs`,
    );
    this.remoteMs = remote.wall;
    this.nowMs = nowMs;
    this.driftMs = driftMs;
    this.maxDriftMs = maxDriftMs;
    this.site = remote.site;
  }
}

/**
 * Text that is not a serialised stamp, or numbers outside a stamp's range.
 *
 * @example
 * ```ts
 * parseHlc('nonsense'); // throws HlcParseError
 * ```
 */
export class HlcParseError extends OffsyncError {
  readonly type = 'HlcParseError';
  /** The refused input. */
  readonly input: string;

  constructor(input: string, reason: string) {
    super(`invalid HLC stamp ${JSON.stringify(input)}: ${reason}`);
    this.input = input;
  }
}

/**
 * Orders two stamps: negative if `a` is earlier, positive if later, 0 if they are the same write.
 *
 * @example
 * ```ts
 * compareHlc(a, b) > 0; // a wins a last-writer-wins race against b
 * ```
 */
export function compareHlc(a: Hlc, b: Hlc): number {
  if (a.wall !== b.wall) return a.wall - b.wall;
  if (a.counter !== b.counter) return a.counter - b.counter;
  return a.site === b.site ? 0 : a.site < b.site ? -1 : 1;
}

/**
 * Serialises a stamp as 48 hex characters (wall, counter, site), whose string order is the
 * stamp order.
 *
 * @example
 * ```ts
 * hlcToString({ wall: 1, counter: 2, site }); // '000000000001' + '0002' + site
 * ```
 */
export function hlcToString(stamp: Hlc): string {
  return (
    stamp.wall.toString(16).padStart(12, '0') +
    stamp.counter.toString(16).padStart(4, '0') +
    stamp.site
  );
}

const HLC_PATTERN = /^[0-9a-f]{48}$/;

/**
 * Parses the output of {@link hlcToString}.
 *
 * @example
 * ```ts
 * compareHlc(parseHlc(hlcToString(stamp)), stamp); // 0
 * ```
 */
export function parseHlc(text: string): Hlc {
  if (!HLC_PATTERN.test(text))
    throw new HlcParseError(text, 'expected 48 lowercase hex characters');
  return {
    wall: Number.parseInt(text.slice(0, 12), 16),
    counter: Number.parseInt(text.slice(12, 16), 16),
    site: parseSiteId(text.slice(16)),
  };
}

/**
 * The stamp's 64-bit logical time, `wall << 16 | counter`, as a bigint (the site is not part of
 * it).
 *
 * @example
 * ```ts
 * hlcTime({ wall: 1, counter: 2, site }); // 65538n
 * ```
 */
export function hlcTime(stamp: Hlc): bigint {
  return (BigInt(stamp.wall) << 16n) | BigInt(stamp.counter);
}

/**
 * The stamp whose 64-bit logical time is `time`, made by `site`.
 *
 * @example
 * ```ts
 * hlcFromTime(65538n, site); // { wall: 1, counter: 2, site }
 * ```
 */
export function hlcFromTime(time: bigint, site: SiteId): Hlc {
  if (time < 0n || time > 0xffff_ffff_ffff_ffffn) {
    throw new HlcParseError(time.toString(), 'logical time must be an unsigned 64-bit integer');
  }
  return { wall: Number(time >> 16n), counter: Number(time & 0xffffn), site };
}

/**
 * Checks that a stamp's fields are in range (what a decoder must do before trusting one).
 *
 * @example
 * ```ts
 * isValidHlcFields(stamp.wall, stamp.counter); // true
 * ```
 */
export function isValidHlcFields(wall: number, counter: number): boolean {
  return (
    Number.isInteger(wall) &&
    wall >= 0 &&
    wall <= HLC_MAX_WALL &&
    Number.isInteger(counter) &&
    counter >= 0 &&
    counter <= HLC_MAX_COUNTER
  );
}

/** Options of a {@link HybridClock}. */
export interface HybridClockOptions {
  /** Where physical time comes from; defaults to the real clock. */
  readonly env?: Pick<Env, 'now'>;
  /** Largest accepted lead of a remote stamp over local physical time (default 5 minutes). */
  readonly maxDriftMs?: number;
  /** The last stamp this replica issued or received, when resuming from storage. */
  readonly last?: { readonly wall: number; readonly counter: number };
}

/**
 * A replica's hybrid logical clock.
 *
 * Local events never fail: when the counter would overflow, the logical wall moves forward one
 * millisecond and the counter restarts, so a huge batch written within one millisecond, or while
 * the clock runs ahead of wall time, always gets stamps (Evolu's overflow error left write queues
 * stuck; we never raise one). Remote stamps further ahead than `maxDriftMs` are refused.
 *
 * @example
 * ```ts
 * const clock = new HybridClock(site, { env: { now: () => Date.now() } });
 * const stamp = clock.now();
 * clock.receive(remoteStamp); // throws DriftError if remoteStamp is too far ahead
 * ```
 */
export class HybridClock {
  /** Largest accepted lead of a remote stamp over local physical time. */
  readonly maxDriftMs: number;
  #site: SiteId;
  #now: () => number;
  #wall: number;
  #counter: number;

  constructor(site: SiteId, options: HybridClockOptions = {}) {
    this.#site = site;
    this.maxDriftMs = options.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS;
    this.#now = options.env?.now ?? (() => Date.now());
    this.#wall = options.last?.wall ?? 0;
    this.#counter = options.last?.counter ?? 0;
  }

  /** The site this clock stamps for. */
  get site(): SiteId {
    return this.#site;
  }

  /**
   * Stamps for another site from now on (a replica restored from a backup takes a new site id, so
   * that its stamps cannot repeat ones its earlier self issued). The time is kept.
   */
  changeSite(site: SiteId): void {
    this.#site = site;
  }

  /** The last stamp issued or received (the clock's state, to persist). */
  get last(): Hlc {
    return { wall: this.#wall, counter: this.#counter, site: this.#site };
  }

  /** Current physical time as this clock sees it (ms). */
  physicalNow(): number {
    return Math.floor(this.#now());
  }

  /** Issues the stamp of a local event, greater than every stamp issued or received before. */
  now(): Hlc {
    return this.stampAt(this.physicalNow());
  }

  /**
   * Issues the stamp of a local event that happened at physical time `writtenAt` (ms), still
   * greater than every stamp issued or received before. A write captured earlier and stamped
   * later keeps the time it was made (so it does not beat a later write of another device), and
   * a time ahead of the local physical clock is clamped to it.
   *
   * @example
   * ```ts
   * const stamp = clock.stampAt(writtenAtMs); // stamp.wall >= min(writtenAtMs, physicalNow())
   * ```
   */
  stampAt(writtenAt: number): Hlc {
    const physical = Math.min(Math.floor(writtenAt), this.physicalNow());
    if (physical > this.#wall) {
      this.#wall = physical;
      this.#counter = 0;
    } else {
      this.#bumpCounter();
    }
    return { wall: this.#wall, counter: this.#counter, site: this.#site };
  }

  /**
   * The drift error `remote` would raise, or `undefined` when it is acceptable. Pure: use it to
   * check a whole batch before receiving any of it.
   */
  check(remote: Hlc, physical: number = this.physicalNow()): DriftError | undefined {
    return remote.wall - physical > this.maxDriftMs
      ? new DriftError(remote, physical, this.maxDriftMs)
      : undefined;
  }

  /**
   * Advances the clock past a received stamp, so that every later local stamp is greater.
   * Throws {@link DriftError} (and changes nothing) when the stamp is too far ahead.
   */
  receive(remote: Hlc): void {
    const physical = this.physicalNow();
    const error = this.check(remote, physical);
    if (error) throw error;
    this.observe(remote);
  }

  /**
   * Advances the clock past a stamp already checked for drift (or one read back from this
   * replica's own storage). Does not create a new event.
   */
  observe(stamp: { readonly wall: number; readonly counter: number }): void {
    if (stamp.wall > this.#wall || (stamp.wall === this.#wall && stamp.counter > this.#counter)) {
      this.#wall = stamp.wall;
      this.#counter = stamp.counter;
    }
  }

  #bumpCounter(): void {
    if (this.#counter < HLC_MAX_COUNTER) {
      this.#counter++;
    } else {
      // Roll the logical wall forward instead of wrapping or failing.
      this.#wall++;
      this.#counter = 0;
    }
  }
}
