import type { Env } from '@offsync/core';

/** Wall time at which manual clocks start by default: 2023-11-14T22:13:20Z. */
export const MANUAL_START_MS = 1_700_000_000_000;

/**
 * An {@link Env} whose clock only moves when told to, and whose randomness (hence site ids) comes
 * from a seed: replicas opened with it are deterministic.
 *
 * @example
 * ```ts
 * const env: ManualEnv = manualEnv(MANUAL_START_MS, 7);
 * env.advance(1000);
 * ```
 */
export interface ManualEnv extends Env {
  /** Sets the wall clock (ms since the epoch). */
  set(ms: number): void;
  /** Moves the wall clock by `ms` (negative moves it back, as a corrected clock does). */
  advance(ms: number): void;
}

/**
 * A {@link ManualEnv} starting at `startMs`, with a xorshift32 generator seeded by `seed`.
 * Different seeds give different site ids.
 *
 * @example
 * ```ts
 * const replica = SqliteReplica.open(driver, { env: manualEnv(MANUAL_START_MS, 2) });
 * ```
 */
export function manualEnv(startMs = MANUAL_START_MS, seed = 1): ManualEnv {
  let now = startMs;
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return {
    now: () => now,
    random: () => next() / 2 ** 32,
    randomBytes: (bytes) => {
      for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
      return bytes;
    },
    set: (ms) => {
      now = ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}
