import type { Change } from '@offsync/core';
import { packPrimaryKey } from '@offsync/core/codec';
import { describe, expect, it } from 'vitest';
import type { ResolvedOptions } from '../conformance-options.js';
import { databaseImage } from '../database-image.js';
import { thrownBy } from '../expect-error.js';
import type { Harness } from '../harness.js';
import type { Peer } from '../peer.js';
import { toHex } from '../show-value.js';
import { expectConverged, sendAll } from './sync-helpers.js';
import { TODOS_SQL } from './todos.js';

function alter(peer: Peer, sql: string, renamed?: Record<string, string>): void {
  peer.replica.beginAlter('todos');
  peer.exec(sql);
  peer.replica.commitAlter('todos', renamed ? { renamed } : {});
}

/** Each column's value and stamp in the changes, by column (`null`: the row). */
function history(changes: readonly Change[]): Map<string, string> {
  return new Map(
    changes.map((change) => [
      `${toHex(change.pk)} ${String(change.column)}`,
      `${String(change.value)} @${change.stamp.wall}.${change.stamp.counter}.${change.stamp.site} cl${change.cl}`,
    ]),
  );
}

/**
 * Schema migration with `beginAlter`/`commitAlter`: added, dropped and renamed columns.
 *
 * @example
 * ```ts
 * describeAlter(harness, resolveOptions());
 * ```
 */
