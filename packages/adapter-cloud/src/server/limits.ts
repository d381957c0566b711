/**
 * The server's limits.
 *
 * @example
 * ```ts
 * const limits: ServerLimits = { ...DEFAULT_LIMITS, maxMessageBytes: 1024 * 1024 };
 * ```
 */
export interface ServerLimits {
  /** Largest request body or WebSocket frame (bytes). Larger ones are refused (413 / close 1009). */
  readonly maxMessageBytes: number;
  /** Most changes one push may carry. */
  readonly maxBatchChanges: number;
  /** Most rows one pull page may return. */
  readonly maxPageRows: number;
  /** Sustained requests per second per connection (HTTP: per client address and credential). */
  readonly requestsPerSecond: number;
  /** Requests allowed in a burst above the sustained rate. */
  readonly burst: number;
}

/** Defaults: 16 MiB messages, 200k changes a push, 5,000 rows a page, 50 requests/s, burst 200. */
export const DEFAULT_LIMITS: ServerLimits = {
  maxMessageBytes: 16 * 1024 * 1024,
  maxBatchChanges: 200_000,
  maxPageRows: 5_000,
  requestsPerSecond: 50,
  burst: 200,
};

/**
 * A token bucket: `take()` is false when the caller is over its rate.
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket(50, 200, () => Date.now());
 * if (!bucket.take()) respond(429);
 * ```
 */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    readonly now: () => number,
  ) {
    this.#tokens = burst;
    this.#last = now();
  }

  /** Takes one token; false when none is left. */
  take(): boolean {
    const now = this.now();
    this.#tokens = Math.min(
      this.burst,
      this.#tokens + ((now - this.#last) / 1000) * this.perSecond,
    );
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
