import { UnsupportedPlaceholderError } from './errors.js';

/**
 * How one anonymous `?` is written into the SQL that sql.js compiles:
 *
 * - `'plain'`: `?` unchanged; sql.js binds the value itself.
 * - `'integer'`: `(+CAST(? AS INTEGER))`, bound as decimal TEXT. sql.js 1.16 binds a `bigint` as
 *   TEXT and has no `sqlite3_bind_int64`; SQLite's TEXT→INTEGER cast is exact over the whole
 *   signed 64-bit range.
 * - `'real'`: `(+CAST(? AS REAL))`, used for every `number`. sql.js binds a number that is an
 *   int32 (`n === (n | 0)`, `-0` included) with `sqlite3_bind_int`, so `2` would be stored as
 *   INTEGER; the cast is the identity on any other double. Choosing by type, not by value, keeps
 *   one compiled form per combination of types.
 *
 * The unary `+` matters: a `CAST(x AS type)` expression carries the affinity of `type`, and in a
 * comparison (`WHERE v = ?`) that affinity would convert TEXT operands (TEXT `'5'` would equal
 * INTEGER `5`). `+CAST(...)` has no affinity, exactly like a bound parameter.
 *
 * @example
 * ```ts
 * const kinds: PlaceholderKind[] = ['plain', 'integer', 'real'];
 * ```
 */
export type PlaceholderKind = 'plain' | 'integer' | 'real';

const REWRITE: Record<PlaceholderKind, string> = {
  plain: '?',
  integer: '(+CAST(? AS INTEGER))',
  real: '(+CAST(? AS REAL))',
};

/**
 * Where the anonymous `?` placeholders of a SQL text are, found by a scanner that follows
 * SQLite's tokenizer: `?` inside string literals, quoted identifiers and comments does not count.
 *
 * @example
 * ```ts
 * findPlaceholders("SELECT '?', ? -- ?").offsets; // [12]
 * ```
 */
export interface PlaceholderScan {
  /** The scanned SQL. */
  readonly sql: string;
  /** Offsets (UTF-16 code units) of each `?`, in order. */
  readonly offsets: readonly number[];
}

enum Char {
  Tab = 0x09,
  LineFeed = 0x0a,
  FormFeed = 0x0c,
  CarriageReturn = 0x0d,
  Space = 0x20,
  DoubleQuote = 0x22,
  Hash = 0x23,
  Dollar = 0x24,
  Quote = 0x27,
  Star = 0x2a,
  Minus = 0x2d,
  Slash = 0x2f,
  Digit0 = 0x30,
  Digit9 = 0x39,
  Colon = 0x3a,
  Semicolon = 0x3b,
  Question = 0x3f,
  At = 0x40,
  OpenBracket = 0x5b,
  CloseBracket = 0x5d,
  Underscore = 0x5f,
  Backtick = 0x60,
}

function isDigit(c: number): boolean {
  return c >= Char.Digit0 && c <= Char.Digit9;
}

/** SQLite's `IdChar`: ASCII letters, digits, `_`, `$`, and every non-ASCII character. */
function isIdChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    isDigit(c) ||
    c === Char.Underscore ||
    c === Char.Dollar ||
    c >= 0x80
  );
}

function isSpace(c: number): boolean {
  return (
    c === Char.Space ||
    c === Char.Tab ||
    c === Char.LineFeed ||
    c === Char.FormFeed ||
    c === Char.CarriageReturn
  );
}

/** Index just past a quoted run opened at `start` by `close`, with doubled `close` as escape. */
function skipQuoted(sql: string, start: number, close: number, doubledEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql.charCodeAt(i) === close) {
      if (doubledEscapes && sql.charCodeAt(i + 1) === close) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  // Unterminated: SQLite reports the error when it compiles; nothing after it is a placeholder.
  return sql.length;
}

