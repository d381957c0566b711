import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HttpTransport,
  issueDevToken,
  loadServerConfig,
  type RunningServer,
  startServer,
  type WebSocketConstructor,
  WebSocketTransport,
} from '@offsync/adapter-cloud';
import { type NodeReplica, openReplica } from '@offsync/adapter-node';
import {
  type ClientMessage,
  type ServerMessage,
  SyncClient,
  type Transport,
  type TransportEvent,
} from '@offsync/core';
import {
  decodeChangeset,
  decodeServerMessage,
  encodeChangeset,
  encodeMessage,
} from '@offsync/core/codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { helloMessage } from './support/hello-message.js';

// Schema negotiation through the real server: a client table that differs from the server's is
// refused by name with the difference named, a table the server does not sync is refused by
// name, the other tables keep syncing, and a push that bypasses negotiation is refused (409).

const TODOS =
  'CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT, done INTEGER NOT NULL DEFAULT 0)';

const SERVER_SCHEMA = `
  ${TODOS};
  CREATE TABLE tags(id TEXT PRIMARY KEY NOT NULL, label TEXT);
  CREATE TABLE prices(id TEXT PRIMARY KEY NOT NULL, amount INTEGER);
  CREATE TABLE people(id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL DEFAULT '');
  CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, body TEXT, color TEXT);
  CREATE TABLE dormant(id TEXT PRIMARY KEY NOT NULL, body TEXT);
`;

// The client's view: todos the same; tags with an extra column; prices with another type;
// people without NOT NULL; notes missing a column; dormant not enabled on the server; drafts
// unknown to it.
const CLIENT_SCHEMA = `
  ${TODOS};
  CREATE TABLE tags(id TEXT PRIMARY KEY NOT NULL, label TEXT, color TEXT);
  CREATE TABLE prices(id TEXT PRIMARY KEY NOT NULL, amount TEXT);
  CREATE TABLE people(id TEXT PRIMARY KEY NOT NULL, name TEXT DEFAULT '');
  CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, body TEXT);
  CREATE TABLE dormant(id TEXT PRIMARY KEY NOT NULL, body TEXT);
  CREATE TABLE drafts(id TEXT PRIMARY KEY NOT NULL, body TEXT);
`;
const CLIENT_TABLES = ['todos', 'tags', 'prices', 'people', 'notes', 'dormant', 'drafts'];
const SERVER_SYNCED = ['todos', 'tags', 'prices', 'people', 'notes'];

const Socket = WebSocket as unknown as WebSocketConstructor;

let dataDir: string;
let server: RunningServer;
let adminKey: string;
let secret: string;
let databases = 0;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'offsync-schema-'));
  server = await startServer({ dataDir, port: 0, host: '127.0.0.1', log: () => undefined });
  adminKey = server.generatedAdminKey!;
  secret = loadServerConfig(dataDir).jwt.hs256Secret!;
});

