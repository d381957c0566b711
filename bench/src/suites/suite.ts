import type { BenchResult } from '../result.js';

/** What every suite is given. */
export interface SuiteContext {
  /** Small sizes and few rounds (CI); the full size otherwise. */
  readonly quick: boolean;
}

/** A benchmark suite: measures and returns its results. */
export type Suite = (context: SuiteContext) => Promise<BenchResult[]>;
