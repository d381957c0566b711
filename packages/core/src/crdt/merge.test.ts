import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { Change } from '../changes/change.js';
import { packPrimaryKey, primaryKeyString } from '../changes/primary-key.js';
import { type SqlValue, sqlValuesEqual } from '../changes/value.js';
import { DriftError, type Hlc } from '../hlc/hlc.js';
import { MemoryReplica } from '../memory/memory-replica.js';
import { sqlValue } from '../test-support/arbitraries.js';
import { fakeEnv } from '../test-support/fake-env.js';
import { prng, scramble } from '../test-support/history.js';
import { runs } from '../test-support/runs.js';
import { nextDeleteCl, nextInsertCl } from './causal-length.js';
import { compareSqlValues, incomingWins } from './lww.js';
import { type LocalRow, mergeBatch } from './merge.js';

const A = 'aa'.repeat(16);
const B = 'bb'.repeat(16);
const pk = packPrimaryKey(['r1']);
const at = (wall: number, site = A, counter = 0): Hlc => ({ wall, counter, site });
const cell = (column: string, value: Change['value'], stamp: Hlc, cl = 1): Change => ({
  table: 't',
  pk,
  column,
  value,
  stamp,
  cl,
});
const row = (stamp: Hlc, cl: number): Change => ({
  table: 't',
  pk,
  column: null,
  value: null,
  stamp,
  cl,
});

function local(
  cl: number,
  stamps: Record<string, Hlc>,
  values: Record<string, SqlValue> = {},
): LocalRow {
  return { cl, stampOf: (column) => stamps[column], valueOf: (column) => values[column] ?? null };
}

describe('causal length', () => {
  it('moves to the next odd number on insert and next even on delete', () => {
    expect(nextInsertCl(0)).toBe(1);
    expect(nextInsertCl(1)).toBe(1);
    expect(nextInsertCl(2)).toBe(3);
    expect(nextDeleteCl(1)).toBe(2);
    expect(nextDeleteCl(2)).toBe(2);
  });
});

describe('last-writer-wins', () => {
  it('takes strictly greater stamps; an equal stamp wins only with a greater value', () => {
    const same = (): SqlValue => 'x';
    expect(incomingWins(at(2), at(1), 'a', same)).toBe(true);
    expect(incomingWins(at(1), at(2), 'z', same)).toBe(false);
    expect(incomingWins(at(1), at(1), 'x', same)).toBe(false);
    expect(incomingWins(at(1), at(1), 'y', same)).toBe(true);
    expect(incomingWins(at(1), at(1), 'w', same)).toBe(false);
    expect(incomingWins(at(1, B), at(1, A), null, same)).toBe(true);
    expect(incomingWins(at(1), undefined, null, same)).toBe(true);
  });

  it('orders values by storage class, then by number, code point or byte', () => {
    const ordered: SqlValue[] = [
      null,
      -(2n ** 63n),
      -1n,
      0n,
      2n ** 63n - 1n,
      Number.NEGATIVE_INFINITY,
      -1.5,
      -0,
      0,
      2.5,
      '',
      'A',
      'a',
      '\uffff',
      '\u{1f642}',
      new Uint8Array([]),
      new Uint8Array([0]),
      new Uint8Array([0, 0]),
      new Uint8Array([1]),
    ];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect(Math.sign(compareSqlValues(ordered[i]!, ordered[j]!)), `${i} vs ${j}`).toBe(
          Math.sign(i - j),
        );
      }
    }
  });

  test.prop([sqlValue, sqlValue, sqlValue], { numRuns: runs() })(
    'the value order is total: antisymmetric, transitive, 0 only for the same bytes',
    (a, b, c) => {
      expect(Math.sign(compareSqlValues(a, b)) + Math.sign(compareSqlValues(b, a))).toBe(0);
      expect(compareSqlValues(a, b) === 0).toBe(sqlValuesEqual(a, b));
      if (compareSqlValues(a, b) <= 0 && compareSqlValues(b, c) <= 0) {
        expect(compareSqlValues(a, c)).toBeLessThanOrEqual(0);
      }
      expect(compareSqlValues(a, a)).toBe(0);
    },
  );
});

