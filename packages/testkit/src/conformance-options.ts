import { checkLimitations, type KnownLimitation } from './limitations.js';

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
  /**
   * Seed of every property. Default: the `FC_SEED` environment variable, else a random one; a
   * failing test prints the command that replays it.
   */
  readonly seed?: number;
  /** Known limitations of the binding: each skips exactly the checks it names, with its reason. */
  readonly limitations?: readonly KnownLimitation[];
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
  /** Seed of every property. */
  readonly seed: number;
  /** The declared limitations, checked. */
  readonly limitations: readonly KnownLimitation[];
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
  const runs = Number(environment().FC_RUNS ?? 1000);
  return Number.isFinite(runs) && runs >= 1 ? Math.floor(runs) : 1000;
}

/**
 * The seed from the `FC_SEED` environment variable, or a random one. A malformed `FC_SEED` throws
 * rather than silently running another seed than the one asked for.
 *
 * @example
 * ```ts
 * defaultSeed(); // FC_SEED, or a random 32-bit integer
 * ```
 */
export function defaultSeed(): number {
  const text = environment().FC_SEED;
  if (text === undefined || text === '') return Math.floor(Math.random() * 0x7fffffff);
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) throw new TypeError(`FC_SEED must be an integer, got ${text}`);
  return seed;
}

function environment(): Record<string, string | undefined> {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env;
  return env ?? {};
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
    seed: options.seed ?? defaultSeed(),
    limitations: checkLimitations(options.limitations ?? []),
  };
}
