/**
 * Exponential backoff with jitter, for reconnecting.
 *
 * @example
 * ```ts
 * const policy: BackoffPolicy = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };
 * ```
 */
export interface BackoffPolicy {
  /** Delay before the first retry. */
  readonly initialMs: number;
  /** Largest delay. */
  readonly maxMs: number;
  /** Growth per failed attempt. */
  readonly factor: number;
  /** Share of the delay that is random, 0..1 (0.5: between 50% and 100% of the delay). */
  readonly jitter: number;
}

/** The default: 0.5 s, doubling, at most 30 s, half of it random. */
export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: 500,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.5,
};

/**
 * The delay before retry number `attempt` (0-based), with `random` in [0, 1). Jitter spreads
 * many clients reconnecting after an outage so they do not hit the server in lockstep.
 *
 * @example
 * ```ts
 * backoffDelay(DEFAULT_BACKOFF, 3, Math.random); // between 2000 and 4000 ms
 * ```
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** attempt);
  return Math.round(base * (1 - policy.jitter) + base * policy.jitter * random());
}
