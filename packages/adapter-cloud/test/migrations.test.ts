import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type SchemaUpgrade,
  type SqliteReplica,
  type SqlValue,
  SyncClient,
  type Transport,
} from '@offsync/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultyFetch, type HttpFaultStats } from './support/fault-fetch.js';
import {
  dumpHex,
  openClientReplica,
  type ReplicaKind,
  run,
  showTables,
} from './support/replicas.js';
import { FAST_LOOP, httpTransport, type Via, webSocketTransport } from './support/sync-clients.js';
import { TestServer } from './support/test-server.js';
import { waitUntil } from './support/wait.js';

// Schema migrations end to end through the real server on 127.0.0.1, with real replicas on
// better-sqlite3 and sql.js: the server migrates with the guide's files (docs/migrations/),
// clients that run the same file end byte-equal with it; during the rolling update a client
// left at the older schema keeps syncing what both sides have after an additive change and is
// refused by table after a destructive one; a client that migrated first is refused until the
// server catches up. Rows are compared by bytes: quote() and hex() of every column.

const GUIDE = join(import.meta.dirname, '../../../docs/migrations');
const V1 = readFileSync(join(GUIDE, '0001-todos.sql'), 'utf8');
const V2 = readFileSync(join(GUIDE, '0002-due-dates.sql'), 'utf8');
const V3 = readFileSync(join(GUIDE, '0003-plain-notes.sql'), 'utf8');
const TABLES = ['todos', 'notes'];

let test: TestServer;
let databases = 0;
const opened: { client: SyncClient; replica: SqliteReplica }[] = [];

beforeAll(async () => {
  test = await TestServer.start();
});

afterAll(async () => {
  for (const { client, replica } of opened) {
    await client.disconnect();
    replica.close();
  }
  await test?.dispose();
});

async function database(): Promise<string> {
  const name = `migrations-${++databases}`;
  await test.createDatabase(name, V1, TABLES, { openToUsers: true });
  return name;
}

interface Device {
  readonly replica: SqliteReplica;
  readonly client: SyncClient;
}

async function device(
  db: string,
  kind: ReplicaKind,
  via: Via,
  options: { readonly start?: boolean; readonly fetch?: typeof fetch } = {},
): Promise<Device> {
  const replica = await openClientReplica(kind, V1, TABLES);
  const transport: Transport =
    via === 'websocket'
      ? webSocketTransport(test.url, db)
      : httpTransport(test.url, db, options.fetch);
  const client = new SyncClient(replica, {
    ...FAST_LOOP,
    transport,
    token: await test.userToken(`user-${databases}-${opened.length}`),
  });
  if (options.start) client.start();
  opened.push({ client, replica });
  return { replica, client };
}

function central(db: string): SqliteReplica {
  return test.server.store.open(db).replica;
}

/** Every row of `table` as quote() and hex() of each of `columns` (all of them by default). */
function bytesOf(replica: SqliteReplica, table: string, columns?: readonly string[]): string[] {
  const names =
    columns ??
    replica.driver
      .prepare('SELECT name FROM pragma_table_info(?) ORDER BY cid')
      .all([table])
      .map((row) => String(row[0]));
  const cells = names
    .map((name) => `quote("${name}") || ':' || hex("${name}")`)
    .join(" || '|' || ");
  return replica.driver
    .prepare(`SELECT ${cells} FROM "${table}" ORDER BY id`)
    .all()
    .map((row) => String(row[0]));
}

async function migrate(db: string, sql: string, name?: string): Promise<MigrateAnswer> {
  return (await test.admin('POST', `/databases/${db}/migrate`, {
    sql,
    ...(name === undefined ? {} : { name }),
  })) as MigrateAnswer;
}

interface MigrateAnswer {
  readonly version: number;
  readonly tables: readonly {
    table: string;
    kind: string;
    previous: string;
    fingerprint: string;
  }[];
}

