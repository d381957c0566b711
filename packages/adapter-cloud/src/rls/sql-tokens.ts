import { PolicyError } from './policy-error.js';

/**
 * The kind of an {@link SqlToken}.
 *
 * - `space`, `comment`: between tokens; carry no meaning.
 * - `word`: a bare identifier or keyword (`owner_id`, `AND`, `auth`).
 * - `quoted`: a quoted identifier (`"org-id"`, `` `org-id` ``, `[org-id]`).
 * - `string`: a string literal (`'it''s'`).
 * - `blob`: a blob literal (`x'00ff'`).
 * - `number`: a numeric literal (`42`, `0.5`, `1e3`, `0x1F`).
 * - `variable`: a bound parameter (`?`, `?1`, `:name`, `@name`, `$name`, `#name`).
 * - `punct`: one character of an operator or punctuation (`(`, `.`, `=`, `;`).
 *
 * @example
 * ```ts
 * const kind: SqlTokenKind = 'quoted';
 * ```
 */
export type SqlTokenKind =
  | 'space'
  | 'comment'
  | 'word'
  | 'quoted'
  | 'string'
  | 'blob'
  | 'number'
  | 'variable'
  | 'punct';

/**
 * One token of an SQL text, as SQLite's tokenizer would cut it.
 *
 * @example
 * ```ts
 * const token: SqlToken = { kind: 'quoted', text: '"org-id"', value: 'org-id', start: 5 };
 * ```
 */
export interface SqlToken {
  /** What the token is. */
  readonly kind: SqlTokenKind;
  /** The token's text exactly as written. */
  readonly text: string;
  /**
   * What the token denotes: an identifier without its quotes (`""` read as `"`), a string
   * literal's contents (`''` read as `'`); the text itself for other kinds.
   */
  readonly value: string;
  /** Offset of the token's first character in the SQL text. */
  readonly start: number;
}

const isSpace = (c: number): boolean =>
  c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHexDigit = (c: number): boolean =>
  isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
// SQLite's identifier characters: ASCII letters, digits, `_`, `$`, and every non-ASCII character
// (as UTF-8 bytes >= 0x80), so a non-breaking space is part of a name, not a separator.
const isWordStart = (c: number): boolean =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c >= 0x80;
const isWordPart = (c: number): boolean => isWordStart(c) || isDigit(c) || c === 0x24;

function unterminated(what: string, start: number): PolicyError {
  return new PolicyError({
    problem: 'unterminated',
    reason: `${what} starting at offset ${start} is not closed`,
  });
}

/** Reads a run delimited by `close`, where a doubled `close` stands for one (SQL's escape). */
function readQuoted(sql: string, start: number, close: string, doubled: boolean): number {
  let i = start + 1;
  for (;;) {
    const end = sql.indexOf(close, i);
    if (end < 0) return -1;
    if (doubled && sql[end + 1] === close) {
      i = end + 2;
      continue;
    }
    return end + 1;
  }
}

function readNumber(sql: string, start: number): number {
  let i = start;
  const at = (j: number): number => sql.charCodeAt(j);
  if (at(i) === 0x30 && (at(i + 1) === 0x78 || at(i + 1) === 0x58) && isHexDigit(at(i + 2))) {
    i += 2;
    while (isHexDigit(at(i)) || at(i) === 0x5f) i++;
  } else {
    while (isDigit(at(i)) || at(i) === 0x5f) i++;
    if (at(i) === 0x2e) {
      i++;
      while (isDigit(at(i)) || at(i) === 0x5f) i++;
    }
    if (
      (at(i) === 0x65 || at(i) === 0x45) &&
      (isDigit(at(i + 1)) || ((at(i + 1) === 0x2b || at(i + 1) === 0x2d) && isDigit(at(i + 2))))
    ) {
      i += 2;
      while (isDigit(at(i))) i++;
    }
  }
  // SQLite reads `12abc` as one illegal token; keeping it whole means no word is seen inside it.
  while (isWordPart(at(i))) i++;
  return i;
}

