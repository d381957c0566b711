import { Bench } from 'tinybench';

/** One side of a comparison: optional untimed setup, then the timed operation. */
export interface Side<State> {
  /** Untimed preparation of a fresh state for one sample (a new database, ...). */
  readonly setup: () => State | Promise<State>;
  /** The timed work. */
  readonly run: (state: State) => unknown;
  /** Untimed cleanup of the state. */
  readonly teardown?: (state: State) => void | Promise<void>;
}

/** Options of {@link comparePair}. */
export interface PairOptions {
  /** Rounds; each round samples both sides back to back, so drift in machine speed cancels. */
  readonly rounds: number;
  /** Samples per side per round. */
  readonly samples?: number;
}

/** Median time (ms) of each side, and the median of per-round time ratios. */
export interface PairTiming {
  readonly oursMs: number;
  readonly baselineMs: number;
  /** Median over rounds of baselineMs/oursMs: ours' throughput relative to the baseline. */
  readonly speedRatio: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Times `ours` against `baseline` with tinybench, interleaved round by round, and reports
 * medians. Setup and teardown are excluded from the timing (tinybench's overridden duration).
 */
export async function comparePair<A, B>(
  ours: Side<A>,
  baseline: Side<B>,
  options: PairOptions,
): Promise<PairTiming> {
  const oursTimes: number[] = [];
  const baselineTimes: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < options.rounds + 1; round++) {
    const bench = new Bench({
      iterations: options.samples ?? 1,
      time: 0,
      warmup: false,
      throws: true,
    });
    bench.add('baseline', timed(baseline));
    bench.add('ours', timed(ours));
    await bench.run();
    const [baselineTask, oursTask] = bench.tasks;
    const b = medianLatency(baselineTask!);
    const o = medianLatency(oursTask!);
    // Round 0 warms the JIT and caches; it is not counted.
    if (round === 0) continue;
    baselineTimes.push(b);
    oursTimes.push(o);
    ratios.push(b / o);
  }
  return {
    oursMs: median(oursTimes),
    baselineMs: median(baselineTimes),
    speedRatio: median(ratios),
  };
}

function timed<State>(side: Side<State>): () => Promise<{ overriddenDuration: number }> {
  return async () => {
    const state = await side.setup();
    // Collect the previous sample's garbage outside the timing, for both sides alike.
    (globalThis as { gc?: () => void }).gc?.();
    const start = performance.now();
    const pending = side.run(state);
    if (pending instanceof Promise) await pending;
    const duration = performance.now() - start;
    await side.teardown?.(state);
    return { overriddenDuration: duration };
  };
}

function medianLatency(task: Bench['tasks'][number]): number {
  const result = task.result;
  if (result.state !== 'completed')
    throw new Error(`benchmark task ${task.name} ended ${result.state}`);
  return result.latency.p50;
}