export function describeAlter(harness: Harness, options: ResolvedOptions): void {
  const { timeoutMs } = options;
  const todos = { sql: TODOS_SQL, sync: ['todos'] };
  const ADD = 'ALTER TABLE todos ADD COLUMN prio INTEGER DEFAULT 5';

  describe('alter', () => {
    it(
      'ADD COLUMN changes the fingerprint and re-emits no old row (no backfill)',
      async () => {
        const a = await harness.peer(todos);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?), (?, ?)', ['t1', 'milk', 't2', 'bread']);
        const before = a.replica.tableInfo('todos');
        const all = a.replica.changesSince(0).changes;
        const cursor = a.replica.version;
        alter(a, ADD);
        const after = a.replica.tableInfo('todos');
        expect(after.fingerprint).not.toBe(before.fingerprint);
        expect(after.schema.valueColumns).toEqual(['title', 'done', 'note', 'prio']);
        expect(a.replica.changesSince(cursor).changes).toEqual([]);
        expect(a.replica.changesSince(0).changes.map((change) => change.column)).not.toContain(
          'prio',
        );
        expect(history(a.replica.changesSince(0).changes)).toEqual(history(all));
      },
      timeoutMs,
    );

    it(
      'a later write of the added column syncs to a replica that altered the same way',
      async () => {
        const a = await harness.peer(todos);
        const b = await harness.peer(todos);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?), (?, ?)', ['t1', 'milk', 't2', 'bread']);
        sendAll(a, b);
        alter(a, ADD);
        alter(b, ADD);
        expect(b.replica.tableInfo('todos').fingerprint).toBe(
          a.replica.tableInfo('todos').fingerprint,
        );
        expectConverged([a, b], ['todos']);
        const cursor = a.replica.version;
        a.run('UPDATE todos SET prio = 9 WHERE id = ?', ['t1']);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t3', 'rice']);
        expect(
          a.replica
            .changesSince(cursor)
            .changes.map((change) => `${toHex(change.pk)} ${change.column}`)
            .sort(),
        ).toEqual(
          [
            `${toHex(packPrimaryKey(['t1']))} prio`,
            ...[null, 'title', 'done', 'note', 'prio'].map(
              (column) => `${toHex(packPrimaryKey(['t3']))} ${column}`,
            ),
          ].sort(),
        );
        b.replica.applyChanges(a.replica.changesetSince(cursor).bytes);
        expect(b.rows('todos')).toEqual([
          ['TEXT "t1"', 'TEXT "milk"', 'INTEGER 0', 'NULL', 'INTEGER 9'],
          ['TEXT "t2"', 'TEXT "bread"', 'INTEGER 0', 'NULL', 'INTEGER 5'],
          ['TEXT "t3"', 'TEXT "rice"', 'INTEGER 0', 'NULL', 'INTEGER 5'],
        ]);
        expectConverged([a, b], ['todos']);
      },
      timeoutMs,
    );

    it(
      "a replica that has not altered refuses the other's changes, naming the fingerprint or the column, and changes nothing",
      async () => {
        const a = await harness.peer(todos);
        const c = await harness.peer(todos);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'milk']);
        sendAll(a, c);
        alter(a, ADD);
        const cursor = a.replica.version;
        a.run('UPDATE todos SET prio = 9 WHERE id = ?', ['t1']);
        const before = databaseImage(c.replica);
        expect(
          thrownBy(() => c.replica.applyChanges(a.replica.changesetSince(cursor).bytes)),
        ).toMatchObject({
          type: 'SchemaMismatchError',
          table: 'todos',
          local: c.replica.tableInfo('todos').fingerprint,
          remote: a.replica.tableInfo('todos').fingerprint,
        });
        expect(
          thrownBy(() => c.replica.applyChanges(a.replica.changesSince(cursor).changes)),
        ).toMatchObject({
          type: 'SchemaMismatchError',
          table: 'todos',
          column: 'prio',
        });
        expect(databaseImage(c.replica)).toEqual(before);
      },
      timeoutMs,
    );

    it(
      'while a table is being altered its remote changes are refused, and commitAlter needs beginAlter',
      async () => {
        const a = await harness.peer(todos);
        const b = await harness.peer(todos);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'milk']);
        expect(thrownBy(() => b.replica.commitAlter('todos'))).toMatchObject({
          type: 'SchemaError',
          problem: 'altering',
        });
        b.replica.beginAlter('todos');
        const before = databaseImage(b.replica);
        expect(thrownBy(() => sendAll(a, b))).toMatchObject({
          type: 'SchemaError',
          problem: 'altering',
        });
        expect(databaseImage(b.replica)).toEqual(before);
        b.replica.commitAlter('todos');
        sendAll(a, b);
        expectConverged([a, b], ['todos']);
      },
      timeoutMs,
    );

    it(
      "DROP COLUMN keeps the other columns' history, and replicas that dropped it keep syncing",
      async () => {
        const a = await harness.peer(todos);
        const b = await harness.peer(todos);
        a.run('INSERT INTO todos VALUES (?, ?, ?, ?)', ['t1', 'milk', 1n, 'n']);
        a.env.advance(5);
        a.run('UPDATE todos SET title = ? WHERE id = ?', ['oat milk', 't1']);
        sendAll(a, b);
        const kept = [...history(a.replica.changesSince(0).changes)].filter(
          ([key]) => !key.endsWith(' note'),
        );
        alter(a, 'ALTER TABLE todos DROP COLUMN note');
        alter(b, 'ALTER TABLE todos DROP COLUMN note');
        expect(a.replica.tableInfo('todos').schema.valueColumns).toEqual(['title', 'done']);
        expect([...history(a.replica.changesSince(0).changes)]).toEqual(kept);
        expectConverged([a, b], ['todos']);
        a.run('UPDATE todos SET done = 2 WHERE id = ?', ['t1']);
        b.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t2', 'bread']);
        sendAll(a, b);
        sendAll(b, a);
        expect(b.rows('todos')).toEqual([
          ['TEXT "t1"', 'TEXT "oat milk"', 'INTEGER 2'],
          ['TEXT "t2"', 'TEXT "bread"', 'INTEGER 0'],
        ]);
        expectConverged([a, b], ['todos']);
      },
      timeoutMs,
    );

    it(
      "RENAME COLUMN keeps the column's history under its new name",
      async () => {
        const a = await harness.peer(todos);
        const b = await harness.peer(todos);
        a.run('INSERT INTO todos VALUES (?, ?, ?, ?)', ['t1', 'milk', 1n, 'n']);
        sendAll(a, b);
        const renamed = (changes: readonly Change[]): Map<string, string> =>
          new Map(
            [...history(changes)].map(([key, value]) => [key.replace(/ title$/, ' name'), value]),
          );
        const expectedHistory = renamed(a.replica.changesSince(0).changes);
        alter(a, 'ALTER TABLE todos RENAME COLUMN title TO name');
        alter(b, 'ALTER TABLE todos RENAME COLUMN title TO name', { title: 'name' });
        expect(a.replica.tableInfo('todos').schema.valueColumns).toEqual(['name', 'done', 'note']);
        expect(history(a.replica.changesSince(0).changes)).toEqual(expectedHistory);
        expectConverged([a, b], ['todos']);
        a.run('UPDATE todos SET name = ? WHERE id = ?', ['oat milk', 't1']);
        sendAll(a, b);
        expect(b.rows('todos')).toEqual([
          ['TEXT "t1"', 'TEXT "oat milk"', 'INTEGER 1', 'TEXT "n"'],
        ]);
        expectConverged([a, b], ['todos']);
      },
      timeoutMs,
    );
  });
}
