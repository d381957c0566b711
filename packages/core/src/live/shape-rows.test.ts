import { describe, expect, it } from 'vitest';
import type { SqlValue } from '../changes/value.js';
import { IntegerPrecisionError } from './errors.js';
import { shapeRows } from './shape-rows.js';

const names = (): string[] => ['id', 'n', 'blob'];
const ROWS: SqlValue[][] = [['a', 2n ** 53n - 1n, new Uint8Array([1])]];

describe('shapeRows', () => {
  it('returns the driver rows themselves by default (exact bigints, no copy)', () => {
    expect(shapeRows(ROWS, undefined, names)).toBe(ROWS);
    expect(shapeRows(ROWS, { rows: 'array', integers: 'bigint' }, names)).toBe(ROWS);
  });

  it('reads safe integers as numbers, and refuses one beyond 2^53 - 1 naming the column', () => {
    expect(shapeRows(ROWS, { integers: 'number' }, names)).toEqual([
      ['a', 2 ** 53 - 1, new Uint8Array([1])],
    ]);
    for (const value of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n]) {
      let thrown: unknown;
      try {
        shapeRows([['a', value]], { integers: 'number' }, names);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(IntegerPrecisionError);
      expect(thrown).toMatchObject({ type: 'IntegerPrecisionError', column: 'n', value });
      expect(JSON.stringify(thrown)).toContain('"value":"');
    }
  });

  it('reads integers as decimal strings and rows as plain objects', () => {
    const rows = shapeRows(
      [['a', -(2n ** 63n), 1.5]],
      { rows: 'object', integers: 'string' },
      () => ['id', 'n', 'r'],
    );
    expect(rows).toEqual([{ id: 'a', n: '-9223372036854775808', r: 1.5 }]);
    expect(JSON.stringify(rows)).toBe('[{"id":"a","n":"-9223372036854775808","r":1.5}]');
  });

  it('names columns it cannot name by position, and never calls names for array rows', () => {
    let asked = 0;
    const counting = (): string[] => {
      asked++;
      return ['only'];
    };
    expect(shapeRows([['a', 1n]], { integers: 'number' }, counting)).toEqual([['a', 1]]);
    expect(asked).toBe(0);
    expect(shapeRows([['a', 1n]], { rows: 'object' }, counting)).toEqual([
      { only: 'a', 'column 1': 1n },
    ]);
  });
});
