import type { Env } from '../env.js';

/** A deterministic environment: a settable clock and a seeded xorshift for randomness. */
export function fakeEnv(
  startMs = 1_700_000_000_000,
  seed = 1,
): Env & { set(ms: number): void; advance(ms: number): void } {
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
