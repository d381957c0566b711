import { describe, expect, it } from 'vitest';
import type { ResolvedOptions } from '../conformance-options.js';
import type { Harness } from '../harness.js';
import type { Peer } from '../peer.js';
import { showRows } from '../show-value.js';
import { expectConverged, sendAll } from './sync-helpers.js';
import { expected, showChange, TODOS_SQL } from './todos.js';

/**
 * Change capture by the triggers: what each kind of app write records.
 *
 * @example
 * ```ts
 * describeCapture(harness, resolveOptions());
 * ```
 */
export function describeCapture(harness: Harness, options: ResolvedOptions): void {
  const { timeoutMs } = options;
  const todos = { sql: TODOS_SQL, sync: ['todos'] };
  // Rows folded together may take their sequence numbers in any order: compare as sets.
  const since = (peer: Peer, seq: number): string[] =>
    peer.replica.changesSince(seq).changes.map(showChange).sort();

  const sorted = (list: string[]): string[] => [...list].sort();

  describe('capture', () => {
    it(
      'INSERT records the row (cl 1) and every column, DEFAULTs included',
      async () => {
        const a = await harness.peer(todos);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'milk']);
        expect(since(a, 0)).toEqual(
          sorted([
            expected('todos', ['t1'], null, null, 1),
            expected('todos', ['t1'], 'title', 'milk', 1),
            expected('todos', ['t1'], 'done', 0n, 1),
            expected('todos', ['t1'], 'note', null, 1),
          ]),
        );
      },
      timeoutMs,
    );

    it(
      'UPDATE records only the columns whose value changed',
      async () => {
        const a = await harness.peer(todos);
        a.run('INSERT INTO todos VALUES (?, ?, ?, ?)', ['t1', 2n, 0n, 'a']);
        const cursor = a.replica.version;
        a.run('UPDATE todos SET title = 2, done = ?, note = ? WHERE id = ?', [1n, 'a', 't1']);
        expect(since(a, cursor)).toEqual([expected('todos', ['t1'], 'done', 1n, 1)]);
      },
      timeoutMs,
    );

    it(
      'an UPDATE that sets the same values records nothing: no change, same version, same clock',
      async () => {
        const a = await harness.peer(todos);
        a.run('INSERT INTO todos VALUES (?, ?, ?, ?)', ['t1', 2n, 0n, 'a']);
        const cursor = a.replica.version;
        const clock = a.replica.clock;
        const vector = a.replica.versionVector();
        a.run('UPDATE todos SET title = title, done = 0, note = ? WHERE id = ?', ['a', 't1']);
        a.run('UPDATE todos SET title = ? WHERE id = ?', [2n, 't1']);
        expect(since(a, cursor)).toEqual([]);
        expect(a.replica.version).toBe(cursor);
        expect(a.replica.clock).toEqual(clock);
        expect(a.replica.versionVector()).toEqual(vector);
      },
      timeoutMs,
    );

    it(
      'INTEGER 2 → REAL 2.0, a → A under NOCASE, and TEXT → BLOB of the same bytes are changes',
      async () => {
        const a = await harness.peer(todos);
        a.run('INSERT INTO todos VALUES (?, ?, ?, ?)', ['t1', 2n, 0n, 'a']);
        let cursor = a.replica.version;
        a.run('UPDATE todos SET title = ? WHERE id = ?', [2.0, 't1']);
        expect(since(a, cursor), 'INTEGER 2 → REAL 2.0').toEqual([
          expected('todos', ['t1'], 'title', 2.0, 1),
        ]);
        cursor = a.replica.version;
        a.run('UPDATE todos SET note = ? WHERE id = ?', ['A', 't1']);
        expect(since(a, cursor), "'a' → 'A' in a NOCASE column").toEqual([
          expected('todos', ['t1'], 'note', 'A', 1),
        ]);
        cursor = a.replica.version;
        a.run('UPDATE todos SET title = ? WHERE id = ?', ['2.0', 't1']);
        a.run('UPDATE todos SET title = ? WHERE id = ?', [
          new Uint8Array([0x32, 0x2e, 0x30]),
          't1',
        ]);
        expect(since(a, cursor), 'TEXT → BLOB of the same bytes').toEqual([
          expected('todos', ['t1'], 'title', new Uint8Array([0x32, 0x2e, 0x30]), 1),
        ]);
      },
      timeoutMs,
    );

    it(
      'DELETE records the row alone with an even causal length; a re-insert starts life 3 with every column',
      async () => {
        const a = await harness.peer(todos);
        const b = await harness.peer(todos);
        a.run('INSERT INTO todos(id, title, done) VALUES (?, ?, ?)', ['t1', 'milk', 1n]);
        let cursor = a.replica.version;
        a.run('DELETE FROM todos WHERE id = ?', ['t1']);
        expect(since(a, cursor)).toEqual(sorted([expected('todos', ['t1'], null, null, 2)]));
        sendAll(a, b);
        expect(b.rows('todos')).toEqual([]);
        cursor = a.replica.version;
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'bread']);
        expect(since(a, cursor)).toEqual(
          sorted([
            expected('todos', ['t1'], null, null, 3),
            expected('todos', ['t1'], 'title', 'bread', 3),
            expected('todos', ['t1'], 'done', 0n, 3),
            expected('todos', ['t1'], 'note', null, 3),
          ]),
        );
        sendAll(a, b);
        expectConverged([a, b], ['todos']);
      },
      timeoutMs,
    );

    it(
      'an UPDATE of the primary key is a delete of the old key and an insert of the new one',
      async () => {
        const a = await harness.peer(todos);
        const b = await harness.peer(todos);
        a.run('INSERT INTO todos VALUES (?, ?, ?, ?)', ['t1', 'milk', 1n, 'n']);
        sendAll(a, b);
        const cursor = a.replica.version;
        a.run('UPDATE todos SET id = ? WHERE id = ?', ['t2', 't1']);
        expect(since(a, cursor)).toEqual(
          sorted([
            expected('todos', ['t1'], null, null, 2),
            expected('todos', ['t2'], null, null, 1),
            expected('todos', ['t2'], 'title', 'milk', 1),
            expected('todos', ['t2'], 'done', 1n, 1),
            expected('todos', ['t2'], 'note', 'n', 1),
          ]),
        );
        sendAll(a, b);
        expect(b.rows('todos')).toEqual([['TEXT "t2"', 'TEXT "milk"', 'INTEGER 1', 'TEXT "n"']]);
        expectConverged([a, b], ['todos']);
      },
      timeoutMs,
    );

    it(
      'INSERT OR REPLACE of an existing row records every column, and replicas converge on it',
      async () => {
        const a = await harness.peer(todos);
        const b = await harness.peer(todos);
        a.run('INSERT INTO todos VALUES (?, ?, ?, ?)', ['t1', 'milk', 1n, 'n']);
        sendAll(a, b);
        const cursor = a.replica.version;
        a.run('INSERT OR REPLACE INTO todos(id, title) VALUES (?, ?)', ['t1', 'bread']);
        const columns = a.replica
          .changesSince(cursor)
          .changes.filter((change) => change.column !== null)
          .map(showChange);
        expect(columns.map((change) => change.replace(/ cl\d+$/, ''))).toEqual(
          [
            expected('todos', ['t1'], 'title', 'bread', 1),
            expected('todos', ['t1'], 'done', 0n, 1),
            expected('todos', ['t1'], 'note', null, 1),
          ].map((change) => change.replace(/ cl\d+$/, '')),
        );
        sendAll(a, b);
        expect(b.rows('todos')).toEqual([['TEXT "t1"', 'TEXT "bread"', 'INTEGER 0', 'NULL']]);
        expectConverged([a, b], ['todos']);
      },
      timeoutMs,
    );

    it(
      'UPSERT records an insert when the row is absent and only the updated columns when present',
      async () => {
        const a = await harness.peer(todos);
        const upsert =
          'INSERT INTO todos(id, title) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET title = excluded.title';
        a.run(upsert, ['t1', 'milk']);
        expect(since(a, 0)).toEqual(
          sorted([
            expected('todos', ['t1'], null, null, 1),
            expected('todos', ['t1'], 'title', 'milk', 1),
            expected('todos', ['t1'], 'done', 0n, 1),
            expected('todos', ['t1'], 'note', null, 1),
          ]),
        );
        const cursor = a.replica.version;
        a.run(upsert, ['t1', 'oat milk']);
        expect(since(a, cursor)).toEqual(
          sorted([expected('todos', ['t1'], 'title', 'oat milk', 1)]),
        );
      },
      timeoutMs,
    );

    it(
      "writes in the app's own transaction are captured on commit; rolled-back writes leave nothing",
      async () => {
        const a = await harness.peer(todos);
        a.exec('BEGIN');
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'milk']);
        a.run('UPDATE todos SET done = 1 WHERE id = ?', ['t1']);
        a.exec('SAVEPOINT app');
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['gone', 'x']);
        a.exec('ROLLBACK TO app');
        a.exec('RELEASE app');
        a.exec('COMMIT');
        expect(since(a, 0)).toEqual(
          sorted([
            expected('todos', ['t1'], null, null, 1),
            expected('todos', ['t1'], 'title', 'milk', 1),
            expected('todos', ['t1'], 'done', 1n, 1),
            expected('todos', ['t1'], 'note', null, 1),
          ]),
        );
        const cursor = a.replica.version;
        const dump = a.replica.dump();
        a.exec('BEGIN');
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t2', 'bread']);
        a.run('DELETE FROM todos WHERE id = ?', ['t1']);
        a.exec('ROLLBACK');
        expect(since(a, cursor)).toEqual(sorted([]));
        expect(a.replica.version).toBe(cursor);
        expect(a.replica.dump()).toEqual(dump);
      },
      timeoutMs,
    );

    it(
      "replica calls inside the app's transaction are undone with it when it rolls back",
      async () => {
        const a = await harness.peer(todos);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'milk']);
        const cursor = a.replica.version;
        const dump = a.replica.dump();
        a.exec('BEGIN');
        a.run('UPDATE todos SET title = ? WHERE id = ?', ['oat', 't1']);
        a.replica.flush();
        expect(since(a, cursor)).toEqual(sorted([expected('todos', ['t1'], 'title', 'oat', 1)]));
        a.exec('ROLLBACK');
        expect(since(a, cursor)).toEqual(sorted([]));
        expect(a.replica.version).toBe(cursor);
        expect(a.replica.dump()).toEqual(dump);
        a.run('UPDATE todos SET title = ? WHERE id = ?', ['rice', 't1']);
        expect(since(a, cursor)).toEqual(sorted([expected('todos', ['t1'], 'title', 'rice', 1)]));
      },
      timeoutMs,
    );

    it(
      'composite primary keys (TEXT + INTEGER) are captured and synced',
      async () => {
        const cells = {
          sql: 'CREATE TABLE cells(sheet TEXT NOT NULL, n INTEGER NOT NULL, v, PRIMARY KEY(sheet, n))',
          sync: ['cells'],
        };
        const a = await harness.peer(cells);
        const b = await harness.peer(cells);
        a.run('INSERT INTO cells VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)', [
          's',
          1n,
          'a',
          's',
          2n,
          'b',
          't',
          1n,
          'c',
        ]);
        sendAll(a, b);
        const cursor = a.replica.version;
        a.run('UPDATE cells SET v = ? WHERE sheet = ? AND n = ?', ['B', 's', 2n]);
        a.run('DELETE FROM cells WHERE sheet = ? AND n = ?', ['t', 1n]);
        expect(since(a, cursor)).toEqual(
          sorted([
            expected('cells', ['s', 2n], 'v', 'B', 1),
            expected('cells', ['t', 1n], null, null, 2),
          ]),
        );
        sendAll(a, b);
        expect(b.rows('cells', 'sheet, n')).toEqual([
          ['TEXT "s"', 'INTEGER 1', 'TEXT "a"'],
          ['TEXT "s"', 'INTEGER 2', 'TEXT "B"'],
        ]);
        expectConverged([a, b], ['cells']);
      },
      timeoutMs,
    );

    it(
      'a table with only key columns syncs its rows by causal length alone',
      async () => {
        const tags = {
          sql: 'CREATE TABLE tags(a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY(a, b))',
          sync: ['tags'],
        };
        const a = await harness.peer(tags);
        const b = await harness.peer(tags);
        a.run('INSERT INTO tags VALUES (?, ?), (?, ?)', ['x', 'y', 'x', 'z']);
        a.run('DELETE FROM tags WHERE b = ?', ['y']);
        expect(since(a, 0)).toEqual(
          sorted([
            expected('tags', ['x', 'y'], null, null, 2),
            expected('tags', ['x', 'z'], null, null, 1),
          ]),
        );
        sendAll(a, b);
        a.run('INSERT INTO tags VALUES (?, ?)', ['x', 'y']);
        sendAll(a, b);
        expect(b.rows('tags', 'a, b')).toEqual([
          ['TEXT "x"', 'TEXT "y"'],
          ['TEXT "x"', 'TEXT "z"'],
        ]);
        expectConverged([a, b], ['tags']);
      },
      timeoutMs,
    );

    it(
      'a WITHOUT ROWID table is captured and synced',
      async () => {
        const w = {
          sql: 'CREATE TABLE w(id TEXT PRIMARY KEY NOT NULL, v, n INTEGER DEFAULT 3) WITHOUT ROWID',
          sync: ['w'],
        };
        const a = await harness.peer(w);
        const b = await harness.peer(w);
        a.run('INSERT INTO w(id, v) VALUES (?, ?), (?, ?)', ['k1', 'x', 'k2', 'y']);
        sendAll(a, b);
        const cursor = a.replica.version;
        a.run('UPDATE w SET n = 4 WHERE id = ?', ['k1']);
        a.run('DELETE FROM w WHERE id = ?', ['k2']);
        expect(since(a, cursor)).toEqual(
          sorted([expected('w', ['k1'], 'n', 4n, 1), expected('w', ['k2'], null, null, 2)]),
        );
        sendAll(a, b);
        expect(b.rows('w')).toEqual([['TEXT "k1"', 'TEXT "x"', 'INTEGER 4']]);
        expectConverged([a, b], ['w']);
      },
      timeoutMs,
    );

    it(
      'a table of 70 columns (two change masks) records exactly the columns updated',
      async () => {
        const names = Array.from({ length: 70 }, (_, i) => `c${i}`);
        const wide = {
          sql: `CREATE TABLE wide(id TEXT PRIMARY KEY NOT NULL, ${names.join(', ')})`,
          sync: ['wide'],
        };
        const a = await harness.peer(wide);
        const b = await harness.peer(wide);
        a.run('INSERT INTO wide(id) VALUES (?)', ['w']);
        expect(since(a, 0)).toHaveLength(71);
        sendAll(a, b);
        const rounds = [[0], [61], [62], [69], [0, 61, 62, 69], [30, 31, 63]];
        for (const [round, chosen] of rounds.entries()) {
          const cursor = a.replica.version;
          const value = (i: number): bigint => BigInt(1000 * (round + 1) + i);
          const set = chosen.map((i) => `c${i} = ${value(i)}`).join(', ');
          a.run(`UPDATE wide SET ${set} WHERE id = ?`, ['w']);
          expect(since(a, cursor), `columns ${chosen.join(', ')}`).toEqual(
            sorted(chosen.map((i) => expected('wide', ['w'], `c${i}`, value(i), 1))),
          );
          sendAll(a, b);
        }
        expectConverged([a, b], ['wide']);
      },
      timeoutMs,
    );

    it(
      'tables and columns whose names need quoting are captured and synced',
      async () => {
        const quoted = {
          sql: `CREATE TABLE "order"("key" TEXT PRIMARY KEY NOT NULL, "a b", "quo""te", "select" INTEGER DEFAULT 1);
                CREATE TABLE "we""ird table"("i""d" TEXT PRIMARY KEY NOT NULL, "v;--" TEXT)`,
          sync: ['order', 'we"ird table'],
        };
        const a = await harness.peer(quoted);
        const b = await harness.peer(quoted);
        a.run('INSERT INTO "order"("key", "a b", "quo""te") VALUES (?, ?, ?)', ['k', 1n, 'q']);
        a.run('INSERT INTO "we""ird table" VALUES (?, ?)', ['i', 'v']);
        sendAll(a, b);
        const cursor = a.replica.version;
        a.run('UPDATE "order" SET "quo""te" = ?, "select" = 2 WHERE "key" = ?', ['Q', 'k']);
        a.run('UPDATE "we""ird table" SET "v;--" = ? WHERE "i""d" = ?', ['w', 'i']);
        expect(since(a, cursor)).toEqual(
          sorted([
            expected('order', ['k'], 'quo"te', 'Q', 1),
            expected('order', ['k'], 'select', 2n, 1),
            expected('we"ird table', ['i'], 'v;--', 'w', 1),
          ]),
        );
        sendAll(a, b);
        expect(showRows(b.all('SELECT * FROM "order"'))).toEqual([
          ['TEXT "k"', 'INTEGER 1', 'TEXT "Q"', 'INTEGER 2'],
        ]);
        a.run('DELETE FROM "we""ird table"');
        sendAll(a, b);
        expect(b.all('SELECT * FROM "we""ird table"')).toEqual([]);
        expectConverged([a, b], ['"order"', '"we""ird table"']);
      },
      timeoutMs,
    );
  });
}
