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
  /**
   * Most changes one multi-page push unit (a local transaction larger than a page) may stage
   * before its last page commits it; a larger unit is refused (413 `unit-too-large`).
   */
  readonly maxUnitChanges: number;
  /** Most rows one pull page may return. */
  readonly maxPageRows: number;
  /**
   * Sustained requests per second per caller: per WebSocket connection, and over HTTP per
   * authenticated principal (a user's `sub`, an API key's id), however its credential is spelled.
   */
  readonly requestsPerSecond: number;
  /** Requests allowed in a burst above the sustained rate. */
  readonly burst: number;
  /**
   * Sustained requests per second per client address, counted before authentication (every
   * HTTP request but health checks, and every WebSocket upgrade), so guessing credentials or
   * opening connections is bounded too. Higher than {@link requestsPerSecond}: several users may
   * share one address behind a NAT (the server applies the larger of the two).
   */
  readonly addressRequestsPerSecond: number;
  /** Requests allowed in a burst per client address (at least {@link burst}). */
  readonly addressBurst: number;
  /**
   * Reply bytes a WebSocket may have waiting to be written (the client reads slower than the
   * server answers) before the server stops reading and answering that socket's requests; it
   * resumes once they are written. One reply may exceed it; no second one starts.
   */
  readonly maxBufferedBytes: number;
  /**
   * Requests one WebSocket may have waiting for an answer. Reading pauses while any request
   * waits, so only frames that arrived in one piece can pile up; past this many the socket is
   * closed with code 1008 (`too many requests queued`).
   */
  readonly maxQueuedRequests: number;
  /** Time a WebSocket has, from its upgrade, to complete `hello`; then it is closed with 4408. */
  readonly helloTimeoutMs: number;
  /**
   * Time a WebSocket may go without one complete frame (a request, or the pong to the pings the
   * server sends at half this interval); then it is closed with 4408. Catches a client that
   * trickles a frame a byte at a time, or has gone away without closing.
   */
  readonly idleTimeoutMs: number;
  /**
   * Time an HTTP request (a WebSocket upgrade too) has to send its headers; a connection past it
   * is closed (with 408 when nothing was answered yet).
   */
  readonly headersTimeoutMs: number;
  /**
   * Time an HTTP request has to send its whole body (larger than {@link headersTimeoutMs}: a
   * 16 MiB push over a slow uplink takes a while); a connection past it is closed.
   */
  readonly requestTimeoutMs: number;
}

/**
 * Defaults: 16 MiB messages, 200k changes a push, 5,000 rows a page, 50 requests/s (burst 200)
 * per caller, 500/s (burst 2,000) per address, 4 MiB of unwritten replies and 32 waiting requests
 * per WebSocket, 10 s to hello, 60 s idle, 10 s for HTTP headers and 120 s for a request.
 */
export const DEFAULT_LIMITS: ServerLimits = {
  maxMessageBytes: 16 * 1024 * 1024,
  maxBatchChanges: 200_000,
  maxUnitChanges: 1_000_000,
  maxPageRows: 5_000,
  requestsPerSecond: 50,
  burst: 200,
  addressRequestsPerSecond: 500,
  addressBurst: 2_000,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxQueuedRequests: 32,
  helloTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 120_000,
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

  /** Whether the bucket has refilled to its burst: forgetting it changes nothing. */
  get full(): boolean {
    const tokens = this.#tokens + ((this.now() - this.#last) / 1000) * this.perSecond;
    return tokens >= this.burst;
  }
}

/**
 * Token buckets by key (a client address, a principal), in a bounded map: when it is full,
 * buckets that have refilled are forgotten first, then the oldest. Never cleared wholesale, so
 * a caller cannot reset everyone's allowance by sending many distinct keys.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter(50, 200, () => Date.now());
 * if (!limiter.take(`user:${principal.sub}`)) respond(429);
 * ```
 */
export class RateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    readonly now: () => number,
    readonly maxKeys = 10_000,
  ) {}

  /** Takes one token from `key`'s bucket; false when it has none left. */
  take(key: string): boolean {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.maxKeys) this.#evict();
      bucket = new TokenBucket(this.perSecond, this.burst, this.now);
      this.#buckets.set(key, bucket);
    }
    return bucket.take();
  }

  #evict(): void {
    for (const [key, bucket] of this.#buckets) if (bucket.full) this.#buckets.delete(key);
    // Every bucket is in use: the oldest go (a caller needs this many addresses or principals).
    const target = Math.floor(this.maxKeys * 0.9);
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size <= target) break;
      this.#buckets.delete(key);
    }
  }
}
