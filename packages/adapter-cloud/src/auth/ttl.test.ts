import { describe, expect, it } from 'vitest';
import { parseTtl, TtlParseError } from './ttl.js';

describe('parseTtl', () => {
  it('reads seconds, minutes, hours, days and bare seconds', () => {
    expect(parseTtl('15m')).toBe(900);
    expect(parseTtl('2h')).toBe(7200);
    expect(parseTtl('7d')).toBe(604_800);
    expect(parseTtl('3600')).toBe(3600);
    expect(parseTtl('45s')).toBe(45);
    expect(parseTtl('1')).toBe(1);
    expect(parseTtl('007m')).toBe(420);
  });

  it('refuses anything else with a typed error naming the input', () => {
    for (const input of [
      '',
      'm',
      '-5m',
      '1.5h',
      '15 m',
      ' 15m',
      '15M',
      '2w',
      '1h30m',
      'abc',
      '0',
      '0d',
      '99999999999999999d',
    ]) {
      const error = (() => {
        try {
          parseTtl(input);
          return undefined;
        } catch (caught) {
          return caught;
        }
      })();
      expect(error, input).toBeInstanceOf(TtlParseError);
      expect((error as TtlParseError).type).toBe('TtlParseError');
      expect((error as TtlParseError).input).toBe(input);
    }
  });

  it('explains zero and overflow distinctly', () => {
    expect(() => parseTtl('0')).toThrow(/longer than zero/);
    expect(() => parseTtl('99999999999999999d')).toThrow(/too long/);
  });
});
