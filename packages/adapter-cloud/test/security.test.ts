import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiKeyStore,
  HttpTransport,
  issueDevToken,
  type RunningServer,
  startServer,
  type WebSocketConstructor,
  WebSocketTransport,
} from '@offsync/adapter-cloud';
import { type NodeReplica, openReplica } from '@offsync/adapter-node';
import {
  bytesToHex,
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
  packPrimaryKey,
} from '@offsync/core/codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { helloMessage } from './support/hello-message.js';
import { openRawSocket, type RawSocket } from './support/raw-socket.js';

// Security of the sync server through its real HTTP and WebSocket endpoints on loopback:
// row-level security on pull and push, scope changes, closed tables, authentication, limits,
// malformed frames and the admin API. Each test works in its own database of one server.

const SECRET = randomBytes(48).toString('base64url');
const AUDIENCE = 'offsync-todos';
const ISSUER = 'https://auth.todos.test/';
const MAX_MESSAGE_BYTES = 256 * 1024;
const MAX_BATCH_CHANGES = 2_000;

const SCHEMA = `
  CREATE TABLE todos(
    id TEXT PRIMARY KEY NOT NULL,
    tenant TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    title TEXT,
    done INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, body TEXT);
`;

// Users see and create their own todos in their tenant; anyone in a tenant may update (and so
// reassign) its todos; only the owner deletes, and only once done. `notes` has no policy.
const POLICIES = {
  select: 'tenant = auth.tenant AND owner = auth.sub',
  insert: 'tenant = auth.tenant AND owner = auth.sub',
  update: 'tenant = auth.tenant',
  delete: 'tenant = auth.tenant AND owner = auth.sub AND done = 1',
} as const;

const Socket = WebSocket as unknown as WebSocketConstructor;

let dataDir: string;
let server: RunningServer;
let adminKey: string;
let serviceKey: string;
let databaseCount = 0;
/** Every sync client a test made, disconnected at the end. */
const opened: { replica: NodeReplica; client: SyncClient }[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'offsync-security-'));
  writeFileSync(
    join(dataDir, 'server.json'),
    JSON.stringify({ jwt: { hs256Secret: SECRET, audience: AUDIENCE, issuer: ISSUER } }),
  );
  const keys = await ApiKeyStore.open(join(dataDir, 'keys.json'));
  adminKey = (await keys.create('admin', 'ops')).key;
  serviceKey = (await keys.create('service', 'backend')).key;
  server = await startServer({
    dataDir,
    port: 0,
    host: '127.0.0.1',
    log: () => undefined,
    limits: { maxMessageBytes: MAX_MESSAGE_BYTES, maxBatchChanges: MAX_BATCH_CHANGES },
  });
});

