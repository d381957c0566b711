// The hooks' store logic and rendering in Node, over real SQLite (better-sqlite3): snapshots are
// stable, the live query runs only while subscribed, and react-dom/server renders what the
// replica holds. The browser test (react-app.test.ts) covers live updates through real React.
import { type NodeReplica, openReplica } from '@offsync/adapter-node';
import type { SqlValue } from '@offsync/core';
import { createElement, type ReactElement, StrictMode } from 'react';
import { renderToString } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MissingSourceError,
  OffsyncProvider,
  QueryStore,
  queryKey,
  RowKeyError,
  rowQuery,
  sameRows,
  useQuery,
  useRow,
} from '../src/index.js';
import { countWatches } from './app/counted-replica.js';

const SCHEMA = [
  'CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT, done INTEGER NOT NULL DEFAULT 0)',
  'CREATE TABLE pairs(a TEXT NOT NULL, b INTEGER NOT NULL, v BLOB, PRIMARY KEY (a, b))',
  'CREATE TABLE other(id TEXT PRIMARY KEY NOT NULL, v TEXT)',
  'CREATE TABLE keyless(v TEXT)',
].join(';\n');

let replica: NodeReplica;

beforeEach(() => {
  replica = openReplica(':memory:');
  replica.db.exec(SCHEMA);
  for (const table of ['todos', 'pairs', 'other']) replica.enableSync(table);
});

afterEach(() => {
  replica.close();
});

/** Writes through the app's own connection, then tells the replica to look (as the sync loop does at each poll). */
function insertTodo(id: string, title: string): void {
  replica.db.prepare('INSERT INTO todos(id, title) VALUES (?, ?)').run(id, title);
  replica.notifyChanges();
}

/** Every column of `table` as SQLite's own literal, so rows compare by the bytes stored. */
function quoted(table: string, columns: readonly string[]): string[][] {
  return replica
    .query<SqlValue[]>(
      `SELECT ${columns.map((c) => `quote(${c})`).join(', ')} FROM ${table} ORDER BY 1, 2`,
    )
    .map((row) => row.map(String));
}

function Todos(): ReactElement {
  const todos = useQuery<{ id: string; title: string }>(
    'SELECT id, title FROM todos ORDER BY id',
    [],
    { rows: 'object' },
  );
  return createElement(
    'ul',
    null,
    todos.map((todo) => createElement(Todo, { key: todo.id, id: todo.id })),
  );
}

function Todo(props: { id: string }): ReactElement {
  const todo = useRow<{ title: string }>('todos', props.id, { rows: 'object' });
  return createElement('li', null, todo?.title ?? '(gone)');
}

function Pair(props: { a: string; b: bigint }): ReactElement {
  const pair = useRow<SqlValue[]>('pairs', [props.a, props.b]);
  return createElement('span', null, pair ? `${pair[0]}/${pair[1]}/${pair[2]}` : 'none');
}

function Mine(): ReactElement {
  const row = useRow<{ title: string }>('todos', 't1', { rows: 'object', replica });
  return createElement('b', null, row?.title);
}

function Keyless(): ReactElement {
  useRow('keyless', 'x', { replica });
  return createElement('p');
}

/** Resolves on the store's next notification. */
function nextNotify(store: QueryStore<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const stop = store.subscribe(() => {
      stop();
      resolve();
    });
  });
}

