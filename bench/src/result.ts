/** One measured figure, ours beside a baseline measured in the same run. */
export interface BenchResult {
  /** Dotted id: suite first, then variant (`write.insert.node.int.file`). */
  readonly id: string;
  /** Our figure. */
  readonly value: number;
  /** The baseline's figure, same unit. */
  readonly baseline: number;
  /** Unit of `value` and `baseline` (`rows/s`, `bytes`, ...). */
  readonly unit: string;
  /** `value / baseline`. */
  readonly ratio: number;
  /** Smallest acceptable ratio, where higher is better (throughput). */
  readonly floor?: number;
  /** Largest acceptable ratio, where lower is better (bytes). */
  readonly ceiling?: number;
  /** What the figure means, for the table. */
  readonly note?: string;
}

/** Whether a result is within its floor or ceiling. */
export function withinBounds(result: BenchResult): boolean {
  if (result.floor !== undefined && !(result.ratio >= result.floor)) return false;
  if (result.ceiling !== undefined && !(result.ratio <= result.ceiling)) return false;
  return true;
}

function figure(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}

/** The results as a Markdown table. */
export function markdownTable(results: readonly BenchResult[]): string {
  const lines = [
    '| id | ours | baseline | unit | ratio | bound | ok |',
    '| --- | ---: | ---: | --- | ---: | --- | --- |',
  ];
  for (const r of results) {
    const bound =
      r.floor !== undefined ? `≥ ${r.floor}` : r.ceiling !== undefined ? `≤ ${r.ceiling}` : '';
    lines.push(
      `| ${r.id} | ${figure(r.value)} | ${figure(r.baseline)} | ${r.unit} | ${r.ratio.toFixed(3)} | ${bound} | ${withinBounds(r) ? 'yes' : '**NO**'} |`,
    );
  }
  return lines.join('\n');
}