afterAll(async () => {
  for (const { client, replica } of opened) {
    await client.disconnect();
    replica.close();
  }
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Helpers

async function adminApi(
  method: string,
  path: string,
  body?: unknown,
  key: string | null = adminKey,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/v1/admin${path}`, {
    method,
    headers: {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function adminOk(method: string, path: string, body?: unknown): Promise<unknown> {
  const { status, body: result } = await adminApi(method, path, body);
  if (status !== 200) throw new Error(`${method} ${path}: ${status} ${JSON.stringify(result)}`);
  return result;
}

/** A fresh database with the todo schema, both tables synced, the todo policies set. */
async function createDatabase(policies: Partial<Record<string, string>> = POLICIES) {
  const name = `app${++databaseCount}`;
  await adminOk('POST', '/databases', { name, schema: SCHEMA });
  await adminOk('PUT', `/databases/${name}/tables/todos/sync`, { enabled: true });
  await adminOk('PUT', `/databases/${name}/tables/notes/sync`, { enabled: true });
  for (const [operation, expression] of Object.entries(policies))
    await adminOk('PUT', `/databases/${name}/policies/todos/${operation}`, { expression });
  return name;
}

function userToken(
  sub: string,
  tenant: string,
  overrides: { audience?: string; issuer?: string; secret?: string; now?: number } = {},
): Promise<string> {
  return issueDevToken({
    secret: overrides.secret ?? SECRET,
    sub,
    ttlSeconds: 3600,
    claims: { tenant },
    audience: overrides.audience ?? AUDIENCE,
    issuer: overrides.issuer ?? ISSUER,
    ...(overrides.now === undefined ? {} : { env: { now: () => overrides.now! } }),
  });
}

/** A transport that keeps every response and can look at the server when one arrives. */
class RecordingTransport implements Transport {
  readonly responses: ServerMessage[] = [];
  constructor(
    readonly inner: Transport,
    readonly onResponse?: (request: ClientMessage, response: ServerMessage) => void,
  ) {}
  async request(message: ClientMessage): Promise<ServerMessage> {
    const response = await this.inner.request(message);
    this.responses.push(response);
    this.onResponse?.(message, response);
    return response;
  }
  subscribe(listener: (event: TransportEvent) => void): () => void {
    return this.inner.subscribe(listener);
  }
  close(): void {
    this.inner.close();
  }
  of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.responses.filter(
      (message): message is Extract<ServerMessage, { type: T }> => message.type === type,
    );
  }
}

interface Device {
  readonly replica: NodeReplica;
  readonly client: SyncClient;
  readonly transport: RecordingTransport;
}

function newReplica(): NodeReplica {
  const replica = openReplica(':memory:');
  replica.db.exec(SCHEMA);
  replica.enableSync('todos');
  replica.enableSync('notes');
  return replica;
}

function device(
  database: string,
  token: string,
  via: 'http' | 'ws',
  options: {
    replica?: NodeReplica;
    onResponse?: (request: ClientMessage, response: ServerMessage) => void;
  } = {},
): Device {
  const replica = options.replica ?? newReplica();
  const inner =
    via === 'http'
      ? new HttpTransport({ url: server.url, database, timeoutMs: 10_000 })
      : new WebSocketTransport({
          url: server.url,
          database,
          WebSocket: Socket,
          timeoutMs: 10_000,
        });
  const transport = new RecordingTransport(inner, options.onResponse);
  const client = new SyncClient(replica, { transport, token, pollMs: 0 });
  opened.push({ replica, client });
  return { replica, client, transport };
}

type Row = { id: string; tenant: string; owner: string; title: string | null; done: number };

function rows(replica: NodeReplica, table = 'todos'): Row[] {
  return replica.db.prepare(`SELECT * FROM ${table} ORDER BY id`).all() as Row[];
}

function serverRows(database: string, table = 'todos'): Row[] {
  return rows(server.store.open(database).replica, table);
}

function insert(replica: NodeReplica, id: string, tenant: string, owner: string, title = id) {
  replica.db
    .prepare('INSERT INTO todos(id, tenant, owner, title) VALUES (?, ?, ?, ?)')
    .run(id, tenant, owner, title);
}

function pkHex(...key: string[]): string {
  return bytesToHex(packPrimaryKey(key));
}

/**
 * Every cell of every table of a replica's database (app tables and all offsync_* metadata),
 * as text: blobs both as Latin-1 (packed keys hold the key's bytes) and as hex.
 */
function databaseCells(replica: NodeReplica): { table: string; text: string }[] {
  const tables = replica.db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
    .pluck()
    .all() as string[];
  const cells: { table: string; text: string }[] = [];
  for (const table of tables) {
    const quoted = `"${table.replaceAll('"', '""')}"`;
    for (const row of replica.db.prepare(`SELECT * FROM ${quoted}`).raw().all() as unknown[][]) {
      for (const value of row) {
        if (value instanceof Uint8Array) {
          cells.push({ table, text: Buffer.from(value).toString('latin1') });
          cells.push({ table, text: Buffer.from(value).toString('hex') });
        } else if (value !== null) cells.push({ table, text: String(value) });
      }
    }
  }
  return cells;
}

function changedKeys(messages: readonly Uint8Array[]): string[] {
  return messages.flatMap((bytes) =>
    decodeChangeset(bytes).changes.map((change) => `${change.table}:${bytesToHex(change.pk)}`),
  );
}

async function post(
  database: string,
  body: Uint8Array,
  authorization?: string,
): Promise<{ status: number; message: ServerMessage | { json: Record<string, unknown> } }> {
  const response = await fetch(`${server.url}/v1/databases/${database}/sync`, {
    method: 'POST',
    body: body as BodyInit,
    headers: {
      'content-type': 'application/octet-stream',
      ...(authorization === undefined ? {} : { authorization }),
    },
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (response.headers.get('content-type')?.startsWith('application/json'))
    return {
      status: response.status,
      message: { json: JSON.parse(Buffer.from(bytes).toString('utf8')) },
    };
  return { status: response.status, message: decodeServerMessage(bytes) };
}

function push(replica: NodeReplica, id = 2, changeset?: Uint8Array): ClientMessage {
  const page = replica.changesetSince(0, { onlySite: replica.site });
  return {
    type: 'push',
    id,
    site: replica.site,
    upTo: page.cursor,
    changeset: changeset ?? page.bytes,
  };
}

function rawSocket(database: string): Promise<RawSocket> {
  return openRawSocket(server.url, database);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: timed out`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------

describe('row-level security on pull', () => {
  it("a user never receives another owner's or tenant's rows: not on the wire, not in any table of their database", async () => {
    const db = await createDatabase();
    const alice = device(db, await userToken('alice', 'acme'), 'ws');
    const bob = device(db, await userToken('bob', 'acme'), 'http');
    const carol = device(db, await userToken('carol', 'globex'), 'ws');
    const backend = device(db, serviceKey, 'http');

    insert(alice.replica, 'alice-1', 'acme', 'alice', 'alice secret one');
    insert(alice.replica, 'alice-2', 'acme', 'alice', 'alice secret two');
    insert(alice.replica, 'alice-3', 'acme', 'alice', 'alice secret three');
    insert(bob.replica, 'bob-1', 'acme', 'bob', 'bob shopping');
    insert(carol.replica, 'carol-1', 'globex', 'carol', 'carol launch');
    await alice.client.syncNow();
    await bob.client.syncNow();
    await carol.client.syncNow();
    // Alice keeps working: updates, completes and deletes, after the others synced once.
    alice.replica.db
      .prepare("UPDATE todos SET title = 'alice secret edited' WHERE id = 'alice-1'")
      .run();
    alice.replica.db.prepare("UPDATE todos SET done = 1 WHERE id = 'alice-2'").run();
    await alice.client.syncNow();
    alice.replica.db.prepare("DELETE FROM todos WHERE id = 'alice-2'").run();
    await alice.client.syncNow();
    for (const client of [bob.client, carol.client, bob.client, carol.client])
      await client.syncNow();
    await backend.client.syncNow();

    // The rows are on the server, and a service key sees them all.
    expect(serverRows(db).map((row) => row.id)).toEqual(['alice-1', 'alice-3', 'bob-1', 'carol-1']);
    expect(rows(backend.replica).map((row) => row.id)).toEqual([
      'alice-1',
      'alice-3',
      'bob-1',
      'carol-1',
    ]);

    // Bob (same tenant) and Carol (other tenant) only ever got their own rows.
    expect(rows(bob.replica).map((row) => row.id)).toEqual(['bob-1']);
    expect(rows(carol.replica).map((row) => row.id)).toEqual(['carol-1']);
    const aliceKeys = ['alice-1', 'alice-2', 'alice-3'].map((id) => `todos:${pkHex(id)}`);
    for (const other of [bob, carol]) {
      expect(other.transport.of('changes').length).toBeGreaterThan(1);
      const received = changedKeys(other.transport.of('changes').map((page) => page.changeset));
      expect(received.filter((key) => aliceKeys.includes(key))).toEqual([]);
      const cells = databaseCells(other.replica);
      expect(cells.filter((cell) => /alice/i.test(cell.text))).toEqual([]);
      expect(
        cells.filter((cell) => cell.text.includes(Buffer.from('alice').toString('hex'))),
      ).toEqual([]);
    }
    // The scan does read the metadata: Bob's own row shows up in offsync_* tables too.
    const bobCells = databaseCells(bob.replica);
    expect(
      bobCells.some((cell) => cell.table.startsWith('offsync_') && cell.text.includes('bob-1')),
    ).toBe(true);
    // And Alice has her own rows, minus the one she deleted.
    expect(rows(alice.replica).map((row) => [row.id, row.title])).toEqual([
      ['alice-1', 'alice secret edited'],
      ['alice-3', 'alice secret three'],
    ]);
  });

  it("a user is not told the primary keys of other users' rows (evictions name only rows they could have had)", async () => {
    const db = await createDatabase();
    const alice = device(db, await userToken('alice', 'acme'), 'ws');
    const bob = device(db, await userToken('bob', 'acme'), 'http');
    await bob.client.syncNow();
    insert(alice.replica, 'alice-private-key', 'acme', 'alice', 'x');
    await alice.client.syncNow();
    alice.replica.db.prepare("UPDATE todos SET title = 'y' WHERE id = 'alice-private-key'").run();
    await alice.client.syncNow();
    await bob.client.syncNow();
    // Bob never had the row, so nothing of it, its key included, is his to receive.
    const evictions = bob.transport.of('changes').flatMap((page) => page.evictions);
    expect(evictions).not.toContainEqual({ table: 'todos', pk: pkHex('alice-private-key') });
  });
});

describe('row-level security on push', () => {
  it('a forbidden insert is refused per row with its reason; the batch is applied not at all; the client drops its row', async () => {
    const db = await createDatabase();
    let atRefusal: Row[] | undefined;
    const alice = device(db, await userToken('alice', 'acme'), 'ws', {
      onResponse: (_request, response) => {
        if (response.type === 'pushResult' && !response.accepted) atRefusal ??= serverRows(db);
      },
    });
    insert(alice.replica, 'a-ok', 'acme', 'alice');
    insert(alice.replica, 'a-bad', 'acme', 'bob');
    insert(alice.replica, 'a-other-tenant', 'globex', 'alice');
    await alice.client.syncNow();

    const refused = alice.transport.of('pushResult').filter((result) => !result.accepted);
    expect(refused).toHaveLength(1);
    const result = refused[0]!;
    expect(result.refusals).toHaveLength(2);
    expect(result.refusals).toEqual(
      expect.arrayContaining([
        {
          table: 'todos',
          pk: pkHex('a-bad'),
          reason: expect.stringMatching(/insert policy of todos .*owner = auth\.sub.* denies/),
        },
        {
          table: 'todos',
          pk: pkHex('a-other-tenant'),
          reason: expect.stringMatching(/insert policy of todos .*tenant = auth\.tenant.* denies/),
        },
      ]),
    );
    // The refused rows do not exist on the server: nothing to repair, both evicted.
    expect(decodeChangeset(result.repair).changes).toEqual([]);
    expect(result.evictions).toEqual(
      expect.arrayContaining([
        { table: 'todos', pk: pkHex('a-bad') },
        { table: 'todos', pk: pkHex('a-other-tenant') },
      ]),
    );
    // Nothing of that batch was applied: not even the allowed row.
    expect(atRefusal).toEqual([]);

    // The client took the server's state back and sent the allowed row again.
    expect(rows(alice.replica).map((row) => row.id)).toEqual(['a-ok']);
    expect(serverRows(db).map((row) => row.id)).toEqual(['a-ok']);
    expect(alice.client.status.state).toBe('synced');
    expect(alice.client.status.pending).toBe(0);
    expect(alice.client.status.refusedRows.map((refusal) => refusal.pk).sort()).toEqual(
      [pkHex('a-bad'), pkHex('a-other-tenant')].sort(),
    );
  });

  it('a forbidden update (moving a row out of the tenant) is refused; the client gets the server row back', async () => {
    const db = await createDatabase();
    let atRefusal: Row[] | undefined;
    const alice = device(db, await userToken('alice', 'acme'), 'http', {
      onResponse: (_request, response) => {
        if (response.type === 'pushResult' && !response.accepted) atRefusal ??= serverRows(db);
      },
    });
    insert(alice.replica, 'a1', 'acme', 'alice', 'milk');
    insert(alice.replica, 'a2', 'acme', 'alice', 'eggs');
    await alice.client.syncNow();
    const before = serverRows(db);

    alice.replica.db.prepare("UPDATE todos SET title = 'bread' WHERE id = 'a2'").run();
    alice.replica.db
      .prepare("UPDATE todos SET tenant = 'globex', title = 'stolen' WHERE id = 'a1'")
      .run();
    insert(alice.replica, 'a3', 'acme', 'alice', 'new');
    await alice.client.syncNow();

    const result = alice.transport.of('pushResult').find((message) => !message.accepted)!;
    expect(result.refusals).toEqual([
      {
        table: 'todos',
        pk: pkHex('a1'),
        reason: expect.stringMatching(
          /the update policy of todos \(tenant = auth\.tenant\) denies this row as it would be/,
        ),
      },
    ]);
    // The repair is the server's row as it is.
    const repair = decodeChangeset(result.repair).changes;
    expect(new Set(repair.map((change) => bytesToHex(change.pk)))).toEqual(new Set([pkHex('a1')]));
    expect(repair.find((change) => change.column === 'tenant')?.value).toBe('acme');
    expect(result.evictions).toEqual([]);
    // The allowed update and insert of that batch were not applied by it.
    expect(atRefusal).toEqual(before);

    expect(rows(alice.replica)).toEqual([
      { id: 'a1', tenant: 'acme', owner: 'alice', title: 'milk', done: 0 },
      { id: 'a2', tenant: 'acme', owner: 'alice', title: 'bread', done: 0 },
      { id: 'a3', tenant: 'acme', owner: 'alice', title: 'new', done: 0 },
    ]);
    expect(serverRows(db)).toEqual(rows(alice.replica));
    expect(alice.client.status.refusedRows.map((refusal) => refusal.pk)).toEqual([pkHex('a1')]);
  });

  it('a forbidden delete is refused and the row comes back; an allowed delete goes through', async () => {
    const db = await createDatabase();
    const alice = device(db, await userToken('alice', 'acme'), 'ws');
    insert(alice.replica, 'open', 'acme', 'alice', 'still to do');
    insert(alice.replica, 'finished', 'acme', 'alice', 'done already');
    alice.replica.db.prepare("UPDATE todos SET done = 1 WHERE id = 'finished'").run();
    await alice.client.syncNow();

    alice.replica.db.prepare('DELETE FROM todos').run();
    expect(rows(alice.replica)).toEqual([]);
    await alice.client.syncNow();

    const result = alice.transport.of('pushResult').find((message) => !message.accepted)!;
    expect(result.refusals).toEqual([
      {
        table: 'todos',
        pk: pkHex('open'),
        reason: expect.stringMatching(
          /the delete policy of todos \(.*done = 1\) denies this row as it is/,
        ),
      },
    ]);
    // The open todo is back locally, exactly as the server has it; the finished one is gone.
    expect(rows(alice.replica)).toEqual([
      { id: 'open', tenant: 'acme', owner: 'alice', title: 'still to do', done: 0 },
    ]);
    expect(serverRows(db)).toEqual(rows(alice.replica));
    expect(alice.client.status.state).toBe('synced');
  });

  it("a user writing another tenant's primary key is refused: blind update, insert over it, re-insert over it", async () => {
    const db = await createDatabase();
    const alice = device(db, await userToken('alice', 'acme'), 'ws');
    insert(alice.replica, 'shared-id', 'acme', 'alice', 'alice row');
    await alice.client.syncNow();
    const original = serverRows(db);
    expect(original).toHaveLength(1);

    const carolToken = await userToken('carol', 'globex');
    // Insert with the same key: the same row life as Alice's, so an update of her row.
    let atRefusal: Row[] | undefined;
    const carol = device(db, carolToken, 'http', {
      onResponse: (_request, response) => {
        if (response.type === 'pushResult' && !response.accepted) atRefusal ??= serverRows(db);
      },
    });
    insert(carol.replica, 'shared-id', 'globex', 'carol', 'carol took it');
    insert(carol.replica, 'carol-own', 'globex', 'carol', 'fine');
    await carol.client.syncNow();
    const result = carol.transport.of('pushResult').find((message) => !message.accepted)!;
    expect(result.refusals).toEqual([
      {
        table: 'todos',
        pk: pkHex('shared-id'),
        reason: expect.stringMatching(/update policy of todos .* denies this row as it is/),
      },
    ]);
    // Carol may not see the row: she gets an eviction, not its contents.
    expect(decodeChangeset(result.repair).changes).toEqual([]);
    expect(result.evictions).toEqual([{ table: 'todos', pk: pkHex('shared-id') }]);
    expect(atRefusal).toEqual(original);
    expect(rows(carol.replica).map((row) => row.id)).toEqual(['carol-own']);

    // A blind update: only a cell change of Alice's row, crafted from a local write.
    const crafter = newReplica();
    insert(crafter, 'shared-id', 'globex', 'carol', 'x');
    crafter.db.prepare("UPDATE todos SET title = 'overwritten' WHERE id = 'shared-id'").run();
    const cell = crafter
      .changesSince(0)
      .changes.filter((change) => change.column === 'title' && change.value === 'overwritten');
    expect(cell).toHaveLength(1);
    const transport = new HttpTransport({ url: server.url, database: db });
    const welcome = await transport.request(helloMessage(crafter, carolToken));
    expect(welcome.type).toBe('welcome');
    // With the honest fingerprint: a push without one is refused for its schema before any policy.
    const fingerprints = { todos: crafter.tableInfo('todos').fingerprint };
    const blind = await transport.request(
      push(crafter, 2, encodeChangeset({ changes: cell, fingerprints })),
    );
    expect(blind).toMatchObject({
      type: 'pushResult',
      accepted: false,
      refusals: [{ table: 'todos', pk: pkHex('shared-id') }],
      evictions: [{ table: 'todos', pk: pkHex('shared-id') }],
    });

    // A re-insert: a new life of the row (insert, delete, insert) replaces Alice's.
    crafter.db.prepare("DELETE FROM todos WHERE id = 'shared-id'").run();
    insert(crafter, 'shared-id', 'globex', 'carol', 'mine now');
    const reinsert = await transport.request(push(crafter, 3));
    expect(reinsert).toMatchObject({
      type: 'pushResult',
      accepted: false,
      refusals: [
        {
          table: 'todos',
          pk: pkHex('shared-id'),
          reason: expect.stringMatching(/delete policy of todos .* denies this row as it is/),
        },
      ],
    });
    transport.close();
    crafter.close();
    expect(serverRows(db).filter((row) => row.id === 'shared-id')).toEqual(original);
    await alice.client.syncNow();
    expect(rows(alice.replica)).toEqual(original);
  });
});

describe('scope changes', () => {
  it("an update moving a row to another owner evicts it from the old owner's devices on their next pull", async () => {
    const db = await createDatabase();
    const phone = device(db, await userToken('alice', 'acme'), 'ws');
    const laptop = device(db, await userToken('alice', 'acme'), 'http');
    const bob = device(db, await userToken('bob', 'acme'), 'ws');
    insert(phone.replica, 'task', 'acme', 'alice', 'review');
    insert(phone.replica, 'keep', 'acme', 'alice', 'mine');
    await phone.client.syncNow();
    await laptop.client.syncNow();
    await bob.client.syncNow();
    expect(rows(laptop.replica).map((row) => row.id)).toEqual(['keep', 'task']);
    expect(rows(bob.replica)).toEqual([]);

    phone.replica.db.prepare("UPDATE todos SET owner = 'bob' WHERE id = 'task'").run();
    await phone.client.syncNow();
    // Accepted (anyone in the tenant may reassign), then gone from the phone on its own pull.
    expect(phone.transport.of('pushResult').every((result) => result.accepted)).toBe(true);
    expect(serverRows(db).find((row) => row.id === 'task')?.owner).toBe('bob');
    expect(rows(phone.replica).map((row) => row.id)).toEqual(['keep']);

    await laptop.client.syncNow();
    expect(rows(laptop.replica).map((row) => row.id)).toEqual(['keep']);
    expect(laptop.transport.of('changes').flatMap((page) => page.evictions)).toContainEqual({
      table: 'todos',
      pk: pkHex('task'),
    });
    // Bob receives the whole row, not just the changed cell.
    await bob.client.syncNow();
    expect(rows(bob.replica)).toEqual([
      { id: 'task', tenant: 'acme', owner: 'bob', title: 'review', done: 0 },
    ]);

    // A backend moving a row to another tenant: the same, across tenants.
    const backend = device(db, serviceKey, 'http');
    await backend.client.syncNow();
    backend.replica.db.prepare("UPDATE todos SET tenant = 'globex' WHERE id = 'keep'").run();
    await backend.client.syncNow();
    await phone.client.syncNow();
    await laptop.client.syncNow();
    expect(rows(phone.replica)).toEqual([]);
    expect(rows(laptop.replica)).toEqual([]);
    const aliceAtGlobex = device(db, await userToken('alice', 'globex'), 'ws');
    await aliceAtGlobex.client.syncNow();
    expect(rows(aliceAtGlobex.replica).map((row) => row.id)).toEqual(['keep']);
  });

  it('a policy change by the admin makes the next connection resync and removes rows that left scope', async () => {
    const db = await createDatabase();
    const token = await userToken('alice', 'acme');
    const replica = newReplica();
    const first = device(db, token, 'ws', { replica });
    insert(replica, 'open', 'acme', 'alice');
    insert(replica, 'finished', 'acme', 'alice');
    replica.db.prepare("UPDATE todos SET done = 1 WHERE id = 'finished'").run();
    await first.client.syncNow();
    await first.client.disconnect();

    // Reconnecting without any change does not resync.
    const again = device(db, token, 'ws', { replica });
    await again.client.syncNow();
    expect(again.transport.of('welcome')[0]?.resync).toBe(false);
    await again.client.disconnect();

    await adminOk('PUT', `/databases/${db}/policies/todos/select`, {
      expression: `${POLICIES.select} AND done = 0`,
    });
    const after = device(db, token, 'ws', { replica });
    await after.client.syncNow();
    expect(after.transport.of('welcome')[0]?.resync).toBe(true);
    expect(rows(replica).map((row) => row.id)).toEqual(['open']);
    // Nothing was deleted on the server: the row only left Alice's view.
    expect(serverRows(db).map((row) => row.id)).toEqual(['finished', 'open']);
  });

  it.each(['ws', 'http'] as const)(
    'a policy change by the admin removes rows that left scope from a device that stays connected (%s)',
    async (via) => {
      const db = await createDatabase();
      const alice = device(db, await userToken('alice', 'acme'), via);
      insert(alice.replica, 'open', 'acme', 'alice');
      insert(alice.replica, 'finished', 'acme', 'alice');
      alice.replica.db.prepare("UPDATE todos SET done = 1 WHERE id = 'finished'").run();
      await alice.client.syncNow();

      await adminOk('PUT', `/databases/${db}/policies/todos/select`, {
        expression: `${POLICIES.select} AND done = 0`,
      });
      await alice.client.syncNow();
      // The server told the session its scope changed; the client said hello again and resynced.
      expect(alice.transport.of('error').map((error) => [error.code, error.status])).toEqual([
        ['scope-changed', 409],
      ]);
      expect(alice.transport.of('welcome').map((welcome) => welcome.resync)).toEqual([false, true]);
      expect(rows(alice.replica).map((row) => row.id)).toEqual(['open']);
      expect(alice.client.status.state).toBe('synced');
      expect(serverRows(db).map((row) => row.id)).toEqual(['finished', 'open']);
    },
  );

  it('a token with different claims makes the next connection resync: rows of the old scope go, the new scope arrives', async () => {
    const db = await createDatabase();
    const backend = device(db, serviceKey, 'http');
    insert(backend.replica, 'acme-task', 'acme', 'alice', 'old job');
    insert(backend.replica, 'globex-task', 'globex', 'alice', 'new job');
    await backend.client.syncNow();

    const replica = newReplica();
    const before = device(db, await userToken('alice', 'acme'), 'http', { replica });
    await before.client.syncNow();
    expect(rows(replica).map((row) => row.id)).toEqual(['acme-task']);
    await before.client.disconnect();

    // A refreshed token with the same claims: no resync.
    const refreshed = device(db, await userToken('alice', 'acme'), 'http', { replica });
    await refreshed.client.syncNow();
    expect(refreshed.transport.of('welcome')[0]?.resync).toBe(false);
    await refreshed.client.disconnect();

    const moved = device(db, await userToken('alice', 'globex'), 'http', { replica });
    await moved.client.syncNow();
    expect(moved.transport.of('welcome')[0]?.resync).toBe(true);
    expect(rows(replica).map((row) => row.id)).toEqual(['globex-task']);
    expect(databaseCells(replica).filter((cell) => cell.text.includes('acme-task'))).toEqual([]);
  });
});

describe('tables without policies', () => {
  it('are closed to user tokens (pull gets nothing, push refused) while admin and service keys bypass', async () => {
    const db = await createDatabase();
    const backend = device(db, serviceKey, 'ws');
    backend.replica.db.prepare("INSERT INTO notes VALUES ('n-service', 'internal memo')").run();
    insert(backend.replica, 'svc-todo', 'acme', 'alice', 'from the backend');
    await backend.client.syncNow();
    expect(backend.transport.of('pushResult').every((result) => result.accepted)).toBe(true);

    const alice = device(db, await userToken('alice', 'acme'), 'http');
    alice.replica.db.prepare("INSERT INTO notes VALUES ('n-alice', 'my note')").run();
    await alice.client.syncNow();
    const refused = alice.transport.of('pushResult').find((result) => !result.accepted)!;
    expect(refused.refusals).toEqual([
      {
        table: 'notes',
        pk: pkHex('n-alice'),
        reason: 'no insert policy opens table notes to users',
      },
    ]);
    expect(rows(alice.replica, 'notes')).toEqual([]);
    expect(serverRows(db, 'notes').map((row) => row.id)).toEqual(['n-service']);
    // Pull: her todo arrives, no note does.
    expect(rows(alice.replica).map((row) => row.id)).toEqual(['svc-todo']);
    const received = changedKeys(alice.transport.of('changes').map((page) => page.changeset));
    expect(received.filter((key) => key.startsWith('notes:'))).toEqual([]);

    // Admin key: syncs everything too.
    const ops = device(db, adminKey, 'http');
    ops.replica.db.prepare("INSERT INTO notes VALUES ('n-admin', 'ops note')").run();
    await ops.client.syncNow();
    expect(ops.transport.of('pushResult').every((result) => result.accepted)).toBe(true);
    expect(rows(ops.replica, 'notes').map((row) => row.id)).toEqual(['n-admin', 'n-service']);
    expect(rows(ops.replica).map((row) => row.id)).toEqual(['svc-todo']);
    expect(ops.transport.of('welcome')[0]?.filtered).toBe(false);
    expect(alice.transport.of('welcome')[0]?.filtered).toBe(true);
  });
});

describe('authentication', () => {
  const fiveHoursAgo = Date.now() - 5 * 3600_000;
  const cases: [string, () => Promise<string>, RegExp][] = [
    [
      'a forged token (signed with another secret)',
      () => userToken('alice', 'acme', { secret: randomBytes(48).toString('base64url') }),
      /the token signature is invalid/,
    ],
    ['an expired token', () => userToken('alice', 'acme', { now: fiveHoursAgo }), /expired/],
    [
      'a token for another audience',
      () => userToken('alice', 'acme', { audience: 'another-app' }),
      /another audience/,
    ],
    [
      'a token from another issuer',
      () => userToken('alice', 'acme', { issuer: 'https://evil.test/' }),
      /untrusted issuer/,
    ],
    [
      'a tampered token (claims changed, signature kept)',
      async () => {
        const [header, payload, signature] = (await userToken('mallory', 'globex')).split('.');
        const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
        const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'alice', tenant: 'acme' }));
        return `${header}.${forged.toString('base64url')}.${signature}`;
      },
      /the token signature is invalid/,
    ],
    [
      'an alg: none token',
      async () => {
        const payload = JSON.parse(
          Buffer.from((await userToken('alice', 'acme')).split('.')[1]!, 'base64url').toString(),
        );
        const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
        return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.`;
      },
      /the token signing algorithm is not accepted/,
    ],
    ['garbage', async () => 'not.a.token', /not a well-formed signed JWT/],
    [
      'a wrong API key',
      async () => `osk_service_${randomBytes(32).toString('base64url')}`,
      /unknown API key/,
    ],
  ];

  it.each(cases)(
    '%s is refused over HTTP with 401 and nothing is applied',
    async (_name, make, reason) => {
      const db = await createDatabase();
      const token = await make();
      const replica = newReplica();
      insert(replica, 'intruder', 'acme', 'alice');
      const refusedHello = await post(
        db,
        encodeMessage(helloMessage(replica, token)),
        `Bearer ${token}`,
      );
      expect(refusedHello.status).toBe(401);
      expect(refusedHello.message).toMatchObject({
        type: 'error',
        id: 1,
        code: 'unauthorized',
        status: 401,
        message: expect.stringMatching(reason),
      });
      const refusedPush = await post(db, encodeMessage(push(replica)), `Bearer ${token}`);
      expect(refusedPush.status).toBe(401);
      expect(refusedPush.message).toMatchObject({ type: 'error', id: 2, code: 'unauthorized' });
      // The credential never comes back in the refusal.
      expect(JSON.stringify(refusedHello.message)).not.toContain(token.slice(-20));
      expect(serverRows(db)).toEqual([]);
      replica.close();
    },
  );

  it.each(cases)(
    '%s is refused over WebSocket with an error message and nothing is applied',
    async (_name, make, reason) => {
      const db = await createDatabase();
      const token = await make();
      const replica = newReplica();
      insert(replica, 'intruder', 'acme', 'alice');
      const transport = new WebSocketTransport({
        url: server.url,
        database: db,
        WebSocket: Socket,
      });
      expect(await transport.request(helloMessage(replica, token))).toMatchObject({
        type: 'error',
        id: 1,
        code: 'unauthorized',
        status: 401,
        message: expect.stringMatching(reason),
      });
      expect(await transport.request(push(replica))).toMatchObject({
        type: 'error',
        id: 2,
        status: 401,
      });
      transport.close();
      expect(serverRows(db)).toEqual([]);
      replica.close();
    },
  );

  it('a missing credential is refused with 401 on both transports', async () => {
    const db = await createDatabase();
    const replica = newReplica();
    insert(replica, 'intruder', 'acme', 'alice');
    const noToken = await post(db, encodeMessage(helloMessage(replica, undefined)));
    expect(noToken).toMatchObject({
      status: 401,
      message: { type: 'error', code: 'unauthorized', message: expect.stringMatching(/required/) },
    });
    expect((await post(db, encodeMessage(push(replica)))).status).toBe(401);
    const ws = await rawSocket(db);
    ws.send(encodeMessage(push(replica, 5)));
    expect(await ws.next()).toMatchObject({ type: 'error', id: 5, status: 401 });
    ws.send(encodeMessage(helloMessage(replica, undefined, 6)));
    expect(await ws.next()).toMatchObject({ type: 'error', id: 6, status: 401 });
    ws.socket.close();
    expect(serverRows(db)).toEqual([]);
    replica.close();
  });

  it('a valid token after a refused one is accepted on the same socket, with its own identity only', async () => {
    const db = await createDatabase();
    const replica = newReplica();
    insert(replica, 'mine', 'acme', 'alice');
    const transport = new WebSocketTransport({ url: server.url, database: db, WebSocket: Socket });
    const bad = await userToken('alice', 'acme', { audience: 'another-app' });
    expect((await transport.request(helloMessage(replica, bad))).type).toBe('error');
    const welcome = await transport.request(
      helloMessage(replica, await userToken('alice', 'acme'), 3),
    );
    expect(welcome).toMatchObject({ type: 'welcome', id: 3, filtered: true });
    expect(await transport.request(push(replica, 4))).toMatchObject({ accepted: true });
    transport.close();
    expect(serverRows(db).map((row) => row.id)).toEqual(['mine']);
    replica.close();
  });
});