describe('merge with equal stamps (a restored device reissued a stamp)', () => {
  const TABLE = { name: 't', columns: ['id', 'a', 'b'], primaryKey: ['id'] };
  // A tiny pool of stamps, so that most changes of a history share one with another.
  const pooled = fc.constantFrom(at(10), at(10, B), at(11), at(10, A, 1));
  const tieChange: fc.Arbitrary<Change> = fc
    .record({
      key: fc.constantFrom('r1', 'r2'),
      column: fc.option(fc.constantFrom('a', 'b'), { nil: null, freq: 4 }),
      value: sqlValue,
      stamp: pooled,
      cl: fc.integer({ min: 1, max: 4 }),
    })
    .map(({ key, column, value, stamp, cl }) => ({
      table: 't',
      pk: packPrimaryKey([key]),
      column,
      value: column === null ? null : value,
      stamp,
      cl: column === null || cl % 2 === 1 ? cl : cl - 1,
    }));

  const replica = (seed: number): MemoryReplica => {
    const created = new MemoryReplica({ env: fakeEnv(1_700_000_000_000, seed) });
    created.createTable(TABLE);
    return created;
  };

  test.prop([fc.array(tieChange, { minLength: 1, maxLength: 12 }), fc.integer()], {
    numRuns: runs(),
  })('merge is commutative, associative and idempotent when stamps tie', (changes, seed) => {
    const random = prng(seed);
    const inOrder = replica(1);
    inOrder.apply(changes);
    const reversed = replica(2);
    reversed.apply([...changes].reverse());
    // Scrambled: reordered, split into batches, some delivered twice.
    const scrambled = replica(3);
    for (const batch of scramble(changes, random)) scrambled.apply(batch);
    const oneByOne = replica(4);
    for (const change of [...changes].reverse()) oneByOne.apply([change]);
    const dump = Buffer.from(inOrder.dump()).toString('hex');
    expect(Buffer.from(reversed.dump()).toString('hex')).toBe(dump);
    expect(Buffer.from(scrambled.dump()).toString('hex')).toBe(dump);
    expect(Buffer.from(oneByOne.dump()).toString('hex')).toBe(dump);
  });

  it('x then y keeps the same value as y then x', () => {
    const x = cell('a', 'x', at(10));
    const y = cell('a', 'y', at(10));
    const first = replica(1);
    first.apply([row(at(10), 1), x]);
    first.apply([y]);
    const second = replica(2);
    second.apply([row(at(10), 1), y]);
    second.apply([x]);
    expect(first.rows('t')).toEqual([{ id: 'r1', a: 'y', b: null }]);
    expect(second.rows('t')).toEqual(first.rows('t'));
    expect(Buffer.from(second.dump()).toString('hex')).toBe(
      Buffer.from(first.dump()).toString('hex'),
    );
  });

  it('decides a tie against the local value, and within one batch', () => {
    const against = mergeBatch([cell('a', 'y', at(10))], () => local(1, { a: at(10) }, { a: 'x' }));
    expect(against.ok && against.rows[0]!.cells.map((c) => c.value)).toEqual(['y']);
    const loses = mergeBatch([cell('a', 'w', at(10))], () => local(1, { a: at(10) }, { a: 'x' }));
    expect(loses.ok && loses.rows).toEqual([]);
    const within = mergeBatch([cell('a', 'y', at(10)), cell('a', 'x', at(10))], () => undefined);
    expect(within.ok && within.rows[0]!.cells.map((c) => c.value)).toEqual(['y']);
  });
});

describe('mergeBatch', () => {
  it('keeps the greatest stamp per column and ignores losers', () => {
    const result = mergeBatch(
      [cell('a', 'x', at(5)), cell('a', 'y', at(7)), cell('b', 'old', at(1))],
      () => local(1, { a: at(6), b: at(2) }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.rows).toHaveLength(1);
    expect(result.rows[0]!.newLife).toBe(false);
    expect(result.rows[0]!.cells.map((c) => c.value)).toEqual(['y']);
    expect(result.maxStamp).toEqual(at(7));
  });

  it('discards writes of an earlier life and resets cells on a later one', () => {
    const result = mergeBatch(
      [cell('a', 'stale', at(9), 1), row(at(3), 2), row(at(4), 3), cell('b', 'new', at(4), 3)],
      () => local(1, { a: at(1) }),
    );
    if (!result.ok) throw result.error;
    const [decision] = result.rows;
    expect(decision!.cl).toBe(3);
    expect(decision!.newLife).toBe(true);
    expect(decision!.lifeStamp).toEqual(at(4));
    expect(decision!.cells.map((c) => c.column)).toEqual(['b']);
  });

  it('reports nothing for a batch the replica already has', () => {
    const result = mergeBatch([row(at(1), 1), cell('a', 'x', at(1))], () =>
      local(1, { a: at(1) }, { a: 'x' }),
    );
    expect(result.ok && result.rows).toEqual([]);
  });

  it('groups a row whose changes arrive apart and with different pk arrays', () => {
    const other = packPrimaryKey(['r1']);
    const lookups: string[] = [];
    const result = mergeBatch(
      [
        cell('a', 1n, at(1)),
        { ...cell('b', 2n, at(1)), pk: packPrimaryKey(['r2']) },
        { ...cell('c', 3n, at(1)), pk: other },
      ],
      (_, key) => {
        lookups.push(key);
        return undefined;
      },
    );
    if (!result.ok) throw result.error;
    expect(result.rows).toHaveLength(2);
    expect(result.rows[0]!.cells.map((c) => c.column)).toEqual(['a', 'c']);
    expect(lookups).toEqual([primaryKeyString(pk), primaryKeyString(packPrimaryKey(['r2']))]);
  });

  it('refuses the whole batch when one stamp is beyond the drift bound', () => {
    const result = mergeBatch(
      [cell('a', 1n, at(100)), cell('b', 1n, at(100 + 301_000))],
      () => undefined,
      {
        nowMs: 100,
        maxDriftMs: 300_000,
      },
    );
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toBeInstanceOf(DriftError);
      expect(result.error.driftMs).toBe(301_000);
    }
  });
});