afterAll(async () => {
  for (const { client, replica } of opened) {
    await client.disconnect();
    replica.close();
  }
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function admin(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${server.url}/v1/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const result = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(result)}`);
  return result;
}

async function createDatabase(): Promise<string> {
  const name = `schema${++databases}`;
  await admin('POST', '/databases', { name, schema: SERVER_SCHEMA });
  for (const table of SERVER_SYNCED) {
    await admin('PUT', `/databases/${name}/tables/${table}/sync`, { enabled: true });
    for (const operation of ['select', 'insert', 'update', 'delete'])
      await admin('PUT', `/databases/${name}/policies/${table}/${operation}`, {
        expression: 'true',
      });
  }
  return name;
}

function token(sub: string): Promise<string> {
  return issueDevToken({ secret, sub, ttlSeconds: 600 });
}

function replicaWith(schema: string, tables: readonly string[]): NodeReplica {
  const replica = openReplica(':memory:');
  replica.db.exec(schema);
  for (const table of tables) replica.enableSync(table);
  return replica;
}

class RecordingTransport implements Transport {
  readonly responses: ServerMessage[] = [];
  constructor(readonly inner: Transport) {}
  async request(message: ClientMessage): Promise<ServerMessage> {
    const response = await this.inner.request(message);
    this.responses.push(response);
    return response;
  }
  subscribe(listener: (event: TransportEvent) => void): () => void {
    return this.inner.subscribe(listener);
  }
  close(): void {
    this.inner.close();
  }
  welcomes(): Extract<ServerMessage, { type: 'welcome' }>[] {
    return this.responses.filter(
      (message): message is Extract<ServerMessage, { type: 'welcome' }> =>
        message.type === 'welcome',
    );
  }
}

const opened: { client: SyncClient; replica: NodeReplica }[] = [];

function transportFor(database: string, via: 'http' | 'ws'): Transport {
  return via === 'http'
    ? new HttpTransport({ url: server.url, database, timeoutMs: 10_000 })
    : new WebSocketTransport({ url: server.url, database, WebSocket: Socket, timeoutMs: 10_000 });
}

function client(database: string, replica: NodeReplica, credential: string, via: 'http' | 'ws') {
  const transport = new RecordingTransport(transportFor(database, via));
  const sync = new SyncClient(replica, { transport, token: credential, pollMs: 0 });
  opened.push({ client: sync, replica });
  return { client: sync, transport };
}

function ids(replica: NodeReplica, table: string): string[] {
  return replica.db.prepare(`SELECT id FROM ${table} ORDER BY id`).pluck().all() as string[];
}

function serverIds(database: string, table: string): string[] {
  return ids(server.store.open(database).replica, table);
}

async function postPush(
  database: string,
  credential: string,
  site: string,
  changeset: Uint8Array,
): Promise<{ status: number; message: ServerMessage }> {
  const response = await fetch(`${server.url}/v1/databases/${database}/sync`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/octet-stream' },
    body: encodeMessage({ type: 'push', id: 9, site, upTo: 1, changeset }) as BodyInit,
  });
  return {
    status: response.status,
    message: decodeServerMessage(new Uint8Array(await response.arrayBuffer())),
  };
}

describe('schema negotiation', () => {
  it.each(['ws', 'http'] as const)(
    'refuses each differing table by name with the difference named, and keeps syncing the others (%s)',
    async (via) => {
      const db = await createDatabase();
      const mismatched = replicaWith(CLIENT_SCHEMA, CLIENT_TABLES);
      const matching = replicaWith(SERVER_SCHEMA, SERVER_SYNCED);
      const odd = client(db, mismatched, await token('odd'), via);
      const good = client(db, matching, await token('good'), via === 'ws' ? 'http' : 'ws');

      for (const table of CLIENT_TABLES)
        mismatched.db.prepare(`INSERT INTO ${table}(id) VALUES ('from-odd')`).run();
      for (const table of SERVER_SYNCED)
        matching.db.prepare(`INSERT INTO ${table}(id) VALUES ('from-good')`).run();
      await good.client.syncNow();
      await odd.client.syncNow();
      await good.client.syncNow();

      const [welcome] = odd.transport.welcomes();
      expect(welcome?.tables).toEqual(['todos']);
      const refused = welcome!.refused;
      expect(Object.keys(refused).sort()).toEqual(
        ['dormant', 'drafts', 'notes', 'people', 'prices', 'tags'].sort(),
      );
      // Each names the table, the column and which side has what (the client reads it).
      expect(refused.tags).toMatchObject({ code: 'schema-mismatch', column: 'color' });
      expect(refused.tags?.message).toMatch(
        /^table tags: column color exists on the client but not on the server \(server v1:\w+, client v1:\w+\)$/,
      );
      expect(refused.notes).toMatchObject({ code: 'schema-mismatch', column: 'color' });
      expect(refused.notes?.message).toMatch(
        /^table notes: column color exists on the server but not on the client /,
      );
      expect(refused.prices).toMatchObject({ code: 'schema-mismatch', column: 'amount' });
      expect(refused.prices?.message).toMatch(
        /^table prices: column amount declared type: server "INTEGER", client "TEXT" /,
      );
      expect(refused.people).toMatchObject({ code: 'schema-mismatch', column: 'name' });
      expect(refused.people?.message).toMatch(
        /^table people: column name NOT NULL: server 1, client 0 /,
      );
      for (const table of ['dormant', 'drafts']) {
        expect(refused[table]).toEqual({
          code: 'not-enabled',
          message: `table ${table} is not enabled for sync on the server (database ${db})`,
        });
      }
      // The client reports the same refusals, and is otherwise in sync.
      expect(odd.client.status.refusedTables).toEqual(refused);
      expect(odd.client.status.state).toBe('synced');
      expect(good.client.status.refusedTables).toEqual({});

      // todos syncs both ways; nothing of the refused tables crosses in either direction.
      expect(ids(mismatched, 'todos')).toEqual(['from-good', 'from-odd']);
      expect(ids(matching, 'todos')).toEqual(['from-good', 'from-odd']);
      for (const table of ['tags', 'prices', 'people', 'notes']) {
        expect([table, serverIds(db, table)]).toEqual([table, ['from-good']]);
        expect([table, ids(mismatched, table)]).toEqual([table, ['from-odd']]);
        expect([table, ids(matching, table)]).toEqual([table, ['from-good']]);
      }
      expect(serverIds(db, 'dormant')).toEqual([]);
      // Every pushed and pulled changeset of the mismatched client was about todos only.
      const tablesSeen = new Set<string>();
      for (const message of odd.transport.responses)
        if (message.type === 'changes')
          for (const change of decodeChangeset(message.changeset).changes)
            tablesSeen.add(change.table);
      expect([...tablesSeen]).toEqual(['todos']);
    },
  );

  it('a table the admin enables later syncs from the next hello on', async () => {
    const db = await createDatabase();
    const replica = replicaWith(CLIENT_SCHEMA, ['todos', 'dormant']);
    const user = client(db, replica, await token('late'), 'ws');
    replica.db.prepare("INSERT INTO dormant(id, body) VALUES ('d1', 'waiting')").run();
    await user.client.syncNow();
    expect(Object.keys(user.client.status.refusedTables)).toEqual(['dormant']);
    expect(serverIds(db, 'dormant')).toEqual([]);

    await admin('PUT', `/databases/${db}/tables/dormant/sync`, { enabled: true });
    for (const operation of ['select', 'insert', 'update', 'delete'])
      await admin('PUT', `/databases/${db}/policies/dormant/${operation}`, { expression: 'true' });
    await user.client.syncNow();
    expect([...(user.transport.welcomes().at(-1)?.tables ?? [])].sort()).toEqual([
      'dormant',
      'todos',
    ]);
    expect(user.client.status.refusedTables).toEqual({});
    expect(serverIds(db, 'dormant')).toEqual(['d1']);
  });
});

describe('pushes that bypass negotiation', () => {
  it.each(['http', 'ws'] as const)(
    'a changeset whose fingerprint differs is refused with 409 schema-mismatch and not applied (%s)',
    async (via) => {
      const db = await createDatabase();
      const credential = await token('raw');
      const replica = replicaWith(CLIENT_SCHEMA, CLIENT_TABLES);
      replica.db.prepare("INSERT INTO prices(id, amount) VALUES ('p1', 'twelve')").run();
      replica.db.prepare("INSERT INTO todos(id, title) VALUES ('t1', 'fine')").run();
      const pricesOnly = replica.changesetSince(0, { tables: ['prices'] }).bytes;
      const todos = replica.changesSince(0, { tables: ['todos'] }).changes;
      const wrongTodosFingerprint = encodeChangeset({
        changes: todos,
        fingerprints: { todos: 'ffffffffffffffff' },
      });
      // Changes writing a column the server's table lacks, no fingerprint to give it away.
      replica.db.prepare("INSERT INTO tags(id, label, color) VALUES ('g1', 'x', 'red')").run();
      const tagsUnfingerprinted = encodeChangeset({
        changes: replica.changesSince(0, { tables: ['tags'] }).changes,
      });
      replica.db.prepare("INSERT INTO dormant(id) VALUES ('d1')").run();
      const dormant = replica.changesetSince(0, { tables: ['dormant'] }).bytes;
      replica.db.prepare("INSERT INTO drafts(id) VALUES ('x1')").run();
      const drafts = replica.changesetSince(0, { tables: ['drafts'] }).bytes;

      const cases: [Uint8Array, number, string, RegExp][] = [
        [pricesOnly, 409, 'schema-mismatch', /prices/],
        [wrongTodosFingerprint, 409, 'schema-mismatch', /todos/],
        [tagsUnfingerprinted, 409, 'schema-mismatch', /column color/],
        [dormant, 409, 'not-enabled', /dormant/],
        [drafts, 409, 'not-enabled', /drafts/],
      ];
      let results: { status: number; message: ServerMessage }[];
      if (via === 'http') {
        results = [];
        for (const [changeset] of cases)
          results.push(await postPush(db, credential, replica.site, changeset));
      } else {
        const transport = transportFor(db, 'ws');
        expect((await transport.request(helloMessage(replica, credential))).type).toBe('welcome');
        results = [];
        for (const [changeset] of cases) {
          const message = await transport.request({
            type: 'push',
            id: 9,
            site: replica.site,
            upTo: 1,
            changeset,
          });
          results.push({ status: message.type === 'error' ? message.status : 200, message });
        }
        transport.close();
      }
      cases.forEach(([, status, code, text], i) => {
        expect(results[i]?.status).toBe(status);
        expect(results[i]?.message).toMatchObject({ type: 'error', id: 9, code, status });
        expect(results[i]?.message.type === 'error' && results[i]?.message.message).toMatch(text);
      });
      for (const table of SERVER_SYNCED) expect([table, serverIds(db, table)]).toEqual([table, []]);
      replica.close();
    },
  );
});
