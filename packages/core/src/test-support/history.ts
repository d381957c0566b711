import { fc } from '@fast-check/vitest';
import type { Change } from '../changes/change.js';
import type { SqlValue } from '../changes/value.js';

/** A step of a random multi-replica history. */
export type Step =
  | {
      readonly kind: 'insert';
      readonly replica: number;
      readonly key: number;
      readonly title: SqlValue;
      readonly done: SqlValue;
    }
  | {
      readonly kind: 'update';
      readonly replica: number;
      readonly key: number;
      readonly column: 'title' | 'done';
      readonly value: SqlValue;
    }
  | { readonly kind: 'delete'; readonly replica: number; readonly key: number }
  | { readonly kind: 'publish'; readonly replica: number }
  | {
      readonly kind: 'deliver';
      readonly message: number;
      readonly replica: number;
      readonly from: number;
      readonly to: number;
    }
  | { readonly kind: 'restart'; readonly replica: number }
  | { readonly kind: 'tick'; readonly ms: number };

const smallValue: fc.Arbitrary<SqlValue> = fc.oneof(
  fc.constant(null),
  fc.bigInt({ min: -3n, max: 3n }),
  fc.constantFrom(0.5, -0, 2.0, Number.NaN),
  fc.constantFrom('a', 'b', 'é', ''),
  fc.constantFrom(new Uint8Array([1]), new Uint8Array(0)),
);

/** Random histories over `replicas` replicas writing overlapping keys 0..keys-1. */
export function historySteps(replicas: number, keys = 4, maxLength = 40): fc.Arbitrary<Step[]> {
  const replica = fc.integer({ min: 0, max: replicas - 1 });
  const key = fc.integer({ min: 0, max: keys - 1 });
  const step: fc.Arbitrary<Step> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('insert' as const),
        replica,
        key,
        title: smallValue,
        done: smallValue,
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('update' as const),
        replica,
        key,
        column: fc.constantFrom('title' as const, 'done' as const),
        value: smallValue,
      }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), replica, key }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('publish' as const), replica }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('deliver' as const),
        message: fc.nat(),
        replica,
        from: fc.nat(),
        to: fc.nat(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), replica }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('tick' as const),
        ms: fc.integer({ min: -3, max: 20 }),
      }),
    },
  );
  return fc.array(step, { maxLength });
}

/** A seeded xorshift32 PRNG, so the final shuffles are reproducible from the property's seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/** Shuffles, duplicates some, and splits `changes` into random batches. */
export function scramble(changes: readonly Change[], random: () => number): Change[][] {
  const pool = [...changes];
  for (let i = 0; i < pool.length; i++) if (random() < 0.15) pool.push(pool[i]!);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  const batches: Change[][] = [];
  let start = 0;
  while (start < pool.length) {
    const size = 1 + Math.floor(random() * Math.max(1, pool.length / 2));
    batches.push(pool.slice(start, start + size));
    start += size;
  }
  return batches;
}