describe('QueryStore', () => {
  it('returns the same array until the rows change, and runs no live query before a subscriber', () => {
    insertTodo('t1', 'milk');
    const store = new QueryStore<SqlValue[]>(replica, 'SELECT id, title FROM todos', [], {});
    const first = store.getSnapshot();
    expect(store.getSnapshot()).toBe(first);
    expect(first).toEqual([['t1', 'milk']]);
    expect(store.watching).toBe(false);
  });

  it('keeps the render-time array when a subscription finds the same rows', () => {
    insertTodo('t1', 'milk');
    const store = new QueryStore<SqlValue[]>(replica, 'SELECT id, title FROM todos', [], {});
    const rendered = store.getSnapshot();
    let notified = 0;
    const stop = store.subscribe(() => notified++);
    expect(store.watching).toBe(true);
    expect(store.getSnapshot()).toBe(rendered);
    expect(notified).toBe(0);
    stop();
  });

  it('takes up a change made between the render and the subscription', () => {
    const store = new QueryStore<SqlValue[]>(replica, 'SELECT id FROM todos', [], {});
    expect(store.getSnapshot()).toEqual([]);
    insertTodo('t1', 'milk');
    const stop = store.subscribe(() => undefined);
    expect(store.getSnapshot()).toEqual([['t1']]);
    stop();
  });

  it('notifies on a change to a table it reads, with a new array, and not for other tables', async () => {
    const store = new QueryStore<SqlValue[]>(replica, 'SELECT id, title FROM todos', [], {});
    const witness = new QueryStore<SqlValue[]>(replica, 'SELECT id FROM other', [], {});
    let notified = 0;
    const stop = store.subscribe(() => notified++);
    const before = store.getSnapshot();

    const otherChanged = nextNotify(witness);
    replica.db.prepare("INSERT INTO other(id, v) VALUES ('o1', 'x')").run();
    replica.notifyChanges();
    await otherChanged;
    expect(notified).toBe(0);
    expect(store.getSnapshot()).toBe(before);

    const changed = nextNotify(store);
    insertTodo('t1', 'milk');
    await changed;
    expect(notified).toBe(1);
    expect(store.getSnapshot()).not.toBe(before);
    expect(store.getSnapshot()).toEqual([['t1', 'milk']]);
    stop();
  });

  it('stops the live query with its last subscriber: no notification after, however the data changes', async () => {
    const counted = countWatches(replica);
    const store = new QueryStore<SqlValue[]>(counted, 'SELECT id FROM todos', [], {});
    const witness = new QueryStore<SqlValue[]>(replica, 'SELECT count(*) FROM todos', [], {});
    let notified = 0;
    const stopOne = store.subscribe(() => notified++);
    const stopTwo = store.subscribe(() => notified++);
    stopOne();
    stopOne(); // a second call of the same removal changes nothing
    expect(store.watching).toBe(true);
    expect(counted.counts()).toEqual({ active: 1, started: 1, stopped: 0, afterStop: 0 });
    stopTwo();
    expect(store.watching).toBe(false);
    expect(counted.counts()).toEqual({ active: 0, started: 1, stopped: 1, afterStop: 0 });

    const changed = nextNotify(witness);
    insertTodo('t1', 'milk');
    await changed;
    expect(notified).toBe(0);
    expect(counted.counts().afterStop).toBe(0);
  });

  it('survives StrictMode-style subscribe, unsubscribe, subscribe with one live query', async () => {
    const counted = countWatches(replica);
    const store = new QueryStore<SqlValue[]>(counted, 'SELECT id FROM todos', [], {});
    let notified = 0;
    store.subscribe(() => notified++)();
    const stop = store.subscribe(() => notified++);
    expect(store.watching).toBe(true);
    const changed = nextNotify(store);
    insertTodo('t1', 'milk');
    await changed;
    expect(notified).toBe(1);
    expect(counted.counts().active).toBe(1);
    stop();
    expect(store.watching).toBe(false);
    expect(counted.counts()).toEqual({ active: 0, started: 2, stopped: 2, afterStop: 0 });
  });

  it('passes parameters and row options through to the replica', () => {
    insertTodo('t1', 'milk');
    insertTodo('t2', 'eggs');
    const store = new QueryStore<{ id: string; done: number }>(
      replica,
      'SELECT id, done FROM todos WHERE id = ?',
      ['t2'],
      { rows: 'object', integers: 'number' },
    );
    expect(store.getSnapshot()).toEqual([{ id: 't2', done: 0 }]);
  });
});

