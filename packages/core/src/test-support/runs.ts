/** Property-test run count: 1,000 by default, `FC_RUNS` to raise it (e.g. 100000 in a soak). */
export const FC_RUNS = Number(process.env.FC_RUNS ?? 1000);

/** Scales a run count for properties that are far heavier than one merge. */
export function runs(divisor = 1): number {
  return Math.max(1, Math.floor(FC_RUNS / divisor));
}
