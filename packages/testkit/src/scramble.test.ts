import { describe, expect, it } from 'vitest';
import { prng, scramble, split } from './scramble.js';

describe('scramble and split', () => {
  it('are reproducible from the seed', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    expect(scramble(items, prng(9))).toEqual(scramble(items, prng(9)));
    expect(split(items, prng(9))).toEqual(split(items, prng(9)));
    expect(scramble(items, prng(9))).not.toEqual(scramble(items, prng(10)));
  });

  it('scramble keeps every item at least once and only adds duplicates', () => {
    const items = Array.from({ length: 200 }, (_, i) => i);
    const out = scramble(items, prng(3));
    expect(new Set(out)).toEqual(new Set(items));
    expect(out.length).toBeGreaterThan(items.length);
  });

  it('split cuts a list into consecutive non-empty slices that join back to it', () => {
    const items = Array.from({ length: 37 }, (_, i) => i);
    const slices = split(items, prng(5));
    expect(slices.every((slice) => slice.length > 0)).toBe(true);
    expect(slices.flat()).toEqual(items);
    expect(split([], prng(5))).toEqual([]);
  });
});
