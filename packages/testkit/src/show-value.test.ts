import { describe, expect, it } from 'vitest';
import { showRows, showSqlValue, toHex } from './show-value.js';

describe('showSqlValue', () => {
  it('tells apart values SQL compares equal but that are not the same value', () => {
    const shown = [0, -0, 2, 2n, '2', new Uint8Array([0x32]), null].map(showSqlValue);
    expect(new Set(shown).size).toBe(shown.length);
    expect(showSqlValue(-0)).toBe('REAL -0');
    expect(showSqlValue(Number.NaN)).toBe('REAL NaN');
    expect(showSqlValue(2n ** 63n - 1n)).toBe('INTEGER 9223372036854775807');
  });

  it('shows a Buffer and a Uint8Array with the same bytes alike', () => {
    expect(showSqlValue(Buffer.from([1, 255]))).toBe(showSqlValue(new Uint8Array([1, 255])));
    expect(showRows([[Buffer.from([0])]])).toEqual([['BLOB x00']]);
  });

  it('shows large values by length and digest, still telling one changed unit apart', () => {
    const text = 'x'.repeat(10_000);
    const other = `${'x'.repeat(9_999)}y`;
    expect(showSqlValue(text)).toMatch(/^TEXT \(10000 units, #[0-9a-f]{16}\)/);
    expect(showSqlValue(other)).not.toBe(showSqlValue(text));
    const blob = new Uint8Array(5_000);
    const changed = blob.slice();
    changed[4_000] = 1;
    expect(showSqlValue(changed)).not.toBe(showSqlValue(blob));
    expect(toHex(new Uint8Array([0xca, 0xfe]))).toBe('cafe');
  });
});
