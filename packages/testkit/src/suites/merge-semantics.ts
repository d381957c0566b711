import { type Change, compareHlc } from '@offsync/core';
import { describe, expect, it } from 'vitest';
import type { ResolvedOptions } from '../conformance-options.js';
import { databaseImage } from '../database-image.js';
import type { Harness } from '../harness.js';
import type { Peer } from '../peer.js';
import { toHex } from '../show-value.js';
import { expectConverged, sendAll } from './sync-helpers.js';
import { TODOS_SQL } from './todos.js';

function withoutSeq(change: Change): Omit<Change, 'seq'> {
  const { seq: _, ...rest } = change;
  return rest;
}

/**
 * Merge semantics between two and three replicas: delete vs update, re-insert, per-column
 * last-writer-wins, idempotent re-delivery, relaying with the origin's stamps.
 *
 * @example
 * ```ts
 * describeMergeSemantics(harness, resolveOptions());
 * ```
 */
export function describeMergeSemantics(harness: Harness, options: ResolvedOptions): void {
  const { timeoutMs } = options;
  const todos = { sql: TODOS_SQL, sync: ['todos'] };
  const exchange = (...peers: Peer[]): void => {
    for (const from of peers) for (const to of peers) if (from !== to) sendAll(from, to);
  };

  describe('merge semantics', () => {
    it(
      'a delete wins over a concurrent update of the same life, even a later one',
      async () => {
        const a = await harness.peer(todos);
        const b = await harness.peer(todos);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'milk']);
        sendAll(a, b);
        b.env.advance(60_000);
        b.run('UPDATE todos SET title = ? WHERE id = ?', ['oat milk', 't1']);
        a.run('DELETE FROM todos WHERE id = ?', ['t1']);
        exchange(a, b);
        expect(a.rows('todos')).toEqual([]);
        expectConverged([a, b], ['todos']);
      },
      timeoutMs,
    );

    it(
      'a re-insert after a delete wins over a concurrent update and a concurrent delete of the old life',
      async () => {
        const a = await harness.peer(todos);
        const b = await harness.peer(todos);
        const c = await harness.peer(todos);
        a.run('INSERT INTO todos(id, title, done) VALUES (?, ?, ?)', ['t1', 'milk', 1n]);
        sendAll(a, b);
        sendAll(a, c);
        a.run('DELETE FROM todos WHERE id = ?', ['t1']);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'bread']);
        b.env.advance(60_000);
        b.run('UPDATE todos SET done = 5, note = ? WHERE id = ?', ['late', 't1']);
        c.env.advance(60_000);
        c.run('DELETE FROM todos WHERE id = ?', ['t1']);
        exchange(c, b, a);
        expect(a.rows('todos')).toEqual([['TEXT "t1"', 'TEXT "bread"', 'INTEGER 0', 'NULL']]);
        expectConverged([a, b, c], ['todos']);
      },
      timeoutMs,
    );

    it(
      'columns a new life did not write are reset to their DEFAULT, not kept from the old life',
      async () => {
        const a = await harness.peer(todos);
        const b = await harness.peer(todos);
        a.run('INSERT INTO todos VALUES (?, ?, ?, ?)', ['t1', 'milk', 1n, 'old note']);
        sendAll(a, b);
        const cursor = a.replica.version;
        a.run('DELETE FROM todos WHERE id = ?', ['t1']);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'bread']);
        const life = a.replica.changesSince(cursor).changes;
        expect(life.map((change) => `${change.column} cl${change.cl}`)).toEqual([
          'null cl3',
          'title cl3',
          'done cl3',
          'note cl3',
        ]);
        // Only the row and its title arrive (a split batch): done and note are not from this life.
        b.replica.applyChanges(
          life.filter((change) => change.column === null || change.column === 'title'),
        );
        expect(b.rows('todos')).toEqual([['TEXT "t1"', 'TEXT "bread"', 'INTEGER 0', 'NULL']]);
        b.replica.applyChanges(life);
        expectConverged([a, b], ['todos']);
      },
      timeoutMs,
    );

    it(
      'concurrent edits of different columns both survive (per-column last-writer-wins)',
      async () => {
        const a = await harness.peer(todos);
        const b = await harness.peer(todos);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'milk']);
        sendAll(a, b);
        a.env.advance(10);
        a.run('UPDATE todos SET title = ? WHERE id = ?', ['oat milk', 't1']);
        b.env.advance(20);
        b.run('UPDATE todos SET done = 1 WHERE id = ?', ['t1']);
        exchange(a, b);
        expect(a.rows('todos')).toEqual([['TEXT "t1"', 'TEXT "oat milk"', 'INTEGER 1', 'NULL']]);
        expectConverged([a, b], ['todos']);
      },
      timeoutMs,
    );

    it(
      'concurrent edits of the same column: the greater stamp wins on every replica',
      async () => {
        const a = await harness.peer(todos);
        const b = await harness.peer(todos);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'milk']);
        sendAll(a, b);
        b.env.advance(20);
        b.run('UPDATE todos SET title = ? WHERE id = ?', ['from b, later', 't1']);
        a.env.advance(10);
        a.run('UPDATE todos SET title = ? WHERE id = ?', ['from a, earlier', 't1']);
        exchange(a, b);
        expect(a.rows('todos')[0]![1]).toBe('TEXT "from b, later"');
        expectConverged([a, b], ['todos']);
      },
      timeoutMs,
    );

    it(
      'equal-stamp re-delivery is a no-op: the same changeset applied twice changes nothing the second time',
      async () => {
        const a = await harness.peer(todos);
        const b = await harness.peer(todos);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?), (?, ?)', ['t1', 'milk', 't2', 'bread']);
        a.run('DELETE FROM todos WHERE id = ?', ['t2']);
        b.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['b1', 'mine']);
        const bytes = a.replica.changesetSince(0).bytes;
        expect(b.replica.applyChanges(bytes).rows).toBe(2);
        const once = databaseImage(b.replica);
        const again = b.replica.applyChanges(bytes);
        expect(again.rows).toBe(0);
        expect(again.version).toBe(once.version);
        expect(databaseImage(b.replica)).toEqual(once);
        const echo = databaseImage(a.replica);
        expect(a.replica.applyChanges(bytes).rows, 'own changes echoed back').toBe(0);
        expect(databaseImage(a.replica)).toEqual(echo);
      },
      timeoutMs,
    );

    it(
      "merged changes are relayed with their origin's stamps (how a hub forwards), and excludeSite leaves them out",
      async () => {
        const a = await harness.peer(todos);
        const b = await harness.peer(todos);
        const c = await harness.peer(todos);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'from a']);
        b.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t2', 'from b']);
        const cursor = b.replica.version;
        b.replica.applyChanges(a.replica.changesetSince(0).bytes);
        const fromA = a.replica.changesSince(0).changes.map(withoutSeq);
        const relayed = b.replica.changesSince(cursor).changes;
        expect(relayed.map(withoutSeq)).toEqual(fromA);
        expect(new Set(relayed.map((change) => change.stamp.site))).toEqual(
          new Set([a.replica.site]),
        );
        const own = b.replica.changesSince(0, { excludeSite: a.replica.site }).changes;
        expect(own.length).toBeGreaterThan(0);
        expect(new Set(own.map((change) => change.stamp.site))).toEqual(new Set([b.replica.site]));
        expect(
          b.replica.changesSince(0, { excludeSite: b.replica.site }).changes.map(withoutSeq),
        ).toEqual(fromA);
        // b as a hub: c gets everything, a gets only what it lacks.
        c.replica.applyChanges(b.replica.changesetSince(0).bytes);
        a.replica.applyChanges(b.replica.changesetSince(0, { excludeSite: a.replica.site }).bytes);
        expectConverged([a, b, c], ['todos']);
        // Receiving moved b's clock past a's stamps: b's next write is newer than all of them.
        b.run('UPDATE todos SET done = 2 WHERE id = ?', ['t1']);
        const next = b.replica.changesSince(b.replica.version - 1).changes[0]!;
        for (const change of fromA) expect(compareHlc(next.stamp, change.stamp)).toBeGreaterThan(0);
        expect(toHex(next.pk)).toBe(toHex(fromA[0]!.pk));
      },
      timeoutMs,
    );
  });
}
