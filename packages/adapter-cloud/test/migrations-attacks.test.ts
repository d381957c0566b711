import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openReplica } from '@offsync/adapter-node';
import type { ServerMessage, SqliteReplica } from '@offsync/core';
import { decodeServerMessage, encodeChangeset, encodeMessage } from '@offsync/core/codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helloMessage } from './support/hello-message.js';
import { TestServer } from './support/test-server.js';

// The migration routes as an attacker meets them: malformed, disallowed, failing, oversized or
// misaddressed migrations get a typed 4xx and change nothing (schema, fingerprints, rows, the
// migration log); forged pushes and pulls that claim a schema the server never had, or one a
// destructive migration left behind, are refused without touching the database.

const GUIDE = join(import.meta.dirname, '../../../docs/migrations');
const V1 = readFileSync(join(GUIDE, '0001-todos.sql'), 'utf8');
const V2 = readFileSync(join(GUIDE, '0002-due-dates.sql'), 'utf8');
const V3 = readFileSync(join(GUIDE, '0003-plain-notes.sql'), 'utf8');

let test: TestServer;
let count = 0;

beforeAll(async () => {
  test = await TestServer.start();
});

afterAll(async () => {
  await test?.dispose();
});

async function database(): Promise<string> {
  const name = `attacks-${++count}`;
  await test.createDatabase(name, V1, ['todos', 'notes'], { openToUsers: true });
  const central = test.server.store.open(name).replica;
  central.driver.exec("INSERT INTO todos(id, title) VALUES ('t1', 'milk')");
  return name;
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  key = test.adminKey,
): Promise<{
  status: number;
  body: { error?: Record<string, unknown> } & Record<string, unknown>;
}> {
  const response = await fetch(`${test.url}/v1/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as never };
}

function state(db: string): unknown {
  const central = test.server.store.open(db).replica;
  return {
    schema: central.driver
      .prepare("SELECT name, sql FROM sqlite_schema WHERE name NOT LIKE 'offsync%' ORDER BY name")
      .all(),
    fingerprints: central.syncedTables().map((table) => central.tableInfo(table).fingerprint),
    rows: central.driver.prepare('SELECT quote(id), quote(title), quote(done) FROM todos').all(),
    version: central.version,
    dump: Buffer.from(central.dump()).toString('hex'),
  };
}

async function sync(
  db: string,
  message: Parameters<typeof encodeMessage>[0],
  token: string,
): Promise<{ status: number; message: ServerMessage }> {
  const response = await fetch(`${test.url}/v1/databases/${db}/sync`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: encodeMessage(message) as BodyInit,
  });
  return {
    status: response.status,
    message: decodeServerMessage(new Uint8Array(await response.arrayBuffer())),
  };
}

/** A pull of `tables` from the start of the log, claiming the schemas `fingerprints` names. */
function pullFromStart(
  site: string,
  tables: readonly string[],
  fingerprints: Record<string, string>,
): Parameters<typeof encodeMessage>[0] {
  return { type: 'pull', id: 2, site, cursor: 0, limit: 100, tables, pending: 0, fingerprints };
}

describe('migration routes under attack', () => {
  it('refuses bad migrations with a typed 4xx and changes nothing', async () => {
    const db = await database();
    const before = state(db);
    const cases: [unknown, number, string, number | undefined][] = [
      [{ sql: "ALTER TABLE todos ADD COLUMN x TEXT DEFAULT 'open" }, 400, 'parse', 1],
      [{ sql: 'ALTER TABLE nosuch ADD COLUMN x TEXT' }, 400, 'unknown-table', 1],
      [
        { sql: 'ALTER TABLE todos ADD COLUMN x TEXT; DELETE FROM todos' },
        400,
        'statement-not-allowed',
        2,
      ],
      [{ sql: 'DROP TABLE todos' }, 400, 'statement-not-allowed', 1],
      [{ sql: "UPDATE todos SET title = 'pwned'" }, 400, 'statement-not-allowed', 1],
      [{ sql: "ATTACH DATABASE '/tmp/x.db' AS x" }, 400, 'statement-not-allowed', 1],
      [
        { sql: 'ALTER TABLE todos ADD COLUMN x TEXT; ALTER TABLE todos ADD COLUMN x TEXT' },
        400,
        'statement-failed',
        2,
      ],
      [
        { sql: 'ALTER TABLE todos ADD COLUMN c TEXT; CREATE UNIQUE INDEX u ON todos(c)' },
        400,
        'schema',
        undefined,
      ],
      [{ sql: 'ALTER TABLE todos RENAME TO tasks' }, 400, 'rename-synced-table', 1],
      [{ sql: '-- nothing\n' }, 400, 'empty', undefined],
      [{ sql: '' }, 400, 'bad-request', undefined],
      [{ sql: 42 }, 400, 'bad-request', undefined],
      [{ sql: V2, name: '' }, 400, 'bad-request', undefined],
      [{ sql: V2, name: 'x'.repeat(201) }, 400, 'bad-request', undefined],
      [[V2], 400, 'bad-request', undefined],
      ['not json', 400, 'bad-request', undefined],
      [
        { sql: `ALTER TABLE todos ADD COLUMN x TEXT; -- ${'x'.repeat(300_000)}` },
        413,
        'too-large',
        undefined,
      ],
    ];
    for (const [body, status, code, statement] of cases) {
      const answer = await call('POST', `/databases/${db}/migrate`, body);
      expect({
        body: JSON.stringify(body).slice(0, 80),
        status: answer.status,
        code: answer.body.error?.code,
      }).toEqual({
        body: JSON.stringify(body).slice(0, 80),
        status,
        code,
      });
      expect(answer.body.error?.statement).toBe(statement);
      expect(typeof answer.body.error?.message).toBe('string');
      expect(state(db)).toEqual(before);
    }
    expect(await call('GET', `/databases/${db}/migrations`)).toEqual({ status: 200, body: [] });
  });

  it('refuses a migrate on a database that does not exist, without the admin key, or twice', async () => {
    const missing = await call('POST', '/databases/nope/migrate', { sql: V2 });
    expect(missing.status).toBe(404);
    expect((await call('GET', '/databases/nope/migrations')).status).toBe(404);
    const db = await database();
    const before = state(db);
    expect((await call('POST', `/databases/${db}/migrate`, { sql: V2 }, 'wrong-key')).status).toBe(
      401,
    );
    expect(state(db)).toEqual(before);
    expect((await call('POST', `/databases/${db}/migrate`, { sql: V2 })).status).toBe(200);
    const after = state(db);
    const again = await call('POST', `/databases/${db}/migrate`, { sql: V2 });
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe('already-applied');
    expect(again.body.error?.message).toMatch(/migration 1/);
    expect(state(db)).toEqual(after);
    expect(
      ((await call('GET', `/databases/${db}/migrations`)).body as unknown as unknown[]).length,
    ).toBe(1);
  });

  it('refuses forged pushes and pulls that claim a schema the server cannot serve', async () => {
    const db = await database();
    const token = await test.userToken('mallory');
    const device = openReplica(':memory:');
    device.driver.exec(V1);
    device.enableSync('todos');
    device.enableSync('notes');
    const oldNotes = device.tableInfo('notes').fingerprint;
    const oldTodos = device.tableInfo('todos').fingerprint;
    expect((await sync(db, helloMessage(device, token), token)).status).toBe(200);
    await call('POST', `/databases/${db}/migrate`, { sql: V3 });
    await call('POST', `/databases/${db}/migrate`, { sql: V2 });
    const before = state(db);

    device.driver.exec("INSERT INTO notes(id, body, color) VALUES ('n9', 'forged', 'red')");
    const pull = (fingerprints: Record<string, string>, tables: string[]) =>
      sync(db, pullFromStart(device.site, tables, fingerprints), token);
    const push = (
      changes: SqliteReplica['changesSince'] extends (...args: never[]) => infer P ? P : never,
      fingerprints: Record<string, string>,
    ) =>
      sync(
        db,
        {
          type: 'push',
          id: 3,
          site: device.site,
          upTo: 1,
          changeset: encodeChangeset({ changes: changes.changes, fingerprints }),
        },
        token,
      );

    // A schema the server never had, and one a destructive migration left behind.
    for (const fingerprint of ['v1:0000000000000000', oldNotes]) {
      const pulled = await pull({ notes: fingerprint }, ['notes']);
      expect(pulled.status).toBe(409);
      expect(pulled.message).toMatchObject({ type: 'error', code: 'schema-mismatch' });
      const pushed = await push(device.changesSince(0, { tables: ['notes'] }), {
        notes: fingerprint,
      });
      expect(pushed.status).toBe(409);
      expect(pushed.message).toMatchObject({ type: 'error', code: 'schema-mismatch' });
      expect(state(db)).toEqual(before);
    }

    // An old additive fingerprint still pulls, narrowed to its columns and fingerprint.
    const narrowed = await pull({ todos: oldTodos }, ['todos']);
    expect(narrowed.status).toBe(200);
    if (narrowed.message.type !== 'changes') throw new Error('expected changes');
    expect(narrowed.message.migration).toBe(2);
    const applied = device.applyChanges(narrowed.message.changeset);
    expect(applied.rows).toBe(1);
    expect(device.driver.prepare('SELECT quote(id), quote(title) FROM todos').all()).toEqual([
      ["'t1'", "'milk'"],
    ]);

    // A hello at the left-behind notes schema: notes refused by name, todos synced narrowed.
    const welcome = await sync(db, helloMessage(device, token, 4), token);
    if (welcome.message.type !== 'welcome') throw new Error('expected welcome');
    expect(welcome.message.tables).toEqual(['todos']);
    expect(welcome.message.refused.notes?.code).toBe('schema-outdated');
    expect(
      welcome.message.upgrades?.map(({ table, kind, migration }) => ({ table, kind, migration })),
    ).toEqual([
      { table: 'notes', kind: 'destructive', migration: 1 },
      { table: 'todos', kind: 'additive', migration: 2 },
    ]);
    // A hello that names an old fingerprint with a canonical it never had is not trusted.
    const forged = helloMessage(device, token, 5) as Extract<
      Parameters<typeof encodeMessage>[0],
      { type: 'hello' }
    >;
    const lying = await sync(
      db,
      {
        ...forged,
        schemas: { todos: { canonical: '[["id","TEXT",1,null,1]]', fingerprint: oldTodos } },
      },
      token,
    );
    if (lying.message.type !== 'welcome') throw new Error('expected welcome');
    expect(lying.message.tables).toEqual([]);
    expect(lying.message.refused.todos?.code).toBe('schema-mismatch');
    expect(state(db)).toEqual(before);
    device.close();
  });

  it('serves every older additive schema of its history, after a restart too', async () => {
    const db = await database();
    const token = await test.userToken('grace');
    const at = (sql: string): SqliteReplica => {
      const replica = openReplica(':memory:');
      replica.driver.exec(V1);
      replica.enableSync('todos');
      replica.enableSync('notes');
      if (sql !== '') replica.migrate(sql);
      return replica;
    };
    const priority = 'ALTER TABLE todos ADD COLUMN priority INTEGER NOT NULL DEFAULT 0';
    const first = at('');
    const second = at(V2);
    await call('POST', `/databases/${db}/migrate`, { sql: V2 });
    await call('POST', `/databases/${db}/migrate`, { sql: priority });
    const central = test.server.store.open(db).replica;
    central.driver.exec("UPDATE todos SET due = '2027', priority = 3 WHERE id = 't1'");
    await test.restart();
    for (const [device, columns] of [
      [first, ['title', 'done']],
      [second, ['title', 'done', 'due']],
    ] as const) {
      const welcome = await sync(db, helloMessage(device, token), token);
      if (welcome.message.type !== 'welcome') throw new Error('expected welcome');
      expect([...welcome.message.tables].sort()).toEqual(['notes', 'todos']);
      expect(welcome.message.migration).toBe(2);
      expect(welcome.message.upgrades).toEqual([
        {
          table: 'todos',
          fingerprint: test.server.store.open(db).replica.tableInfo('todos').fingerprint,
          kind: 'additive',
          migration: 2,
        },
      ]);
      const fingerprint = device.tableInfo('todos').fingerprint;
      const pulled = await sync(
        db,
        pullFromStart(device.site, ['todos'], { todos: fingerprint }),
        token,
      );
      if (pulled.message.type !== 'changes') throw new Error('expected changes');
      device.applyChanges(pulled.message.changeset);
      const names = device.tableInfo('todos').schema.valueColumns;
      expect(names).toEqual(columns);
      expect(
        device.driver
          .prepare(
            `SELECT ${['id', ...names].map((name) => `quote(${name})`).join(', ')} FROM todos`,
          )
          .all(),
      ).toEqual([["'t1'", "'milk'", '0', ...(columns.length === 3 ? ["'2027'"] : [])]]);
      device.close();
    }
  });
});
