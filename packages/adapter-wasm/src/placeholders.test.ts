import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { UnsupportedPlaceholderError } from './errors.js';
import { findPlaceholders, isBlankSql, rewritePlaceholders } from './placeholders.js';

const FC_RUNS = Number(process.env.FC_RUNS ?? 1000);

function offsetsOf(sql: string): readonly number[] {
  return findPlaceholders(sql).offsets;
}

describe('findPlaceholders', () => {
  it.each([
    ['SELECT ?', [7]],
    ['SELECT ?,?', [7, 9]],
    ["SELECT '?'", []],
    ["SELECT 'it''s ?', ?", [18]],
    ["SELECT '''?'''", []],
    ['SELECT "?" FROM t', []],
    ['SELECT "a""?" FROM t', []],
    ['SELECT `?` FROM t', []],
    ['SELECT `a``?` FROM t', []],
    ['SELECT [?] FROM t', []],
    ['SELECT [a"?] FROM t WHERE x = ?', [30]],
    ['SELECT ? -- ?\n, ?', [7, 16]],
    ['SELECT ? -- ? at the end', [7]],
    ['SELECT /* ? */ ?', [15]],
    ['SELECT /* ? ', []],
    ['SELECT /* a */ ? /* b */', [15]],
    ['SELECT 1 - ?, 2 / ?', [11, 18]],
    ["SELECT x'3f', ?", [14]],
    ['SELECT a$b, ? FROM t', [12]],
    ['SELECT ? || ?', [7, 12]],
    ["SELECT '?' || ? || '?'", [14]],
    ['SELECT "unterminated ?', []],
    ["SELECT 'unterminated ?", []],
    ['SELECT 1e-5, ?', [13]],
    ['SELECT étoile, ? FROM t', [15]],
    ["SELECT '🙂?', ?", [14]], // offsets count UTF-16 code units
    ['INSERT INTO t VALUES (?, ?, ?)', [22, 25, 28]],
  ])('%s', (sql, expected) => {
    expect(offsetsOf(sql)).toEqual(expected);
  });

  it.each([
    ['SELECT ?1', '?1', 7],
    ['SELECT ?999', '?999', 7],
    ['SELECT :name', ':name', 7],
    ['SELECT @name', '@name', 7],
    ['SELECT $name', '$name', 7],
    ['SELECT #name', '#name', 7],
    ["SELECT '?', ?, :a", ':a', 15],
    ['SELECT "x" = $v', '$v', 13],
  ])('refuses %s', (sql, placeholder, offset) => {
    let thrown: unknown;
    try {
      findPlaceholders(sql);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnsupportedPlaceholderError);
    expect(thrown).toMatchObject({ placeholder, offset, sql });
  });

  it.each([
    "SELECT ':name'",
    'SELECT ":name"',
    'SELECT [@name]',
    'SELECT `$name`',
    'SELECT 1 -- :name',
    'SELECT 1 /* ?1 */',
    'SELECT a$b FROM t',
  ])('ignores parameter-like text in %s', (sql) => {
    expect(offsetsOf(sql)).toEqual([]);
  });

  // A SQL text built from fragments whose placeholders are known: the scanner must find exactly
  // the placeholders of the `?` fragments, whatever the strings, identifiers and comments around
  // them contain.
  const noise = fc.stringMatching(/^[a-z?'"`[\]\-/*;:@$# \n]{0,12}$/);
  const fragment = fc.oneof(
    fc.constant({ text: '?', placeholder: true }),
    noise.map((s) => ({ text: `'${s.replaceAll("'", "''")}'`, placeholder: false })),
    noise.map((s) => ({ text: `"${s.replaceAll('"', '""')}"`, placeholder: false })),
    noise.map((s) => ({ text: `\`${s.replaceAll('`', '``')}\``, placeholder: false })),
    noise.map((s) => ({ text: `[${s.replaceAll(']', '')}]`, placeholder: false })),
    noise.map((s) => ({ text: `-- ${s.replaceAll('\n', ' ')}\n`, placeholder: false })),
    // Splitting every `*/` (rather than deleting it) cannot leave a new one behind: `**//`.
    noise.map((s) => ({ text: `/* ${s.replaceAll('*/', '* /')} */`, placeholder: false })),
    fc
      .constantFrom(' ', ',', '(', ')', '+', '-', '/', 'SELECT', 'x', 'a$b', '1.5e-3', '||')
      .map((text) => ({ text, placeholder: false })),
  );

  test.prop([fc.array(fragment, { maxLength: 30 })], { numRuns: FC_RUNS })(
    'finds exactly the placeholders outside literals, identifiers and comments',
    (fragments) => {
      let sql = '';
      const expected: number[] = [];
      for (const { text, placeholder } of fragments) {
        // A separator keeps fragments from fusing into one token (`--` from `-` and `-`).
        sql += ' ';
        if (placeholder) expected.push(sql.length);
        sql += text;
      }
      expect(offsetsOf(sql)).toEqual(expected);
    },
  );
});

describe('isBlankSql', () => {
  it.each([
    ['', true],
    ['  \n\t', true],
    [';;', true],
    [' -- c\n ; /* d */ ', true],
    ['/* open', true],
    ['-- only', true],
    ['SELECT 1', false],
    [' ; x', false],
    ['- 1', false],
    ['/ 1', false],
  ])('%j → %s', (sql, blank) => {
    expect(isBlankSql(sql)).toBe(blank);
  });
});

describe('rewritePlaceholders', () => {
  it('rewrites each placeholder by kind and leaves the rest byte for byte', () => {
    const scan = findPlaceholders("INSERT INTO t VALUES (?, '?', ?, ?) -- ?");
    expect(rewritePlaceholders(scan, ['integer', 'plain', 'real'])).toBe(
      "INSERT INTO t VALUES ((+CAST(? AS INTEGER)), '?', ?, (+CAST(? AS REAL))) -- ?",
    );
    expect(rewritePlaceholders(scan, ['plain', 'plain', 'plain'])).toBe(scan.sql);
  });

  it('rewrites a placeholder at the very start and end', () => {
    expect(rewritePlaceholders(findPlaceholders('??'), ['real', 'integer'])).toBe(
      '(+CAST(? AS REAL))(+CAST(? AS INTEGER))',
    );
  });
});
