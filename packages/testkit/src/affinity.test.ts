import { describe, expect, it } from 'vitest';
import { AFFINITY_CASES, storedWithoutAffinity } from './affinity.js';
import { showSqlValue } from './show-value.js';

describe('affinity cases', () => {
  it('a column without declared type stores what storedWithoutAffinity says', () => {
    for (const { name, value, stored } of AFFINITY_CASES) {
      expect(showSqlValue(stored['']), name).toBe(showSqlValue(storedWithoutAffinity(value)));
    }
  });

  it('name each case once', () => {
    const names = AFFINITY_CASES.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('the 15-digit expectations differ only in the TEXT column of REAL values', () => {
    const older = AFFINITY_CASES.filter((c) => c.fifteenDigits !== undefined);
    expect(older.length).toBeGreaterThan(0);
    for (const { name, value, fifteenDigits } of older) {
      expect(typeof value, name).toBe('number');
      expect(Object.keys(fifteenDigits!), name).toEqual(['TEXT']);
    }
  });
});
