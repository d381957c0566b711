/**
 * Where a command writes: its results to `out`, everything else (progress, problems) to `err`.
 * Results are either one JSON document (`--json`) or human text, never both.
 *
 * @example
 * ```ts
 * const io: CliOutput = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };
 * ```
 */
export interface CliOutput {
  /** Writes to stdout. */
  readonly out: (text: string) => void;
  /** Writes to stderr. */
  readonly err: (text: string) => void;
}

/**
 * The process's own stdout and stderr.
 *
 * @example
 * ```ts
 * printJson(processOutput, { ok: true });
 * ```
 */
export const processOutput: CliOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * Prints a value as JSON (bigints as decimal text, so 64-bit integers keep every digit).
 *
 * @example
 * ```ts
 * printJson(processOutput, await admin.request('GET', '/databases'));
 * ```
 */
export function printJson(io: CliOutput, value: unknown): void {
  io.out(
    `${JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item), 2)}\n`,
  );
}

/**
 * Renders rows as an aligned text table, one column per name, with a header and a rule.
 *
 * @example
 * ```ts
 * renderTable([{ name: 'app', version: 3 }], ['name', 'version']);
 * // name  version\n----  -------\napp   3
 * ```
 */
export function renderTable(
  rows: readonly Readonly<Record<string, unknown>>[],
  columns: readonly string[],
): string {
  const text = (value: unknown): string =>
    value === undefined || value === null
      ? ''
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => text(row[column]).length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    line(columns),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map((row) => line(columns.map((column) => text(row[column])))),
  ].join('\n');
}

/**
 * Prints rows: the JSON array with `json`, else an aligned table of `columns`.
 *
 * @example
 * ```ts
 * printRows(processOutput, keys, ['id', 'name', 'createdAt'], options.json === true);
 * ```
 */
export function printRows(
  io: CliOutput,
  rows: readonly Readonly<Record<string, unknown>>[],
  columns: readonly string[],
  json: boolean,
  shown: readonly Readonly<Record<string, unknown>>[] = rows,
): void {
  if (json) printJson(io, rows);
  else io.out(`${renderTable(shown, columns)}\n`);
}

/**
 * A time in ms since the epoch as ISO 8601 text for tables (empty when absent).
 *
 * @example
 * ```ts
 * isoTime(0); // '1970-01-01T00:00:00.000Z'
 * ```
 */
export function isoTime(ms: unknown): string {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : '';
}
