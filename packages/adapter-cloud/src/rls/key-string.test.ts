import { packPrimaryKey, primaryKeyString } from '@offsync/core/codec';
import { describe, expect, it } from 'vitest';
import { keyString } from './key-string.js';

describe('keyString', () => {
  it('keeps storage classes apart', () => {
    const forms = [[1n], [1], ['1'], [new Uint8Array([0x31])], [null]].map(keyString);
    expect(new Set(forms).size).toBe(5);
  });

  it('is exact for 64-bit integers and stable across calls', () => {
    expect(keyString([2n ** 63n - 1n])).not.toBe(keyString([2n ** 63n - 2n]));
    expect(keyString(['a', 2n])).toBe(keyString(['a', 2n]));
  });

  it('separates composite keys that would collide if joined as text', () => {
    expect(keyString(['a,b', 'c'])).not.toBe(keyString(['a', 'b,c']));
    expect(keyString(['ab'])).not.toBe(keyString(['a', 'b']));
  });

  it('matches the identity of a packed change key', () => {
    expect(keyString(['t1', 7n])).toBe(primaryKeyString(packPrimaryKey(['t1', 7n])));
  });
});
