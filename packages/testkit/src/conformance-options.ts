/**
 * Tuning of the conformance suites.
 *
 * @example
 * ```ts
 * runDriverConformance(setup, 'my driver', { historyRuns: 200, timeoutMs: 600_000 });
 * ```
 */
export interface ConformanceOptions {
  /** Runs of each cheap property. Default: the `FC_RUNS` environment variable, else 1,000. */
  readonly numRuns?: number;
  /**
   * Runs of each random-history property (three databases and up to 25 steps per run). Default:
   * `numRuns`.
   */
  readonly historyRuns?: number;
  /** Timeout of each test in milliseconds. Default: 300,000. */
  readonly timeoutMs?: number;
}

/**
 * {@link ConformanceOptions} with every default filled in.
 *
 * @example
 * ```ts
 * const { numRuns } = resolveOptions({});
 * ```
 */
export interface ResolvedOptions {
  /** Runs of each cheap property. */
  readonly numRuns: number;
  /** Runs of each random-history property. */
  readonly historyRuns: number;
  /** Timeout of each test in milliseconds. */
  readonly timeoutMs: number;
}

/**
 * The run count from the `FC_RUNS` environment variable, or 1,000 (also where there is no
 * `process`, as in a browser).
 *
 * @example
 * ```ts
 * defaultRuns(); // 1000, or FC_RUNS
 * ```
 */
export function defaultRuns(): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env;
  const runs = Number(env?.FC_RUNS ?? 1000);
  return Number.isFinite(runs) && runs >= 1 ? Math.floor(runs) : 1000;
}

/**
 * Fills in the defaults of {@link ConformanceOptions}.
 *
 * @example
 * ```ts
 * const options = resolveOptions({ historyRuns: 100 });
 * options.numRuns; // 1000 unless FC_RUNS says otherwise
 * ```
 */
export function resolveOptions(options: ConformanceOptions = {}): ResolvedOptions {
  const numRuns = options.numRuns ?? defaultRuns();
  return {
    numRuns,
    historyRuns: options.historyRuns ?? numRuns,
    timeoutMs: options.timeoutMs ?? 300_000,
  };
}