/** Index just past the comment at `i`, or `i` when there is none. */
function skipComment(sql: string, i: number): number {
  const c = sql.charCodeAt(i);
  const next = sql.charCodeAt(i + 1);
  if (c === Char.Minus && next === Char.Minus) {
    const end = sql.indexOf('\n', i + 2);
    return end === -1 ? sql.length : end + 1;
  }
  if (c === Char.Slash && next === Char.Star) {
    // SQLite accepts a block comment left open at the end of the input.
    const end = sql.indexOf('*/', i + 2);
    return end === -1 ? sql.length : end + 2;
  }
  return i;
}

function skipIdChars(sql: string, i: number): number {
  while (i < sql.length && isIdChar(sql.charCodeAt(i))) i++;
  return i;
}

/**
 * Finds the anonymous `?` placeholders of `sql`, skipping string literals (`'...'` with `''`),
 * quoted identifiers (`"..."`, `` `...` ``, `[...]`) and comments (`-- ...`, `/* ... *\/`).
 * Throws {@link UnsupportedPlaceholderError} on `?NNN`, `:name`, `@name`, `$name` (and SQLite's
 * undocumented `#name`).
 *
 * Runs once per prepared SQL text, in one pass with no backtracking.
 *
 * @example
 * ```ts
 * findPlaceholders('SELECT * FROM "t?" WHERE a = ? AND b = ?').offsets; // [29, 39]
 * ```
 */
export function findPlaceholders(sql: string): PlaceholderScan {
  const offsets: number[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    switch (c) {
      case Char.Quote:
        i = skipQuoted(sql, i, Char.Quote, true);
        break;
      case Char.DoubleQuote:
        i = skipQuoted(sql, i, Char.DoubleQuote, true);
        break;
      case Char.Backtick:
        i = skipQuoted(sql, i, Char.Backtick, true);
        break;
      case Char.OpenBracket:
        i = skipQuoted(sql, i, Char.CloseBracket, false);
        break;
      case Char.Minus:
      case Char.Slash: {
        const end = skipComment(sql, i);
        i = end === i ? i + 1 : end;
        break;
      }
      case Char.Question: {
        let end = i + 1;
        while (end < sql.length && isDigit(sql.charCodeAt(end))) end++;
        if (end > i + 1) {
          throw new UnsupportedPlaceholderError(sql.slice(i, end), i, sql);
        }
        offsets.push(i);
        i = end;
        break;
      }
      case Char.Colon:
      case Char.At:
      case Char.Hash:
      case Char.Dollar: {
        const end = skipIdChars(sql, i + 1);
        if (end > i + 1) throw new UnsupportedPlaceholderError(sql.slice(i, end), i, sql);
        i++;
        break;
      }
      default:
        // A word (keyword, identifier, number, the x of x'..'): `$` inside it is no parameter.
        i = isIdChar(c) ? skipIdChars(sql, i) : i + 1;
    }
  }
  return { sql, offsets };
}

/**
 * Whether `sql` holds no statement: only whitespace, comments and `;`. Used to refuse a second
 * statement after the one `prepare` compiled.
 *
 * @example
 * ```ts
 * isBlankSql(' ; -- done'); // true
 * ```
 */
export function isBlankSql(sql: string): boolean {
  let i = 0;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (isSpace(c) || c === Char.Semicolon) {
      i++;
      continue;
    }
    const end = skipComment(sql, i);
    if (end === i) return false;
    i = end;
  }
  return true;
}

/**
 * The SQL that sql.js compiles for one combination of parameter kinds: each `?` of `scan`
 * replaced by the form its {@link PlaceholderKind} needs. `kinds` has one entry per placeholder.
 *
 * @example
 * ```ts
 * rewritePlaceholders(findPlaceholders('SELECT ?, ?'), ['integer', 'plain']);
 * // 'SELECT (+CAST(? AS INTEGER)), ?'
 * ```
 */
export function rewritePlaceholders(
  scan: PlaceholderScan,
  kinds: readonly PlaceholderKind[],
): string {
  const { sql, offsets } = scan;
  let out = '';
  let from = 0;
  for (let p = 0; p < offsets.length; p++) {
    const kind = kinds[p] ?? 'plain';
    if (kind === 'plain') continue;
    const at = offsets[p]!;
    out += sql.slice(from, at) + REWRITE[kind];
    from = at + 1;
  }
  return from === 0 ? sql : out + sql.slice(from);
}
