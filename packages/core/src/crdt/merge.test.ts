import { describe, expect, it } from 'vitest';
import type { Change } from '../changes/change.js';
import { packPrimaryKey, primaryKeyString } from '../changes/primary-key.js';
import { DriftError, type Hlc } from '../hlc/hlc.js';
import { nextDeleteCl, nextInsertCl } from './causal-length.js';
import { incomingWins } from './lww.js';
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

function local(cl: number, stamps: Record<string, Hlc>): LocalRow {
  return { cl, stampOf: (column) => stamps[column] };
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
  it('takes strictly greater stamps and treats equal stamps as the same write', () => {
    expect(incomingWins(at(2), at(1))).toBe(true);
    expect(incomingWins(at(1), at(2))).toBe(false);
    expect(incomingWins(at(1), at(1))).toBe(false);
    expect(incomingWins(at(1, B), at(1, A))).toBe(true);
    expect(incomingWins(at(1), undefined)).toBe(true);
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
    const result = mergeBatch([row(at(1), 1), cell('a', 'x', at(1))], () => local(1, { a: at(1) }));
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