describe('limits and malformed frames', () => {
  it('an HTTP body over maxMessageBytes is refused with 413 and not applied', async () => {
    const db = await createDatabase();
    const token = await userToken('alice', 'acme');
    const replica = newReplica();
    insert(replica, 'huge', 'acme', 'alice', 'x'.repeat(MAX_MESSAGE_BYTES + 1));
    const response = await post(db, encodeMessage(push(replica)), `Bearer ${token}`);
    expect(response.status).toBe(413);
    expect(response.message).toMatchObject({ type: 'error', code: 'too-large', status: 413 });
    expect(serverRows(db)).toEqual([]);
    replica.close();
  });

  it('an HTTP upload that does not stop is answered 413 once it crosses the limit, and the server still shuts down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offsync-upload-'));
    writeFileSync(join(dir, 'server.json'), JSON.stringify({ jwt: { hs256Secret: SECRET } }));
    const small = await startServer({
      dataDir: dir,
      port: 0,
      log: () => undefined,
      limits: { maxMessageBytes: 64 * 1024 },
    });
    try {
      const upload = (abandon: boolean) =>
        new Promise<number | 'abandoned'>((resolve, reject) => {
          const request = httpRequest(`${small.url}/v1/databases/any/sync`, {
            method: 'POST',
            headers: { 'content-type': 'application/octet-stream' },
          });
          const chunk = Buffer.alloc(16 * 1024, 0x4f);
          let sent = 0;
          const pump = setInterval(() => {
            sent += chunk.length;
            request.write(chunk);
            if (abandon && sent > 32 * 1024) {
              clearInterval(pump);
              request.destroy();
              resolve('abandoned');
            }
          }, 2);
          const deadline = setTimeout(() => {
            clearInterval(pump);
            request.destroy();
            reject(new Error(`no answer after ${sent} bytes`));
          }, 5_000);
          request.on('response', (response) => {
            clearInterval(pump);
            clearTimeout(deadline);
            response.resume();
            request.destroy();
            resolve(response.statusCode ?? 0);
          });
          request.on('error', () => undefined);
          request.on('close', () => {
            clearInterval(pump);
            clearTimeout(deadline);
          });
        });
      expect(await upload(false)).toBe(413);
      // A client that gives up half-way leaves nothing in flight.
      expect(await upload(true)).toBe('abandoned');
    } finally {
      await withTimeout(small.close(), 5_000, 'graceful shutdown');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a WebSocket frame over maxMessageBytes closes the socket with 1009 and is not applied', async () => {
    const db = await createDatabase();
    const token = await userToken('alice', 'acme');
    const replica = newReplica();
    insert(replica, 'huge', 'acme', 'alice', 'x'.repeat(MAX_MESSAGE_BYTES + 1));
    const ws = await rawSocket(db);
    ws.send(encodeMessage(helloMessage(replica, token)));
    expect((await ws.next()).type).toBe('welcome');
    ws.send(encodeMessage(push(replica)));
    expect((await withTimeout(ws.closed, 5_000, 'close')).code).toBe(1009);

    // Through the transport: the pending request answers a typed too-large error (the server is
    // up; reporting it as offline would make the client retry the same push forever).
    const transport = new WebSocketTransport({ url: server.url, database: db, WebSocket: Socket });
    expect((await transport.request(helloMessage(replica, token))).type).toBe('welcome');
    const failure = await transport.request(push(replica));
    expect(failure).toMatchObject({ type: 'error', code: 'too-large', status: 413 });
    transport.close();
    expect(serverRows(db)).toEqual([]);
    replica.close();
  });

  it('a push over maxBatchChanges is refused with 413 too-many-changes on both transports', async () => {
    const db = await createDatabase();
    const token = await userToken('alice', 'acme');
    const replica = newReplica();
    const add = replica.db.prepare(
      'INSERT INTO todos(id, tenant, owner, title) VALUES (?, ?, ?, ?)',
    );
    replica.db.transaction(() => {
      for (let i = 0; i < 500; i++) add.run(`t${i}`, 'acme', 'alice', `todo ${i}`);
    })();
    const message = push(replica);
    if (message.type !== 'push') throw new Error('unreachable');
    const count = decodeChangeset(message.changeset).changes.length;
    expect(count).toBeGreaterThan(MAX_BATCH_CHANGES);
    expect(message.changeset.length).toBeLessThan(MAX_MESSAGE_BYTES);

    const response = await post(db, encodeMessage(message), `Bearer ${token}`);
    expect(response.status).toBe(413);
    expect(response.message).toMatchObject({
      type: 'error',
      code: 'too-many-changes',
      status: 413,
      message: expect.stringContaining(
        `${count} changes exceeds the limit of ${MAX_BATCH_CHANGES}`,
      ),
    });
    const transport = new WebSocketTransport({ url: server.url, database: db, WebSocket: Socket });
    expect((await transport.request(helloMessage(replica, token))).type).toBe('welcome');
    expect(await transport.request(message)).toMatchObject({
      type: 'error',
      id: message.id,
      code: 'too-many-changes',
      status: 413,
    });
    transport.close();
    expect(serverRows(db)).toEqual([]);
    replica.close();
  });

  it('malformed frames are refused with 400 bad-request; the WebSocket stays usable', async () => {
    const db = await createDatabase();
    const token = await userToken('alice', 'acme');
    const replica = newReplica();
    insert(replica, 'fine', 'acme', 'alice');
    const header = (type: number, json: string) => {
      const body = Buffer.from(json);
      return new Uint8Array([0x4f, type, body.length, ...body]);
    };
    const frames: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['not a frame', new Uint8Array([1, 2, 3, 4])],
      ['unknown type', new Uint8Array([0x4f, 99, 2, 0x7b, 0x7d])],
      ['truncated header', new Uint8Array([0x4f, 1, 40, 0x7b])],
      ['header not JSON', header(1, '{"id":')],
      ['header not an object', header(1, '[1,2]')],
      ['hello without site', header(1, '{"id":1,"protocol":1,"schemas":{}}')],
      ['a server message', encodeMessage({ type: 'notify', id: 0, serverVersion: 1 })],
    ];
    for (const [name, frame] of frames) {
      const response = await post(db, frame, `Bearer ${token}`);
      expect([name, response.status]).toEqual([name, 400]);
      expect([name, response.message]).toMatchObject([
        name,
        { type: 'error', code: 'bad-request' },
      ]);
    }
    // A well-framed push whose changeset is garbage.
    const garbage = await post(
      db,
      encodeMessage(push(replica, 2, new Uint8Array([0xde, 0xad, 0xbe, 0xef]))),
      `Bearer ${token}`,
    );
    expect(garbage).toMatchObject({ status: 400, message: { code: 'bad-request', id: 2 } });

    const ws = await rawSocket(db);
    for (const [name, frame] of frames) {
      ws.send(frame);
      expect([name, await ws.next()]).toMatchObject([
        name,
        { type: 'error', code: 'bad-request', status: 400 },
      ]);
    }
    ws.send(encodeMessage(helloMessage(replica, token, 7)));
    expect(await ws.next()).toMatchObject({ type: 'welcome', id: 7 });
    ws.send(encodeMessage(push(replica, 8, new Uint8Array([0xde, 0xad]))));
    expect(await ws.next()).toMatchObject({ type: 'error', id: 8, code: 'bad-request' });
    ws.send(encodeMessage(push(replica, 9)));
    expect(await ws.next()).toMatchObject({ type: 'pushResult', id: 9, accepted: true });
    // Text frames are not part of the protocol: the socket is closed (1003).
    ws.send('{"type":"hello"}');
    expect((await withTimeout(ws.closed, 5_000, 'close')).code).toBe(1003);
    expect(serverRows(db).map((row) => row.id)).toEqual(['fine']);
    replica.close();
  });

  it('requests over the rate are refused with 429 after the burst, on HTTP and per WebSocket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offsync-rate-'));
    writeFileSync(join(dir, 'server.json'), JSON.stringify({ jwt: { hs256Secret: SECRET } }));
    const limited = await startServer({
      dataDir: dir,
      port: 0,
      log: () => undefined,
      limits: { requestsPerSecond: 0.1, burst: 3 },
    });
    try {
      const key = limited.generatedAdminKey!;
      const created = await fetch(`${limited.url}/v1/admin/databases`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'rated', schema: SCHEMA }),
      });
      expect(created.status).toBe(200);
      const token = await issueDevToken({ secret: SECRET, sub: 'alice', ttlSeconds: 600 });
      const replica = newReplica();
      const frame = encodeMessage(helloMessage(replica, token));
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 4; i++) {
        last = await fetch(`${limited.url}/v1/databases/rated/sync`, {
          method: 'POST',
          body: frame as BodyInit,
          headers: { authorization: `Bearer ${token}` },
        });
        statuses.push(last.status);
        await last.arrayBuffer().catch(() => undefined);
      }
      // The admin request above came with another credential: its own bucket.
      expect(statuses).toEqual([200, 200, 200, 429]);
      const again = await fetch(`${limited.url}/v1/databases/rated/sync`, {
        method: 'POST',
        body: frame as BodyInit,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(again.status).toBe(429);
      expect(await again.json()).toMatchObject({ error: { code: 'rate-limited' } });
      // Health checks are not rate limited.
      for (let i = 0; i < 5; i++)
        expect((await fetch(`${limited.url}/v1/health`)).status).toBe(200);

      const transport = new WebSocketTransport({
        url: limited.url,
        database: 'rated',
        WebSocket: Socket,
      });
      const replies: ServerMessage[] = [];
      for (let id = 1; id <= 4; id++)
        replies.push(await transport.request({ ...helloMessage(replica, token), id }));
      expect(replies.map((reply) => reply.type)).toEqual([
        'welcome',
        'welcome',
        'welcome',
        'error',
      ]);
      expect(replies[3]).toMatchObject({ id: 4, code: 'rate-limited', status: 429 });
      // Another connection has its own allowance.
      const fresh = new WebSocketTransport({
        url: limited.url,
        database: 'rated',
        WebSocket: Socket,
      });
      expect((await fresh.request(helloMessage(replica, token))).type).toBe('welcome');
      transport.close();
      fresh.close();
      replica.close();
    } finally {
      await limited.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('admin API', () => {
  it('refuses requests without a key (401), with a wrong key (401), with a service key or a user token (403)', async () => {
    const db = await createDatabase();
    const wrong = `osk_admin_${randomBytes(32).toString('base64url')}`;
    const user = await userToken('alice', 'acme');
    const attempts: [string | null, number, string][] = [
      [null, 401, 'missing'],
      [wrong, 401, 'unknown-key'],
      ['osk_admin_short', 401, 'malformed'],
      [serviceKey, 403, 'forbidden'],
      [user, 403, 'forbidden'],
    ];
    for (const [key, status, code] of attempts) {
      const list = await adminApi('GET', '/databases', undefined, key);
      expect([code, list.status, list.body]).toMatchObject([code, status, { error: { code } }]);
      const change = await adminApi(
        'PUT',
        `/databases/${db}/policies/todos/select`,
        { expression: 'true' },
        key,
      );
      expect([code, change.status]).toEqual([code, status]);
      const sql = await adminApi('POST', `/databases/${db}/sql`, { sql: 'DELETE FROM todos' }, key);
      expect([code, sql.status]).toEqual([code, status]);
    }
    const policies = (await adminOk('GET', `/databases/${db}/policies`)) as Record<string, unknown>;
    expect(JSON.stringify(policies)).toContain(POLICIES.select);
    expect(JSON.stringify(policies)).not.toContain('"true"');
    expect((await adminApi('GET', '/databases')).status).toBe(200);
  });
});
