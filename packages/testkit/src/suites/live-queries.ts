import {
  type ListenerError,
  type ReplicaChange,
  type SqliteDriver,
  type SqlValue,
  sqlValuesEqual,
} from '@offsync/core';
import { describe, expect, it } from 'vitest';
import type { ResolvedOptions } from '../conformance-options.js';
import { thrownBy } from '../expect-error.js';
import type { Harness } from '../harness.js';
import type { Peer } from '../peer.js';
import { showSqlValue } from '../show-value.js';

const SCHEMA = `
  CREATE TABLE lists(id TEXT PRIMARY KEY NOT NULL, name TEXT);
  CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, list TEXT, title, done INTEGER DEFAULT 0, big INTEGER);
  CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);
  CREATE VIEW todo_view AS SELECT todos.id, todos.title, lists.name AS list_name
    FROM todos JOIN lists ON lists.id = todos.list;
`;
const SYNCED = ['lists', 'todos'];

/** What a test saw: every change event and every callback of each live query, in order. */
interface Recorder {
  readonly events: ReplicaChange[];
  readonly calls: (readonly unknown[])[];
  readonly errors: ListenerError[];
}

function record(peer: Peer): Recorder {
  const recorder: Recorder = { events: [], calls: [], errors: [] };
  peer.replica.onChange((change) => recorder.events.push(change));
  peer.replica.onListenerError((error) => recorder.errors.push(error));
  return recorder;
}

/** An event's rows shown exactly (`table key...`), sorted. */
function shownRows(change: ReplicaChange): string[] {
  return change.rows.map((row) => `${row.table} ${row.key.map(showSqlValue).join(',')}`).sort();
}

/** The keys of `table` read back with quote(), as the test's witness of what is stored. */
function storedKeys(peer: Peer, table: string): string[] {
  return peer.all(`SELECT quote(id) FROM ${table} ORDER BY id`).map((row) => String(row[0]));
}

/** Exact rows as quote()/hex() text, to compare a live result with what SQLite holds. */
function exactText(rows: readonly (readonly SqlValue[])[]): string[] {
  return rows.map((row) => row.map(showSqlValue).join('|'));
}

function insertTodos(peer: Peer, count: number, from = 0, list = 'l1'): void {
  peer.exec('BEGIN');
  for (let i = from; i < from + count; i++) {
    peer.run('INSERT INTO todos(id, list, title) VALUES (?, ?, ?)', [
      `t${String(i).padStart(5, '0')}`,
      list,
      `todo ${i}`,
    ]);
  }
  peer.exec('COMMIT');
}

/**
 * Change events and live queries (`replica.onChange`, `replica.watch`, `replica.query`,
 * `replica.notifyChanges`) over the driver: local writes through plain SQL, writes by a second
 * connection (where the fixture can open one), merges, rollbacks, views and joins, unchanged
 * results, stopping, failing listeners and the row shapes a UI asks for. Every event is checked
 * against the bytes SQLite holds.
 *
 * @example
 * ```ts
 * describeLiveQueries(harness, resolveOptions());
 * ```
 */
