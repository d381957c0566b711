import { describe, expect, it } from 'vitest';
import { withoutParameters } from './column-names.js';

describe('withoutParameters', () => {
  it('replaces every kind of parameter with NULL', () => {
    expect(withoutParameters('SELECT a FROM t WHERE a = ? AND b = ?12 AND c IN (:c, @d, $e)')).toBe(
      'SELECT a FROM t WHERE a = NULL AND b = NULL AND c IN (NULL, NULL, NULL)',
    );
  });

  it('leaves string literals, quoted identifiers and comments alone', () => {
    const sql = `SELECT '?', 'it''s ?', "q?", \`b?\`, [c?], x'3f' -- ? here
      /* and ? here */ FROM t WHERE id = ?`;
    expect(withoutParameters(sql)).toBe(sql.replace(/= \?$/u, '= NULL'));
  });

  it('is total on unterminated input and keeps text that only looks like a parameter', () => {
    expect(withoutParameters("SELECT 'open")).toBe("SELECT 'open");
    expect(withoutParameters('SELECT 1 /* open')).toBe('SELECT 1 /* open');
    expect(withoutParameters('SELECT ": x" , a:b')).toBe('SELECT ": x" , aNULL');
    expect(withoutParameters('SELECT 1 :')).toBe('SELECT 1 :');
  });
});