/**
 * Cuts SQL text into tokens the way SQLite does, so string literals, quoted identifiers and
 * comments are never mistaken for code (`'auth.sub'` stays a string). Throws {@link PolicyError}
 * (`unterminated`, `malformed`) on a literal, quoted identifier or block comment left open, on a
 * NUL character (SQLite stops reading at one, so what follows would silently vanish) and on a
 * malformed blob literal.
 *
 * Text is split finely where that cannot change meaning (every operator character is its own
 * `punct` token), and joining every token's `text` gives back the input.
 *
 * @example
 * ```ts
 * tokenizeSql("a = 'x'").map((token) => token.kind); // ['word', 'space', 'punct', 'space', 'string']
 * ```
 */
export function tokenizeSql(sql: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  const push = (kind: SqlTokenKind, start: number, end: number, value?: string): void => {
    const text = sql.slice(start, end);
    tokens.push({ kind, text, value: value ?? text, start });
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    const next = sql.charCodeAt(i + 1);
    if (c === 0) {
      throw new PolicyError({ problem: 'malformed', reason: `NUL character at offset ${i}` });
    }
    if (isSpace(c)) {
      let end = i + 1;
      while (isSpace(sql.charCodeAt(end))) end++;
      push('space', i, end);
      i = end;
    } else if (c === 0x2d && next === 0x2d) {
      const newline = sql.indexOf('\n', i);
      const end = newline < 0 ? sql.length : newline;
      push('comment', i, end);
      i = end;
    } else if (c === 0x2f && next === 0x2a) {
      const close = sql.indexOf('*/', i + 2);
      // SQLite accepts a block comment left open at the end of input; we refuse it, because
      // once the expression is embedded in a larger statement it would swallow the rest.
      if (close < 0) throw unterminated('block comment', i);
      push('comment', i, close + 2);
      i = close + 2;
    } else if (c === 0x27) {
      const end = readQuoted(sql, i, "'", true);
      if (end < 0) throw unterminated('string literal', i);
      push('string', i, end, sql.slice(i + 1, end - 1).replaceAll("''", "'"));
      i = end;
    } else if (c === 0x22 || c === 0x60) {
      const quote = sql[i]!;
      const end = readQuoted(sql, i, quote, true);
      if (end < 0) throw unterminated('quoted identifier', i);
      push('quoted', i, end, sql.slice(i + 1, end - 1).replaceAll(quote + quote, quote));
      i = end;
    } else if (c === 0x5b) {
      const end = readQuoted(sql, i, ']', false);
      if (end < 0) throw unterminated('quoted identifier', i);
      push('quoted', i, end, sql.slice(i + 1, end - 1));
      i = end;
    } else if ((c === 0x78 || c === 0x58) && next === 0x27) {
      // A blob literal: SQLite reads hex digits up to the closing quote, with no `''` escape.
      let end = i + 2;
      while (isHexDigit(sql.charCodeAt(end))) end++;
      if (sql.charCodeAt(end) !== 0x27 || (end - i - 2) % 2 !== 0) {
        throw new PolicyError({
          problem: 'malformed',
          reason: `malformed blob literal at offset ${i}`,
        });
      }
      push('blob', i, end + 1);
      i = end + 1;
    } else if (isWordStart(c)) {
      let end = i + 1;
      while (isWordPart(sql.charCodeAt(end))) end++;
      push('word', i, end);
      i = end;
    } else if (isDigit(c) || (c === 0x2e && isDigit(next))) {
      const end = readNumber(sql, i);
      push('number', i, end);
      i = end;
    } else if (c === 0x3f) {
      let end = i + 1;
      while (isDigit(sql.charCodeAt(end))) end++;
      push('variable', i, end);
      i = end;
    } else if (c === 0x3a || c === 0x40 || c === 0x24 || c === 0x23) {
      let end = i + 1;
      while (isWordPart(sql.charCodeAt(end))) end++;
      push('variable', i, end);
      i = end;
    } else {
      // One UTF-16 unit is enough: every character >= 0x80 was taken by isWordStart above.
      push('punct', i, i + 1);
      i++;
    }
  }
  return tokens;
}
