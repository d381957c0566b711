import { UsageError } from './errors.js';

/**
 * A whole number from 0 to `max` given on the command line, or a {@link UsageError}.
 *
 * @example
 * ```ts
 * wholeNumber('8787', '--port', 65_535); // 8787
 * ```
 */
export function wholeNumber(text: string, flag: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) > max)
    throw new UsageError(
      `${flag} takes a whole number from 0 to ${max}, not ${JSON.stringify(text)}`,
    );
  return Number(text);
}

/**
 * A required value that commander would otherwise report in its own words (`missing --db` is
 * what scripts and tests match).
 *
 * @example
 * ```ts
 * const db = need(options.db, '--db');
 * ```
 */
export function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

/**
 * Collects a repeatable option (`--claim a=1 --claim b=2`) into a list, for commander.
 *
 * @example
 * ```ts
 * command.option('--table <name>', 'a table to sync (repeatable)', collect, []);
 * ```
 */
export function collect(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}

/**
 * Turns `key=value` claims into an object: whole numbers and `true`/`false` become JSON numbers
 * and booleans, anything else stays text.
 *
 * @example
 * ```ts
 * parseClaims(['tenant=acme', 'level=3']); // { tenant: 'acme', level: 3 }
 * ```
 */
export function parseClaims(claims: readonly string[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const claim of claims) {
    const at = claim.indexOf('=');
    if (at < 1) throw new UsageError(`--claim takes key=value, not ${JSON.stringify(claim)}`);
    const raw = claim.slice(at + 1);
    result[claim.slice(0, at)] = /^-?\d+$/.test(raw)
      ? Number(raw)
      : raw === 'true'
        ? true
        : raw === 'false'
          ? false
          : raw;
  }
  return result;
}
