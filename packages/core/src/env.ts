/**
 * The effects OffSync reads from the outside world, passed in so that tests and the
 * fault-injection simulator can drive them deterministically.
 *
 * @example
 * ```ts
 * let now = 1_700_000_000_000;
 * const env: Env = { ...defaultEnv, now: () => now };
 * ```
 */
export interface Env {
  /** Wall-clock time in milliseconds since the Unix epoch. */
  readonly now: () => number;
  /** Fills `bytes` with cryptographically strong random bytes and returns it. */
  readonly randomBytes: (bytes: Uint8Array) => Uint8Array;
  /** A uniform random number in [0, 1), for jitter. */
  readonly random: () => number;
}

/**
 * The real environment: `Date.now`, Web Crypto randomness. The only module that reads them.
 *
 * @example
 * ```ts
 * const site = newSiteId(defaultEnv);
 * ```
 */
export const defaultEnv: Env = {
  now: () => Date.now(),
  randomBytes: (bytes) => globalThis.crypto.getRandomValues(bytes),
  random: () => Math.random(),
};
