/**
 * One sample of the Prometheus text exposition format: a metric name, its labels and a value.
 *
 * @example
 * ```ts
 * const sample: Sample = { name: 'offsync_pushes_total', labels: { outcome: 'accepted' }, value: 3 };
 * ```
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

// name{label="value",...} value [timestamp]
const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/y;

/**
 * Parses the Prometheus text format (what `GET /metrics` answers) into samples; `# HELP` and
 * `# TYPE` lines are skipped. Throws a `SyntaxError` naming the line that does not parse.
 *
 * @example
 * ```ts
 * parsePrometheusText('offsync_connections 2\n'); // [{ name: 'offsync_connections', labels: {}, value: 2 }]
 * ```
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) throw new SyntaxError(`metrics line ${index + 1} does not parse: ${line}`);
    const labels: Record<string, string> = {};
    const body = match[2] ?? '';
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const label = LABEL.exec(body);
      if (!label) throw new SyntaxError(`metrics line ${index + 1} has bad labels: ${line}`);
      labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_all, char: string) =>
        char === 'n' ? '\n' : char,
      );
    }
    const value = Number(
      match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : match[3],
    );
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/**
 * The sum of the samples of `name` whose labels include every pair of `where`.
 *
 * @example
 * ```ts
 * sumOf(samples, 'offsync_refusals_total', { database: 'app' });
 * ```
 */
export function sumOf(
  samples: readonly Sample[],
  name: string,
  where: Readonly<Record<string, string>> = {},
): number {
  let sum = 0;
  for (const sample of samples)
    if (
      sample.name === name &&
      Object.entries(where).every(([key, value]) => sample.labels[key] === value)
    )
      sum += sample.value;
  return sum;
}

/**
 * The samples of `name` matching `where`, summed by the value of one label (`kind`, `code`),
 * largest first; zero sums left out.
 *
 * @example
 * ```ts
 * byLabel(samples, 'offsync_errors_total', 'code', { database: 'app' }); // [['unauthorized', 2]]
 * ```
 */
export function byLabel(
  samples: readonly Sample[],
  name: string,
  label: string,
  where: Readonly<Record<string, string>> = {},
): [string, number][] {
  const sums = new Map<string, number>();
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (!Object.entries(where).every(([key, value]) => sample.labels[key] === value)) continue;
    const key = sample.labels[label] ?? '';
    sums.set(key, (sums.get(key) ?? 0) + sample.value);
  }
  return [...sums].filter(([, sum]) => sum !== 0).sort((a, b) => b[1] - a[1]);
}