export function describeLiveQueries(harness: Harness, options: ResolvedOptions): void {
  const { timeoutMs } = options;
  const open = (): Promise<Peer> => harness.peer({ sql: SCHEMA, sync: SYNCED });

  describe('live queries', () => {
    it(
      'a local write through plain SQL gives one local event with its table and keys',
      async () => {
        const a = await open();
        const seen = record(a);
        a.exec('BEGIN');
        a.run("INSERT INTO lists VALUES ('l1', 'home')");
        a.run("INSERT INTO todos(id, list, title) VALUES ('t1', 'l1', 'milk')");
        a.run("INSERT INTO todos(id, list, title) VALUES ('t2', 'l1', 'eggs')");
        a.exec('COMMIT');
        expect(seen.events).toEqual([]);
        a.replica.notifyChanges();
        expect(seen.events).toHaveLength(1);
        expect(seen.events[0]!.source).toBe('local');
        expect(seen.events[0]!.tables).toEqual(['lists', 'todos']);
        expect(shownRows(seen.events[0]!)).toEqual([
          'lists TEXT "l1"',
          'todos TEXT "t1"',
          'todos TEXT "t2"',
        ]);
        expect(storedKeys(a, 'todos')).toEqual(["'t1'", "'t2'"]);
        // Nothing new: no event.
        a.replica.notifyChanges();
        expect(seen.events).toHaveLength(1);
        // A delete is a change too.
        a.run("DELETE FROM todos WHERE id = 't1'");
        a.replica.notifyChanges();
        expect(seen.events.map(shownRows)).toEqual([
          ['lists TEXT "l1"', 'todos TEXT "t1"', 'todos TEXT "t2"'],
          ['todos TEXT "t1"'],
        ]);
        expect(storedKeys(a, 'todos')).toEqual(["'t2'"]);
        expect(seen.errors).toEqual([]);
      },
      timeoutMs,
    );

    it(
      'a rolled-back transaction gives no event and no callback',
      async () => {
        const a = await open();
        const seen = record(a);
        const live = a.replica.watch('SELECT id FROM todos ORDER BY id', [], (rows) =>
          seen.calls.push(rows),
        );
        a.exec('BEGIN');
        a.run("INSERT INTO todos(id, title) VALUES ('t1', 'milk')");
        // Inside the app's open transaction nothing is committed yet: nothing is delivered.
        a.replica.notifyChanges();
        a.exec('ROLLBACK');
        a.replica.notifyChanges();
        expect(seen.events).toEqual([]);
        expect(seen.calls).toEqual([]);
        expect(live.rows).toEqual([]);
        expect(storedKeys(a, 'todos')).toEqual([]);
      },
      timeoutMs,
    );

    it(
      'notifyChanges inside an open transaction waits for the commit',
      async () => {
        const a = await open();
        const seen = record(a);
        a.exec('BEGIN');
        a.run("INSERT INTO todos(id, title) VALUES ('t1', 'milk')");
        a.replica.notifyChanges();
        expect(seen.events).toEqual([]);
        a.exec('COMMIT');
        a.replica.notifyChanges();
        expect(seen.events.map(shownRows)).toEqual([['todos TEXT "t1"']]);
      },
      timeoutMs,
    );

    it(
      'a write by a second connection to the same database is seen',
      async (context) => {
        const a = await open();
        const other: SqliteDriver | undefined = await harness.connection(a);
        // The fixture cannot open a second connection to one database (memory, sql.js).
        if (!other) return context.skip();
        const seen = record(a);
        const live = a.replica.watch('SELECT id, title FROM todos ORDER BY id', [], (rows) =>
          seen.calls.push(rows),
        );
        other.exec("INSERT INTO todos(id, title) VALUES ('t9', 'from elsewhere')");
        a.replica.notifyChanges();
        expect(seen.events.map((event) => event.source)).toEqual(['local']);
        expect(shownRows(seen.events[0]!)).toEqual(['todos TEXT "t9"']);
        expect(seen.calls).toHaveLength(1);
        expect(exactText(live.rows as SqlValue[][])).toEqual(
          exactText(a.all('SELECT id, title FROM todos ORDER BY id')),
        );
        // The second connection's write was captured by the triggers: it syncs like any other.
        expect(a.replica.changesSince(0).changes.some((change) => change.table === 'todos')).toBe(
          true,
        );
      },
      timeoutMs,
    );

    it(
      'a merge gives one remote event with every row, and one callback per live query',
      async () => {
        const a = await open();
        const b = await open();
        a.run("INSERT INTO lists VALUES ('l1', 'home')");
        insertTodos(a, 1000);
        const seen = record(b);
        const calls = [0, 0, 0];
        const watches = [
          b.replica.watch('SELECT count(*) FROM todos', [], () => calls[0]!++),
          b.replica.watch('SELECT id FROM todos WHERE id = ?', ['t00500'], () => calls[1]!++),
          b.replica.watch('SELECT * FROM todo_view ORDER BY id', [], () => calls[2]!++),
        ];
        const untouched = b.replica.watch('SELECT * FROM notes', [], () => calls.push(-1));
        b.replica.applyChanges(a.replica.changesetSince(0).bytes);
        expect(seen.events).toHaveLength(1);
        const [event] = seen.events;
        expect(event!.source).toBe('remote');
        expect(event!.tables).toEqual(['lists', 'todos']);
        expect(event!.rows).toHaveLength(1001);
        // The keys delivered are exactly the keys now stored.
        const delivered = event!.rows
          .filter((row) => row.table === 'todos')
          .map((row) => showSqlValue(row.key[0]!))
          .sort();
        expect(delivered).toEqual(
          b.all('SELECT id FROM todos ORDER BY id').map((row) => showSqlValue(row[0]!)),
        );
        expect(calls).toEqual([1, 1, 1]);
        expect(watches[0]!.rows).toEqual([[1000n]]);
        expect(watches[1]!.rows).toEqual([['t00500']]);
        expect(exactText(watches[2]!.rows as SqlValue[][])).toEqual(
          exactText(b.all('SELECT * FROM todo_view ORDER BY id')),
        );
        expect(untouched.tables).toEqual(['notes']);
        // The same changes again change nothing: no event, no callback.
        b.replica.applyChanges(a.replica.changesetSince(0).bytes);
        expect(seen.events).toHaveLength(1);
        expect(calls).toEqual([1, 1, 1]);
      },
      timeoutMs,
    );

    it(
      'a refused merge (malformed bytes, or a row SQLite refuses) gives no event and no callback',
      async () => {
        const a = await open();
        const b = await open();
        insertTodos(a, 10);
        // The receiving app refuses one row: the whole batch is rolled back.
        b.exec(
          "CREATE TRIGGER refuse BEFORE INSERT ON todos WHEN NEW.id = 't00005' BEGIN SELECT RAISE(ABORT, 'refused'); END",
        );
        const seen = record(b);
        const live = b.replica.watch('SELECT count(*) FROM todos', [], (rows) =>
          seen.calls.push(rows),
        );
        const bytes = a.replica.changesetSince(0).bytes;
        const forged = bytes.slice();
        forged[forged.length - 1]! ^= 0xff;
        for (const input of [bytes.slice(0, bytes.length - 3), forged, bytes]) {
          const error = thrownBy(() => b.replica.applyChanges(input));
          expect(['DecodeError', 'ApplyError']).toContain(error.type);
        }
        expect(seen.events).toEqual([]);
        expect(seen.calls).toEqual([]);
        expect(live.rows).toEqual([[0n]]);
        expect(storedKeys(b, 'todos')).toEqual([]);
        // Once the app lets it through, the same batch is one event.
        b.exec('DROP TRIGGER refuse');
        b.replica.applyChanges(bytes);
        expect(seen.events).toHaveLength(1);
        expect(seen.events[0]!.rows).toHaveLength(10);
        expect(live.rows).toEqual([[10n]]);
      },
      timeoutMs,
    );

    it(
      'a live query over a view of a join finds both tables and follows either',
      async () => {
        const a = await open();
        a.run("INSERT INTO lists VALUES ('l1', 'home')");
        a.run("INSERT INTO todos(id, list, title) VALUES ('t1', 'l1', 'milk')");
        const seen = record(a);
        const live = a.replica.watch<{ id: string; list_name: string }>(
          'SELECT id, list_name FROM todo_view WHERE id = ?',
          ['t1'],
          (rows) => seen.calls.push(rows),
          { rows: 'object' },
        );
        expect(live.tables).toEqual(['lists', 'todos']);
        expect(live.rows).toEqual([{ id: 't1', list_name: 'home' }]);
        a.run("UPDATE lists SET name = 'work' WHERE id = 'l1'");
        a.replica.notifyChanges();
        expect(seen.calls).toEqual([[{ id: 't1', list_name: 'work' }]]);
        const join = a.replica.watch(
          'SELECT t.title, l.name FROM todos t JOIN lists l ON l.id = t.list',
          [],
          () => undefined,
        );
        expect(join.tables).toEqual(['lists', 'todos']);
      },
      timeoutMs,
    );

    it(
      'a re-run whose result is unchanged does not call back, and the rows keep their identity',
      async () => {
        const a = await open();
        a.run("INSERT INTO todos(id, title, done) VALUES ('t1', 'milk', 0)");
        const seen = record(a);
        const live = a.replica.watch('SELECT id, title FROM todos WHERE done = 0', [], (rows) =>
          seen.calls.push(rows),
        );
        const first = live.rows;
        // Same table, a row the query does not return.
        a.run("INSERT INTO todos(id, title, done) VALUES ('t2', 'eggs', 1)");
        a.replica.notifyChanges();
        // A column the query does not read.
        a.run("UPDATE todos SET big = 7 WHERE id = 't1'");
        a.replica.notifyChanges();
        expect(seen.events).toHaveLength(2);
        expect(seen.calls).toEqual([]);
        expect(live.rows).toBe(first);
        // 2 (INTEGER) and 2.0 (REAL) differ by storage class: that is a change.
        a.run("UPDATE todos SET title = 2 WHERE id = 't1'");
        a.replica.notifyChanges();
        a.run("UPDATE todos SET title = 2.0 WHERE id = 't1'");
        a.replica.notifyChanges();
        expect(seen.calls.map((rows) => exactText(rows as SqlValue[][]))).toEqual([
          ['TEXT "t1"|INTEGER 2'],
          ['TEXT "t1"|REAL 2'],
        ]);
        expect(sqlValuesEqual((live.rows[0] as SqlValue[])[1]!, 2)).toBe(true);
      },
      timeoutMs,
    );

    it(
      'a stopped live query never calls back, even when stopped inside a callback',
      async () => {
        const a = await open();
        const calls: string[] = [];
        const first = a.replica.watch('SELECT count(*) FROM todos', [], () => {
          calls.push('first');
          first.stop();
          second.stop();
          first.stop();
        });
        const second = a.replica.watch('SELECT count(*) FROM todos', [], () =>
          calls.push('second'),
        );
        const plain = a.replica.watch('SELECT count(*) FROM todos', [], () => calls.push('plain'));
        a.run("INSERT INTO todos(id) VALUES ('t1')");
        a.replica.notifyChanges();
        expect(calls).toEqual(['first', 'plain']);
        plain.stop();
        a.run("INSERT INTO todos(id) VALUES ('t2')");
        a.replica.notifyChanges();
        expect(calls).toEqual(['first', 'plain']);
        expect(plain.rows).toEqual([[1n]]);
      },
      timeoutMs,
    );

    it(
      'a throwing listener does not break the merge or the other listeners',
      async () => {
        const a = await open();
        const b = await open();
        insertTodos(a, 10);
        const seen = record(b);
        b.replica.onChange(() => {
          throw new Error('listener bug');
        });
        const after: ReplicaChange[] = [];
        b.replica.onChange((change) => after.push(change));
        const live = b.replica.watch('SELECT count(*) FROM todos', [], () => {
          throw new Error('render bug');
        });
        const result = b.replica.applyChanges(a.replica.changesetSince(0).bytes);
        expect(result.rows).toBeGreaterThan(0);
        expect(b.rows('todos')).toEqual(a.rows('todos'));
        expect(after).toHaveLength(1);
        expect(seen.events).toHaveLength(1);
        expect(seen.errors.map((error) => [error.type, error.source])).toEqual([
          ['ListenerError', 'change'],
          ['ListenerError', 'watch'],
        ]);
        expect((seen.errors[0]!.cause as Error).message).toBe('listener bug');
        expect(seen.errors[1]!.sql).toBe('SELECT count(*) FROM todos');
        // The live query took the new result even though its callback threw.
        expect(live.rows).toEqual([[10n]]);
      },
      timeoutMs,
    );

    it(
      'an unsubscribed listener hears nothing; a listener may merge from inside its callback',
      async () => {
        const a = await open();
        const b = await open();
        a.run("INSERT INTO lists VALUES ('l1', 'home')");
        const heard: string[] = [];
        const stop = b.replica.onChange(() => heard.push('gone'));
        stop();
        let nested = false;
        b.replica.onChange((change) => {
          heard.push(`${change.source} ${change.tables.join(',')}`);
          if (!nested) {
            nested = true;
            b.run("INSERT INTO todos(id) VALUES ('t1')");
            b.replica.notifyChanges();
          }
        });
        b.replica.applyChanges(a.replica.changesetSince(0).bytes);
        expect(heard).toEqual(['remote lists', 'local todos']);
      },
      timeoutMs,
    );

    it(
      'evicted rows are a remote change',
      async () => {
        const a = await open();
        const b = await open();
        insertTodos(a, 3);
        b.replica.applyChanges(a.replica.changesetSince(0).bytes);
        const seen = record(b);
        const live = b.replica.watch('SELECT id FROM todos ORDER BY id', [], (rows) =>
          seen.calls.push(rows),
        );
        const pk = a.replica.changesSince(0).changes.find((change) => change.table === 'todos')!.pk;
        b.replica.evict([{ table: 'todos', pk }]);
        expect(seen.events).toHaveLength(1);
        expect(seen.events[0]!.source).toBe('remote');
        expect(seen.events[0]!.rows).toHaveLength(1);
        const [evicted] = seen.events[0]!.rows;
        expect(b.all('SELECT count(*) FROM todos WHERE id = ?', [evicted!.key[0]!])).toEqual([
          [0n],
        ]);
        expect(seen.calls).toHaveLength(1);
        expect(live.rows).toHaveLength(2);
      },
      timeoutMs,
    );

    it(
      'clearing the synced data is a remote change of every row it held',
      async () => {
        const a = await open();
        a.run("INSERT INTO lists VALUES ('l1', 'home')");
        insertTodos(a, 3);
        const seen = record(a);
        const live = a.replica.watch('SELECT count(*) FROM todos', [], (rows) =>
          seen.calls.push(rows),
        );
        a.replica.clearSyncedData();
        expect(seen.events.map((event) => [event.source, event.tables])).toEqual([
          ['remote', ['lists', 'todos']],
        ]);
        expect(shownRows(seen.events[0]!)).toEqual([
          'lists TEXT "l1"',
          'todos TEXT "t00000"',
          'todos TEXT "t00001"',
          'todos TEXT "t00002"',
        ]);
        expect(storedKeys(a, 'todos')).toEqual([]);
        expect(live.rows).toEqual([[0n]]);
      },
      timeoutMs,
    );

    it(
      'a live query follows a view redefined to read another table',
      async () => {
        const a = await open();
        a.run("INSERT INTO lists VALUES ('l1', 'home')");
        a.run("INSERT INTO todos(id, list, title) VALUES ('t1', 'l1', 'milk')");
        const seen = record(a);
        const live = a.replica.watch('SELECT title FROM todo_view ORDER BY 1', [], (rows) =>
          seen.calls.push(rows),
        );
        expect(live.tables).toEqual(['lists', 'todos']);
        a.exec(`
          DROP VIEW todo_view;
          CREATE VIEW todo_view AS SELECT id, body AS title, NULL AS list_name FROM notes;
          INSERT INTO notes(body) VALUES ('from notes');
        `);
        a.replica.notifyChanges();
        expect(seen.errors).toEqual([]);
        expect(live.tables).toEqual(['notes']);
        expect(seen.calls).toEqual([[['from notes']]]);
        a.run("INSERT INTO notes(body) VALUES ('more')");
        a.replica.notifyChanges();
        expect(live.rows).toEqual([['from notes'], ['more']]);
      },
      timeoutMs,
    );

    it(
      'a new result that cannot be read as numbers is reported, and the last rows stay',
      async () => {
        const a = await open();
        a.run("INSERT INTO todos(id, big) VALUES ('t1', 7)");
        const seen = record(a);
        const live = a.replica.watch(
          'SELECT id, big FROM todos',
          [],
          (rows) => seen.calls.push(rows),
          {
            integers: 'number',
          },
        );
        expect(live.rows).toEqual([['t1', 7]]);
        a.run("UPDATE todos SET big = 9223372036854775807 WHERE id = 't1'");
        a.replica.notifyChanges();
        expect(seen.calls).toEqual([]);
        expect(live.rows).toEqual([['t1', 7]]);
        expect(seen.errors).toHaveLength(1);
        expect(seen.errors[0]).toMatchObject({ type: 'ListenerError', source: 'watch' });
        expect(seen.errors[0]!.cause).toMatchObject({
          type: 'IntegerPrecisionError',
          column: 'big',
          value: 9223372036854775807n,
        });
        a.run("UPDATE todos SET big = 8 WHERE id = 't1'");
        a.replica.notifyChanges();
        expect(seen.calls).toEqual([[['t1', 8]]]);
      },
      timeoutMs,
    );

    it(
      'a live query over a table that is not synced follows commits too',
      async () => {
        const a = await open();
        const seen = record(a);
        const live = a.replica.watch('SELECT body FROM notes ORDER BY id', [], (rows) =>
          seen.calls.push(rows),
        );
        a.run("INSERT INTO notes(body) VALUES ('hello')");
        a.replica.notifyChanges();
        expect(seen.events).toEqual([]);
        expect(seen.calls).toEqual([[['hello']]]);
        expect(live.rows).toEqual([['hello']]);
      },
      timeoutMs,
    );

    it(
      'rows as objects with JSON-safe integers, and exact bigints by default',
      async () => {
        const a = await open();
        a.run("INSERT INTO todos(id, title, done, big) VALUES ('t1', 'milk', 1, ?)", [
          9007199254740993n,
        ]);
        a.run("INSERT INTO todos(id, title, done, big) VALUES ('t2', x'00ff', 0, -5)");
        expect(a.replica.query('SELECT id, big FROM todos ORDER BY id')).toEqual([
          ['t1', 9007199254740993n],
          ['t2', -5n],
        ]);
        const asText = a.replica.query('SELECT id, done, big FROM todos ORDER BY id', [], {
          rows: 'object',
          integers: 'string',
        });
        expect(asText).toEqual([
          { id: 't1', done: '1', big: '9007199254740993' },
          { id: 't2', done: '0', big: '-5' },
        ]);
        expect(JSON.stringify(asText)).toBe(
          '[{"id":"t1","done":"1","big":"9007199254740993"},{"id":"t2","done":"0","big":"-5"}]',
        );
        const asNumbers = a.replica.query(
          "SELECT id, done, big, 0.5 AS half, '?' AS q FROM todos WHERE id = ?",
          ['t2'],
          { rows: 'object', integers: 'number' },
        );
        expect(JSON.stringify(asNumbers)).toBe(
          '[{"id":"t2","done":0,"big":-5,"half":0.5,"q":"?"}]',
        );
        const error = thrownBy(() =>
          a.replica.query('SELECT id, big FROM todos', [], { integers: 'number' }),
        );
        expect(error).toMatchObject({
          type: 'IntegerPrecisionError',
          column: 'big',
          value: 9007199254740993n,
        });
        // Duplicate names are told apart as a view does; an alias named __proto__ is a key.
        const [row] = a.replica.query<Record<string, unknown>>(
          'SELECT t.id, l.id, 1 AS __proto__ FROM todos t LEFT JOIN lists l WHERE t.id = ?',
          ['t1'],
          { rows: 'object', integers: 'number' },
        );
        expect(Object.keys(row!)).toEqual(['id', 'id:1', '__proto__']);
        expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
      },
      timeoutMs,
    );

    it(
      'a hostile query runs nothing beyond its first statement and changes nothing',
      async () => {
        const a = await open();
        insertTodos(a, 2);
        const before = a.rows('todos');
        for (const sql of [
          'SELECT id FROM todos; DROP TABLE todos',
          "SELECT id FROM todos WHERE id = '; DROP TABLE todos; --'",
          'SELECT id FROM todos /* ; DROP TABLE todos */',
          'SELECT id FROM todos -- ; DROP TABLE todos',
        ]) {
          try {
            a.replica.query(sql, [], { rows: 'object' });
          } catch (error) {
            // A driver may refuse a second statement; it must not run it.
            expect(error).toBeInstanceOf(Error);
          }
        }
        expect(a.rows('todos')).toEqual(before);
        // The probe that names the columns leaves nothing behind.
        expect(a.all('SELECT count(*) FROM sqlite_temp_schema')).toEqual([[0n]]);
        const named = thrownBy(() =>
          a.replica.query('PRAGMA table_info(lists)', [], { rows: 'object' }),
        );
        expect(named).toMatchObject({ type: 'ColumnNamesError', sql: 'PRAGMA table_info(lists)' });
      },
      timeoutMs,
    );
  });
}