/** Syncs every device until each reports `synced`, then once more (pushes reach the others). */
async function settle(devices: readonly Device[], done: () => boolean): Promise<void> {
  await waitUntil(
    async () => {
      for (const { client } of devices) await client.syncNow().catch(() => undefined);
      return devices.every(({ client }) => client.status.state === 'synced') && done();
    },
    {
      timeoutMs: 15_000,
      message: () =>
        devices
          .map(
            ({ client, replica }, i) =>
              `device ${i}: ${client.status.state} ${client.status.error?.message ?? ''} refused ${JSON.stringify(client.status.refusedTables)}\n    ${showTables(replica)}`,
          )
          .join('\n'),
    },
  );
}

function insert(replica: SqliteReplica, sql: string, params: readonly SqlValue[] = []): void {
  run(replica, sql, params);
}

describe('schema migrations through the server', () => {
  it('the server and native and wasm clients that run the same file end with byte-equal fingerprints and rows', async () => {
    const db = await database();
    const native = await device(db, 'native', 'websocket');
    const wasm = await device(db, 'wasm', 'http');
    insert(native.replica, "INSERT INTO todos(id, title) VALUES ('t1', 'milk'), ('t2', 'eggs')");
    insert(wasm.replica, "INSERT INTO notes(id, body, color) VALUES ('n1', 'hello', 'red')");
    await settle([native, wasm], () => true);
    const previous = central(db).tableInfo('todos').fingerprint;

    const answer = await migrate(db, V2, '0002-due-dates.sql');
    expect(answer.version).toBe(1);
    expect(answer.tables).toEqual([
      {
        table: 'todos',
        kind: 'additive',
        previous,
        fingerprint: central(db).tableInfo('todos').fingerprint,
      },
    ]);
    expect(answer.tables[0]!.fingerprint).not.toBe(previous);

    // Told at their next exchange: an upgrade is available, and todos keeps syncing meanwhile.
    await settle([native, wasm], () =>
      [native, wasm].every(({ client }) => client.status.upgrades.length > 0),
    );
    for (const { client } of [native, wasm]) {
      expect(client.status.upgrades).toEqual([
        {
          table: 'todos',
          fingerprint: answer.tables[0]!.fingerprint,
          kind: 'additive',
          migration: 1,
        } satisfies SchemaUpgrade,
      ]);
      expect(client.status.refusedTables).toEqual({});
    }

    for (const { replica } of [native, wasm]) expect(replica.migrate(V2).applied).toBe(true);
    for (const { replica } of [native, wasm]) {
      for (const table of TABLES) {
        expect(replica.tableInfo(table).canonical).toBe(central(db).tableInfo(table).canonical);
        expect(replica.tableInfo(table).fingerprint).toBe(central(db).tableInfo(table).fingerprint);
      }
    }
    insert(native.replica, "UPDATE todos SET due = '2027-01-01' WHERE id = 't1'");
    insert(wasm.replica, "INSERT INTO todos(id, title, due) VALUES ('t3', 'bread', x'00ff')");
    await settle([native, wasm], () => {
      const expected = dumpHex(central(db));
      return [native, wasm].every(({ replica }) => dumpHex(replica) === expected);
    });
    for (const table of TABLES) {
      const expected = bytesOf(central(db), table);
      expect(bytesOf(native.replica, table)).toEqual(expected);
      expect(bytesOf(wasm.replica, table)).toEqual(expected);
    }
    expect(bytesOf(central(db), 'todos')).toContain(
      "'t3':7433|'bread':6272656164|0:30|X'00FF':00FF",
    );
    for (const { client } of [native, wasm]) {
      await settle([native, wasm], () => client.status.upgrades.length === 0);
    }

    const listed = (await test.admin('GET', `/databases/${db}/migrations`)) as {
      id: number;
      name: string;
      sql: string;
      appliedAt: number;
      tables: unknown;
    }[];
    expect(listed).toEqual([
      {
        id: 1,
        name: '0002-due-dates.sql',
        sql: V2,
        appliedAt: expect.any(Number),
        tables: answer.tables,
      },
    ]);
  });

  it.each(['websocket', 'http'] as const)(
    'an old client keeps syncing the columns both sides have after an additive migration (%s), without wiping the new column',
    async (via) => {
      const db = await database();
      const fresh = await device(db, 'native', 'websocket');
      const old = await device(db, 'wasm', via);
      insert(fresh.replica, "INSERT INTO todos(id, title) VALUES ('t1', 'milk')");
      await settle([fresh, old], () => bytesOf(old.replica, 'todos').length === 1);

      await migrate(db, V2);
      fresh.replica.migrate(V2);
      insert(fresh.replica, "UPDATE todos SET due = '2027-01-01' WHERE id = 't1'");
      insert(
        fresh.replica,
        "INSERT INTO todos(id, title, due) VALUES ('t2', 'eggs', '2027-02-02')",
      );
      await fresh.client.syncNow();
      // The old device, still at 0001, edits a row the new one dated, inserts a row the new one
      // inserted too (its insert must not wipe the due date), and adds rows of its own.
      insert(old.replica, "UPDATE todos SET title = 'oat milk' WHERE id = 't1'");
      insert(old.replica, "INSERT INTO todos(id, title, done) VALUES ('t2', 'eggs!', 1)");
      insert(old.replica, "INSERT INTO todos(id, title) VALUES ('t3', 'bread')");
      insert(old.replica, "INSERT INTO notes(id, body) VALUES ('n1', 'from old')");
      const shared = ['id', 'title', 'done'];
      await settle([old, fresh], () => {
        const server = central(db);
        return (
          bytesOf(server, 'todos').length === 3 &&
          JSON.stringify(bytesOf(old.replica, 'todos')) ===
            JSON.stringify(bytesOf(server, 'todos', shared)) &&
          JSON.stringify(bytesOf(fresh.replica, 'todos')) ===
            JSON.stringify(bytesOf(server, 'todos'))
        );
      });
      expect(old.client.status.refusedTables).toEqual({});
      expect(old.client.status.upgrades.map(({ table, kind }) => ({ table, kind }))).toEqual([
        { table: 'todos', kind: 'additive' },
      ]);
      expect(bytesOf(central(db), 'todos')).toEqual([
        "'t1':7431|'oat milk':6F6174206D696C6B|0:30|'2027-01-01':323032372D30312D3031",
        "'t2':7432|'eggs!':6567677321|1:31|'2027-02-02':323032372D30322D3032",
        "'t3':7433|'bread':6272656164|0:30|NULL:",
      ]);
      for (const table of TABLES)
        expect(bytesOf(fresh.replica, table)).toEqual(bytesOf(central(db), table));
      expect(bytesOf(old.replica, 'notes')).toEqual(bytesOf(central(db), 'notes'));

      // Upgraded with the same file, the old device gets the column's values too.
      old.replica.migrate(V2);
      await settle([old, fresh], () => dumpHex(old.replica) === dumpHex(central(db)));
      expect(bytesOf(old.replica, 'todos')).toEqual(bytesOf(central(db), 'todos'));
      expect(old.client.status.upgrades).toEqual([]);
    },
  );

  it('a destructive migration refuses old clients for that table by name with the reason; other tables keep syncing', async () => {
    const db = await database();
    const old = await device(db, 'native', 'websocket', { start: true });
    const fresh = await device(db, 'wasm', 'http');
    insert(old.replica, "INSERT INTO notes(id, body, color) VALUES ('n1', 'hi', 'red')");
    await settle([old, fresh], () => bytesOf(fresh.replica, 'notes').length === 1);

    const answer = await migrate(db, V3, '0003-plain-notes.sql');
    expect(answer.tables.map(({ table, kind }) => ({ table, kind }))).toEqual([
      { table: 'notes', kind: 'destructive' },
    ]);
    // The running loop is told over its socket, says hello again and learns why.
    await waitUntil(() => old.client.status.refusedTables.notes !== undefined, {
      timeoutMs: 10_000,
      message: () => `refused: ${JSON.stringify(old.client.status.refusedTables)}`,
    });
    const refusal = old.client.status.refusedTables.notes!;
    expect(refusal.code).toBe('schema-outdated');
    expect(refusal.column).toBe('color');
    expect(refusal.message).toMatch(/^table notes was migrated on the server \(migration 1\)/);
    expect(refusal.message).toContain(central(db).tableInfo('notes').fingerprint);
    expect(old.client.status.upgrades).toEqual([
      {
        table: 'notes',
        fingerprint: central(db).tableInfo('notes').fingerprint,
        kind: 'destructive',
        migration: 1,
      },
    ]);

    // todos keeps syncing both ways; the old device's notes wait.
    fresh.replica.migrate(V3);
    insert(old.replica, "INSERT INTO todos(id, title) VALUES ('t1', 'from old')");
    insert(old.replica, "UPDATE notes SET body = 'offline edit' WHERE id = 'n1'");
    insert(fresh.replica, "INSERT INTO todos(id, title) VALUES ('t2', 'from fresh')");
    insert(fresh.replica, "INSERT INTO notes(id, body) VALUES ('n2', 'new note')");
    await settle([old, fresh], () => bytesOf(central(db), 'todos').length === 2);
    await settle([old, fresh], () => bytesOf(old.replica, 'todos').length === 2);
    expect(bytesOf(old.replica, 'todos')).toEqual(bytesOf(central(db), 'todos'));
    expect(bytesOf(central(db), 'notes')).toEqual([
      "'n1':6E31|'hi':6869",
      "'n2':6E32|'new note':6E6577206E6F7465",
    ]);
    expect(old.client.status.state).toBe('synced');

    // Migrated, the old device sends its offline edit and receives the new note.
    old.replica.migrate(V3);
    await settle([old, fresh], () => {
      const expected = dumpHex(central(db));
      return dumpHex(old.replica) === expected && dumpHex(fresh.replica) === expected;
    });
    expect(bytesOf(central(db), 'notes')).toEqual([
      "'n1':6E31|'offline edit':6F66666C696E652065646974",
      "'n2':6E32|'new note':6E6577206E6F7465",
    ]);
    for (const table of TABLES) {
      expect(bytesOf(old.replica, table)).toEqual(bytesOf(central(db), table));
      expect(bytesOf(fresh.replica, table)).toEqual(bytesOf(central(db), table));
    }
    expect(old.client.status.refusedTables).toEqual({});
  });

  it('a client that migrated before the server is refused by table until the server migrates', async () => {
    const db = await database();
    const ahead = await device(db, 'wasm', 'websocket', { start: true });
    const other = await device(db, 'native', 'http');
    ahead.replica.migrate(V2);
    insert(ahead.replica, "INSERT INTO todos(id, title, due) VALUES ('t1', 'early', '2027-03-03')");
    insert(ahead.replica, "INSERT INTO notes(id, body) VALUES ('n1', 'still syncs')");
    await waitUntil(() => ahead.client.status.refusedTables.todos !== undefined, {
      timeoutMs: 10_000,
      message: () => `refused: ${JSON.stringify(ahead.client.status.refusedTables)}`,
    });
    expect(ahead.client.status.refusedTables.todos).toMatchObject({
      code: 'schema-mismatch',
      column: 'due',
    });
    expect(ahead.client.status.refusedTables.todos!.message).toMatch(
      /^table todos: column due exists on the client but not on the server/,
    );
    await settle([other], () => bytesOf(other.replica, 'notes').length === 1);
    expect(bytesOf(central(db), 'todos')).toEqual([]);

    await migrate(db, V2);
    // Told over its socket, the running loop says hello again and its todos go through.
    await waitUntil(() => bytesOf(central(db), 'todos').length === 1, {
      timeoutMs: 10_000,
      message: () => `server todos: ${bytesOf(central(db), 'todos').join('; ')}`,
    });
    other.replica.migrate(V2);
    await settle([ahead, other], () => {
      const expected = dumpHex(central(db));
      return dumpHex(ahead.replica) === expected && dumpHex(other.replica) === expected;
    });
    expect(ahead.client.status.refusedTables).toEqual({});
    for (const table of TABLES)
      expect(bytesOf(other.replica, table)).toEqual(bytesOf(central(db), table));
    expect(bytesOf(central(db), 'todos')).toEqual([
      "'t1':7431|'early':6561726C79|0:30|'2027-03-03':323032372D30332D3033",
    ]);
  });

  it('a migration racing live pushes loses no write and leaves every replica byte-equal', async () => {
    const db = await database();
    const writers = [
      await device(db, 'native', 'websocket', { start: true }),
      await device(db, 'wasm', 'http', { start: true }),
    ];
    const writes = async (index: number): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        insert(writers[index]!.replica, 'INSERT INTO todos(id, title) VALUES (?, ?)', [
          `w${index}-${i}`,
          `row ${i}`,
        ]);
        if (i % 4 === 0) await writers[index]!.client.syncNow().catch(() => undefined);
      }
    };
    const running = [writes(0), writes(1)];
    const answer = await migrate(db, V2);
    await Promise.all(running);
    expect(answer.tables[0]!.kind).toBe('additive');
    const shared = ['id', 'title', 'done'];
    await settle(writers, () => bytesOf(central(db), 'todos').length === 80);
    await settle(writers, () =>
      writers.every(
        ({ replica }) =>
          JSON.stringify(bytesOf(replica, 'todos')) ===
          JSON.stringify(bytesOf(central(db), 'todos', shared)),
      ),
    );
    for (const { replica } of writers) replica.migrate(V2);
    await settle(writers, () =>
      writers.every(({ replica }) => dumpHex(replica) === dumpHex(central(db))),
    );
    for (const { replica } of writers)
      expect(bytesOf(replica, 'todos')).toEqual(bytesOf(central(db), 'todos'));
  });

  it('converges through additive and destructive migrations over a network that loses, duplicates and replays requests', async () => {
    const db = await database();
    const stats: HttpFaultStats = { lostRequests: 0, lostResponses: 0, duplicated: 0, replayed: 0 };
    const faults = {
      loseRequest: 0.15,
      loseResponse: 0.15,
      duplicate: 0.1,
      replayStale: 0.1,
      delayMs: 2,
    };
    const flaky = await device(db, 'wasm', 'http', { fetch: faultyFetch(faults, 14, stats) });
    const steady = await device(db, 'native', 'websocket');
    insert(flaky.replica, "INSERT INTO todos(id, title) VALUES ('f1', 'flaky'), ('f2', 'two')");
    insert(flaky.replica, "INSERT INTO notes(id, body, color) VALUES ('n1', 'note', 'blue')");
    await settle([flaky, steady], () => bytesOf(steady.replica, 'todos').length === 2);

    await migrate(db, V2);
    await migrate(db, V3);
    steady.replica.migrate(V2);
    steady.replica.migrate(V3);
    insert(steady.replica, "UPDATE todos SET due = '2027-05-05' WHERE id = 'f1'");
    insert(flaky.replica, "UPDATE todos SET title = 'still flaky' WHERE id = 'f1'");
    insert(flaky.replica, "UPDATE notes SET body = 'waits' WHERE id = 'n1'");
    await settle([flaky, steady], () =>
      flaky.client.status.upgrades.some((upgrade) => upgrade.kind === 'destructive'),
    );
    expect(flaky.client.status.refusedTables.notes?.code).toBe('schema-outdated');

    flaky.replica.migrate(V2);
    flaky.replica.migrate(V3);
    await settle([flaky, steady], () => {
      const expected = dumpHex(central(db));
      return dumpHex(flaky.replica) === expected && dumpHex(steady.replica) === expected;
    });
    for (const table of TABLES) {
      expect(bytesOf(flaky.replica, table)).toEqual(bytesOf(central(db), table));
      expect(bytesOf(steady.replica, table)).toEqual(bytesOf(central(db), table));
    }
    expect(bytesOf(central(db), 'todos')[0]).toBe(
      "'f1':6631|'still flaky':7374696C6C20666C616B79|0:30|'2027-05-05':323032372D30352D3035",
    );
    expect(bytesOf(central(db), 'notes')).toEqual(["'n1':6E31|'waits':7761697473"]);
    expect(
      stats.lostRequests + stats.lostResponses + stats.duplicated + stats.replayed,
    ).toBeGreaterThan(0);
  });
});
