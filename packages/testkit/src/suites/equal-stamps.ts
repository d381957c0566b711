import { fc, test } from '@fast-check/vitest';
import type { Change, Hlc, SqlValue } from '@offsync/core';
import { packPrimaryKey } from '@offsync/core/codec';
import { describe, expect, it } from 'vitest';
import type { ResolvedOptions } from '../conformance-options.js';
import type { Harness } from '../harness.js';
import type { Peer } from '../peer.js';
import { toHex } from '../show-value.js';
import { expectConverged } from './sync-helpers.js';

// Columns without affinity store every value as given, so two orders of delivery can only
// differ by the merge, never by a conversion.
const TIES_SQL = 'CREATE TABLE ties(id TEXT PRIMARY KEY NOT NULL, a, b BLOB)';
const SITE_A = 'a1'.repeat(16);
const SITE_B = 'b2'.repeat(16);

/** Every cell of `ties` as storage class and hex bytes, in key order. */
function tieBytes(peer: Peer): string[] {
  return peer
    .all(
      `SELECT id || ' ' || typeof(a) || ':' || hex(a) || ' ' || typeof(b) || ':' || hex(b)
       FROM ties ORDER BY id`,
    )
    .map((row) => String(row[0]));
}

const value: fc.Arbitrary<SqlValue> = fc.oneof(
  fc.constant(null),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constantFrom(0n, 1n, 2n),
  fc.double({ noNaN: true }),
  fc.constantFrom('', 'x', 'y', 'é', '🙂'),
  fc.string({ maxLength: 4 }),
  fc.uint8Array({ maxLength: 4 }),
);

/**
 * Two changes with the same stamp and different values (a device restored from a backup reissues
 * stamps) merge by a total order on values, so the result does not depend on the order they
 * arrive in, on SQLite replicas as in the reference model.
 *
 * @example
 * ```ts
 * describeEqualStamps(harness, resolveOptions());
 * ```
 */
export function describeEqualStamps(harness: Harness, options: ResolvedOptions): void {
  const { numRuns, timeoutMs } = options;
  const ties = { sql: TIES_SQL, sync: ['ties'] };

  describe('merge with equal stamps', () => {
    it(
      'x then y keeps what y then x keeps, locally written or received, on every replica',
      async () => {
        const a = await harness.peer(ties);
        const b = await harness.peer(ties);
        const c = await harness.peer(ties);
        a.run('INSERT INTO ties(id, a) VALUES (?, ?)', ['r1', 'x']);
        const original = a.replica.changesSince(0).changes;
        // The same stamps, another value: what a restored copy of `a` would send.
        const restored = original.map((change) =>
          change.column === 'a' ? { ...change, value: 'y' } : change,
        );
        b.replica.applyChanges(original);
        b.replica.applyChanges(restored);
        c.replica.applyChanges(restored);
        c.replica.applyChanges(original);
        a.replica.applyChanges(restored);
        expect(tieBytes(a)).toEqual([`r1 text:${toHex(new TextEncoder().encode('y'))} null:`]);
        expect(tieBytes(b)).toEqual(tieBytes(a));
        expect(tieBytes(c)).toEqual(tieBytes(a));
        expectConverged([a, b, c], ['ties']);
      },
      timeoutMs,
    );

    const stamps: Hlc[] = [
      { wall: 1_700_000_000_000, counter: 0, site: SITE_A },
      { wall: 1_700_000_000_000, counter: 0, site: SITE_B },
      { wall: 1_700_000_000_000, counter: 1, site: SITE_A },
    ];
    const change: fc.Arbitrary<Change> = fc
      .record({
        key: fc.constantFrom('r1', 'r2'),
        column: fc.option(fc.constantFrom('a', 'b'), { nil: null, freq: 4 }),
        value,
        stamp: fc.constantFrom(...stamps),
        cl: fc.integer({ min: 1, max: 4 }),
      })
      .map(({ key, column, value: cellValue, stamp, cl }) => ({
        table: 'ties',
        pk: packPrimaryKey([key]),
        column,
        value: column === null ? null : cellValue,
        stamp,
        cl: column === null || cl % 2 === 1 ? cl : cl - 1,
      }));

    test.prop([fc.array(change, { minLength: 1, maxLength: 10 }), fc.integer({ min: 0 })], {
      numRuns: Math.max(10, Math.floor(numRuns / 5)),
      seed: options.seed,
    })(
      'merge is commutative and idempotent when stamps tie (in order, reversed, one by one, twice)',
      async (changes, split) => {
        try {
          const inOrder = await harness.peer(ties);
          inOrder.replica.applyChanges(changes);
          const reversed = await harness.peer(ties);
          reversed.replica.applyChanges([...changes].reverse());
          const oneByOne = await harness.peer(ties);
          for (const single of [...changes].reverse()) oneByOne.replica.applyChanges([single]);
          const twice = await harness.peer(ties);
          const at = split % (changes.length + 1);
          twice.replica.applyChanges(changes.slice(at));
          twice.replica.applyChanges(changes);
          twice.replica.applyChanges(changes.slice(0, at));
          for (const peer of [reversed, oneByOne, twice]) {
            expect(tieBytes(peer)).toEqual(tieBytes(inOrder));
          }
          expectConverged([inOrder, reversed, oneByOne, twice], ['ties']);
        } finally {
          await harness.dispose();
        }
      },
      timeoutMs,
    );
  });
}