describe('queryKey and sameRows', () => {
  it('tells apart values SQLite tells apart', () => {
    const sql = 'SELECT ?';
    const keys = [
      queryKey(sql, [1n], {}),
      queryKey(sql, [1], {}),
      queryKey(sql, ['1'], {}),
      queryKey(sql, [new Uint8Array([1])], {}),
      queryKey(sql, [null], {}),
      queryKey(sql, [1n], { rows: 'object' }),
      queryKey(sql, [1n], { integers: 'number' }),
      queryKey(sql, ['a', 'b'], {}),
      queryKey(sql, ['a,b'], {}),
      queryKey('SELECT ?, ?', [1n], {}),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    expect(queryKey(sql, [new Uint8Array([1, 2])], {})).toBe(
      queryKey(sql, [new Uint8Array([1, 2])], {}),
    );
  });

  it('compares rows by type and content', () => {
    expect(sameRows([[1n, 'a', new Uint8Array([1])]], [[1n, 'a', new Uint8Array([1])]])).toBe(true);
    expect(sameRows([[1n]], [[1]])).toBe(false);
    expect(sameRows([[new Uint8Array([1])]], [[new Uint8Array([2])]])).toBe(false);
    expect(sameRows([{ id: 'a', n: null }], [{ id: 'a', n: null }])).toBe(true);
    expect(sameRows([{ id: 'a' }], [{ id: 'a', n: null }])).toBe(false);
    expect(sameRows([['a']], [['a'], ['b']])).toBe(false);
  });
});

describe('rowQuery', () => {
  it('addresses single and composite keys with parameters, never SQL text', () => {
    expect(rowQuery(replica, 'todos', ['t1'])).toEqual({
      sql: 'SELECT * FROM "todos" WHERE "id" = ?',
      params: ['t1'],
    });
    expect(rowQuery(replica, 'pairs', ['x', 2n]).sql).toBe(
      'SELECT * FROM "pairs" WHERE "a" = ? AND "b" = ?',
    );
  });

  it('refuses a table without a primary key, a missing table, a forged name and a wrong key length', () => {
    const forged = 'todos" WHERE 1 = 1; DROP TABLE todos; --';
    for (const [table, key, reason] of [
      ['keyless', ['x'], 'no-primary-key'],
      ['missing', ['x'], 'no-primary-key'],
      [forged, ['x'], 'no-primary-key'],
      ['pairs', ['x'], 'key-length'],
      ['todos', [], 'key-length'],
    ] as const) {
      let caught: unknown;
      try {
        rowQuery(replica, table, key);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(RowKeyError);
      expect((caught as RowKeyError).reason).toBe(reason);
      expect((caught as RowKeyError).table).toBe(table);
    }
    expect(replica.query('SELECT count(*) FROM sqlite_schema WHERE name = ?', ['todos'])).toEqual([
      [1n],
    ]);
  });
});

describe('hooks rendered by react-dom/server', () => {
  it('render the replica through the provider, in StrictMode', () => {
    insertTodo('t1', '<milk>');
    insertTodo('t2', 'eggs');
    replica.db.prepare("INSERT INTO pairs(a, b, v) VALUES ('x', 2, 'two')").run();
    const version = replica.version;
    const html = renderToString(
      createElement(
        StrictMode,
        null,
        createElement(
          OffsyncProvider,
          { replica },
          createElement(Todos),
          createElement(Pair, { a: 'x', b: 2n }),
          createElement(Pair, { a: 'x', b: 3n }),
        ),
      ),
    );
    expect(html).toBe(
      '<ul><li>&lt;milk&gt;</li><li>eggs</li></ul><span>x/2/two</span><span>none</span>',
    );
    // Rendering only reads.
    expect(replica.version).toBe(version);
    expect(quoted('todos', ['id', 'title', 'done'])).toEqual([
      ["'t1'", "'<milk>'", '0'],
      ["'t2'", "'eggs'", '0'],
    ]);
  });

  it('take a replica passed to the hook over the provider', () => {
    insertTodo('t1', 'mine');
    const other = openReplica(':memory:');
    try {
      other.db.exec(SCHEMA);
      other.db.prepare("INSERT INTO todos(id, title) VALUES ('t1', 'theirs')").run();
      const html = renderToString(
        createElement(
          OffsyncProvider,
          { replica: other },
          createElement(Mine),
          createElement(Todo, { id: 't1' }),
        ),
      );
      expect(html).toBe('<b>mine</b><li>theirs</li>');
    } finally {
      other.close();
    }
  });

  it('throw MissingSourceError without a replica, and RowKeyError for a keyless table', () => {
    expect(() => renderToString(createElement(Todos))).toThrow(MissingSourceError);
    expect(() => renderToString(createElement(Keyless))).toThrow(RowKeyError);
  });
});
