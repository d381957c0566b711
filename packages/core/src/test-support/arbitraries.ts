import { fc } from '@fast-check/vitest';
import type { Change } from '../changes/change.js';
import { MAX_CAUSAL_LENGTH } from '../changes/codec.js';
import { packPrimaryKey } from '../changes/primary-key.js';
import type { SqlValue } from '../changes/value.js';
import { HLC_MAX_COUNTER, HLC_MAX_WALL, type Hlc } from '../hlc/hlc.js';
import { siteIdFromBytes } from '../hlc/site-id.js';

/** Edge-case INTEGERs: 0, ±1, the inline limit, 2^53 neighbours and the 64-bit extremes. */
export const edgeIntegers = [
  0n,
  1n,
  -1n,
  119n,
  120n,
  127n,
  128n,
  2n ** 31n,
  -(2n ** 31n),
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  -(2n ** 53n) - 1n,
  2n ** 63n - 1n,
  -(2n ** 63n),
];

/** Edge-case REALs: signed zeros, NaN, infinities, integral doubles, float32-exact and not. */
export const edgeReals = [
  0,
  -0,
  Number.NaN,
  Infinity,
  -Infinity,
  2.0,
  -2.0,
  0.5,
  0.1,
  1e308,
  5e-324,
  2 ** 53,
  3.4028234663852886e38,
];

const LARGE_TEXT = 'large ✓ text '.repeat(6_000);
const LARGE_BLOB = new Uint8Array(70_000).map((_, i) => i * 31);

/** Any SQL value, biased towards edge cases, now and then a large TEXT or BLOB (~70 kB). */
export const sqlValue: fc.Arbitrary<SqlValue> = fc.oneof(
  { arbitrary: fc.constant(null), weight: 12 },
  { arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), weight: 12 },
  { arbitrary: fc.constantFrom(...edgeIntegers), weight: 12 },
  { arbitrary: fc.double(), weight: 12 },
  { arbitrary: fc.constantFrom(...edgeReals), weight: 12 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }), weight: 12 },
  {
    arbitrary: fc
      .string({ unit: 'binary', maxLength: 8 })
      .filter((s) => !/[\uD800-\uDFFF]/u.test(s)),
    weight: 8,
  },
  { arbitrary: fc.constantFrom('', 'é', '日本語', '🙂👍🏽'), weight: 8 },
  { arbitrary: fc.uint8Array({ maxLength: 20 }), weight: 12 },
  { arbitrary: fc.constantFrom(LARGE_TEXT, LARGE_BLOB), weight: 1 },
  { arbitrary: fc.constant(new Uint8Array(0)), weight: 1 },
);

/** A site id. */
export const siteId = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(siteIdFromBytes);

/** Any valid stamp. */
export const stamp: fc.Arbitrary<Hlc> = fc.record({
  wall: fc.oneof(
    fc.integer({ min: 0, max: HLC_MAX_WALL }),
    fc.integer({ min: 1_700_000_000_000, max: 1_700_000_100_000 }),
  ),
  counter: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: HLC_MAX_COUNTER })),
  site: siteId,
});

/** Any SQL value but NULL: what a primary-key column may hold. */
export const keyValue: fc.Arbitrary<SqlValue> = sqlValue.filter((value) => value !== null);

/** A packed primary key of 1 to 3 values. */
export const packedKey = fc.array(keyValue, { minLength: 1, maxLength: 3 }).map(packPrimaryKey);

/** Any valid change. */
export const change: fc.Arbitrary<Change> = fc
  .record({
    table: fc.constantFrom('todos', 'lists', 'a "quoted" table', 'ü'),
    pk: packedKey,
    column: fc.option(fc.constantFrom('title', 'done', 'weight', 'data', 'é'), { nil: null }),
    value: sqlValue,
    stamp,
    cl: fc.oneof(
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: MAX_CAUSAL_LENGTH - 1 }),
    ),
  })
  .map((c) => {
    if (c.column === null) return { ...c, value: null };
    return { ...c, cl: c.cl % 2 === 0 ? c.cl + 1 : c.cl };
  });
