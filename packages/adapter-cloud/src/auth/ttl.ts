import { OffsyncError } from '@offsync/core';

/**
 * A time-to-live that is not a positive whole number of seconds, minutes, hours or days.
 *
 * @example
 * ```ts
 * if (error instanceof TtlParseError) console.error(`--ttl ${error.input}: ${error.reason}`);
 * ```
 */
export class TtlParseError extends OffsyncError {
  readonly type = 'TtlParseError';
  /** The refused text. */
  readonly input: string;
  /** Why it was refused. */
  readonly reason: string;

  constructor(input: string, reason: string) {
    super(`invalid time-to-live ${JSON.stringify(input)}: ${reason}`);
    this.input = input;
    this.reason = reason;
  }
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };
const TTL_PATTERN = /^(\d+)([smhd]?)$/;

/**
 * Parses a time-to-live as given on the command line: a whole number followed by `s`, `m`, `h`
 * or `d`, or a bare number of seconds. Returns seconds.
 *
 * @example
 * ```ts
 * parseTtl('15m'); // 900
 * parseTtl('7d'); // 604800
 * parseTtl('3600'); // 3600
 * parseTtl('1.5h'); // throws TtlParseError
 * ```
 */
export function parseTtl(text: string): number {
  const match = TTL_PATTERN.exec(text);
  if (!match) {
    throw new TtlParseError(
      text,
      'expected a whole number with an optional unit s, m, h or d (15m, 2h, 7d, 3600)',
    );
  }
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2]!]!;
  if (seconds === 0) throw new TtlParseError(text, 'must be longer than zero');
  if (!Number.isSafeInteger(seconds)) throw new TtlParseError(text, 'too long');
  return seconds;
}
