import { describe, expect, it } from 'vitest';
import { tokenizeSql } from './sql-tokens.js';
import { policyErrorOf } from './test-support/todo-database.js';

const kinds = (sql: string) => tokenizeSql(sql).map((token) => [token.kind, token.value]);

describe('tokenizeSql', () => {
  it('joining the tokens gives back the text', () => {
    const sql = `a = 'it''s' AND "b""c" <> [d e] -- tail\n OR /* x */ x'00ff' >= .5e3 + ?1`;
    expect(
      tokenizeSql(sql)
        .map((token) => token.text)
        .join(''),
    ).toBe(sql);
  });

  it('reads literals, quoted identifiers and comments whole, unescaping their values', () => {
    expect(kinds(`'a''b' "c""d" \`e\`\`f\` [g"h] -- i 'j\n/* 'k */`)).toEqual([
      ['string', "a'b"],
      ['space', ' '],
      ['quoted', 'c"d'],
      ['space', ' '],
      ['quoted', 'e`f'],
      ['space', ' '],
      ['quoted', 'g"h'],
      ['space', ' '],
      ['comment', "-- i 'j"],
      ['space', '\n'],
      ['comment', "/* 'k */"],
    ]);
  });

  it('keeps words, numbers, blobs, variables and punctuation apart', () => {
    expect(kinds("auth.sub>=0x1F AND a$b<>x'00' OR :n|| 1.5e-3")).toEqual([
      ['word', 'auth'],
      ['punct', '.'],
      ['word', 'sub'],
      ['punct', '>'],
      ['punct', '='],
      ['number', '0x1F'],
      ['space', ' '],
      ['word', 'AND'],
      ['space', ' '],
      ['word', 'a$b'],
      ['punct', '<'],
      ['punct', '>'],
      ['blob', "x'00'"],
      ['space', ' '],
      ['word', 'OR'],
      ['space', ' '],
      ['variable', ':n'],
      ['punct', '|'],
      ['punct', '|'],
      ['space', ' '],
      ['number', '1.5e-3'],
    ]);
  });

  it('treats non-ASCII characters as part of a name, as SQLite does', () => {
    expect(kinds('é\u00a0x')).toEqual([['word', 'é\u00a0x']]);
  });

  it('refuses what is left open, NUL characters and malformed blobs', () => {
    expect(policyErrorOf(() => tokenizeSql("a = 'open")).problem).toBe('unterminated');
    expect(policyErrorOf(() => tokenizeSql('"open')).problem).toBe('unterminated');
    expect(policyErrorOf(() => tokenizeSql('[open')).problem).toBe('unterminated');
    expect(policyErrorOf(() => tokenizeSql('a /* open')).problem).toBe('unterminated');
    expect(policyErrorOf(() => tokenizeSql('a\u0000b')).problem).toBe('malformed');
    expect(policyErrorOf(() => tokenizeSql("x'abc'")).problem).toBe('malformed');
    expect(policyErrorOf(() => tokenizeSql("x'zz'")).problem).toBe('malformed');
  });

  it('a line comment may end the text', () => {
    expect(kinds('a -- end')).toEqual([
      ['word', 'a'],
      ['space', ' '],
      ['comment', '-- end'],
    ]);
  });
});
