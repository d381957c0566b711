import { openReplica } from '@offsync/adapter-node';
import {
  type Change,
  type ClientMessage,
  type ServerMessage,
  type SqliteReplica,
  type SqlValue,
  SyncClient,
} from '@offsync/core';
import {
  decodeChangeset,
  decodeServerMessage,
  encodeChangeset,
  encodeMessage,
  packPrimaryKey,
} from '@offsync/core/codec';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { helloMessage } from './support/hello-message.js';
import { useSharedServer } from './support/shared-server.js';
import { httpTransport } from './support/sync-clients.js';

// Issue 9, items 3 and 4: the server holds every push to the table's current schema and to the
// session's own site, whatever the message claims. Raw frames go to the real server on loopback
// over HTTP and WebSocket; replicas are compared by the bytes of every column (quote()).

const SCHEMA = `
  CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, n INTEGER, label TEXT);
  CREATE TABLE strict_items(id TEXT PRIMARY KEY NOT NULL, n INTEGER) STRICT;
  CREATE TABLE pairs(a INTEGER NOT NULL, b TEXT NOT NULL, v TEXT, PRIMARY KEY(a, b));
`;
const TABLES = ['items', 'strict_items', 'pairs'];

const shared = useSharedServer('push-integrity', SCHEMA, TABLES, { openToUsers: true });

type Via = 'http' | 'websocket';

/** Every row of every table, each column as SQLite's quote() of its stored bytes. */
function quotedRows(replica: SqliteReplica): string[] {
  const out: string[] = [];
  for (const table of TABLES) {
    const columns = replica.driver
      .prepare(`SELECT name FROM pragma_table_info('${table}') ORDER BY cid`)
      .all()
      .map((row) => `quote("${String(row[0])}")`);
    for (const row of replica.driver
      .prepare(`SELECT ${columns.join(` || ',' || `)} FROM "${table}" ORDER BY 1`)
      .all())
      out.push(`${table}: ${String(row[0])}`);
  }
  return out;
}

function honestReplica(schema = SCHEMA): SqliteReplica {
  const replica = openReplica(':memory:');
  replica.driver.exec(schema);
  for (const table of TABLES) replica.enableSync(table);
  return replica;
}

/** A client that speaks raw frames over one transport: a socket, or one POST per message. */
async function rawClient(database: string, token: string, via: Via) {
  const { url } = shared.server;
  if (via === 'http') {
    return {
      async send(message: ClientMessage): Promise<ServerMessage> {
        const response = await fetch(`${url}/v1/databases/${database}/sync`, {
          method: 'POST',
          body: encodeMessage(message) as BodyInit,
          headers: {
            'content-type': 'application/octet-stream',
            authorization: `Bearer ${token}`,
          },
        });
        return decodeServerMessage(new Uint8Array(await response.arrayBuffer()));
      },
      close(): void {},
    };
  }
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/databases/${database}/ws`);
  const waiters = new Map<number, (message: ServerMessage) => void>();
  socket.on('message', (data: Buffer) => {
    const message = decodeServerMessage(new Uint8Array(data));
    waiters.get(message.id)?.(message);
    waiters.delete(message.id);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    send(message: ClientMessage): Promise<ServerMessage> {
      return new Promise((resolve) => {
        waiters.set(message.id, resolve);
        socket.send(encodeMessage(message));
      });
    },
    close(): void {
      socket.close();
    },
  };
}

let wallOffset = 0;
function cell(
  site: string,
  table: string,
  key: readonly SqlValue[],
  column: string | null,
  value: SqlValue,
): Change {
  // Distinct, increasing stamps a little ahead of now (within the drift bound).
  wallOffset += 1;
  return {
    table,
    pk: packPrimaryKey([...key]),
    column,
    value,
    stamp: { wall: Date.now() + 1_000 + wallOffset, counter: 0, site },
    cl: 1,
  };
}

function row(
  site: string,
  table: string,
  key: readonly SqlValue[],
  values: Record<string, SqlValue>,
): Change[] {
  return [
    cell(site, table, key, null, null),
    ...Object.entries(values).map(([column, value]) => cell(site, table, key, column, value)),
  ];
}

/** A good device on the sync loop (HTTP), synced once. */
async function goodDevice(database: string, sub: string) {
  const replica = honestReplica();
  const token = await shared.server.userToken(sub);
  const client = shared.track({
    name: sub,
    replica,
    client: new SyncClient(replica, {
      transport: httpTransport(shared.server.url, database),
      token,
      pollMs: 0,
    }),
  }).client;
  await client.syncNow();
  return { replica, client, token };
}

describe.each<Via>(['http', 'websocket'])('pushes are held to the server schema (%s)', (via) => {
  it('refuses what the hello refused or that fits no server column, and applies none of it', async () => {
    const { name, central } = await shared.freshDatabase();
    const good = await goodDevice(name, 'good');
    good.replica.driver.exec(
      "INSERT INTO items VALUES ('g1', 7, 'seven'); INSERT INTO pairs VALUES (1, 'one', 'v');",
    );
    await good.client.syncNow();

    // The attacker's own table declares n as TEXT: its hello is refused for items.
    const attacker = honestReplica(SCHEMA.replace('n INTEGER, label TEXT', 'n TEXT, label TEXT'));
    const token = await shared.server.userToken('mallory');
    const raw = await rawClient(name, token, via);
    const welcome = await raw.send(helloMessage(attacker, token));
    expect(welcome.type).toBe('welcome');
    if (welcome.type !== 'welcome') return;
    expect(welcome.refused.items?.code).toBe('schema-mismatch');
    const fingerprints = Object.fromEntries(
      TABLES.map((table) => [table, central().tableInfo(table).fingerprint]),
    );

    const serverBefore = quotedRows(central());
    const versionBefore = central().version;
    const site = attacker.site;
    const attempts: { what: string; changes: Change[]; fingerprints?: Record<string, string> }[] = [
      { what: 'no fingerprint', changes: row(site, 'items', ['x1'], { n: 'abc' }) },
      {
        what: 'a wrong fingerprint',
        changes: row(site, 'items', ['x2'], { n: 'abc' }),
        fingerprints: { items: 'v1:not-the-servers' },
      },
      {
        // Honest fingerprint, hello refused the table for this session/device.
        what: 'a table the hello refused',
        changes: row(site, 'items', ['x3'], { n: 5n }),
        fingerprints,
      },
      {
        what: 'TEXT in a STRICT INTEGER column',
        changes: row(site, 'strict_items', ['s1'], { n: 'abc' }),
        fingerprints,
      },
      {
        // SQLite would store INTEGER 1 where the sender holds TEXT '1'.
        what: 'numeric TEXT in an INTEGER column',
        changes: row(site, 'pairs', [2n, 'two'], { v: 'x' }).concat(
          row(site, 'pairs', ['3', 'three'], { v: 'x' }),
        ),
        fingerprints,
      },
      {
        what: 'a composite key in the wrong order',
        changes: row(site, 'pairs', ['four', 4n], { v: 'x' }),
        fingerprints,
      },
      {
        what: 'a key of the wrong width',
        changes: row(site, 'pairs', [5n], { v: 'x' }),
        fingerprints,
      },
      {
        what: 'an INTEGER in a TEXT column',
        changes: row(site, 'pairs', [6n, 'six'], { v: 6n }),
        fingerprints,
      },
      {
        what: 'an integral REAL in an INTEGER key column',
        changes: row(site, 'pairs', [7, 'seven'], { v: 'x' }),
        fingerprints,
      },
    ];
    let id = 10;
    for (const attempt of attempts) {
      const response = await raw.send({
        type: 'push',
        id: ++id,
        site,
        upTo: 1,
        changeset: encodeChangeset({
          changes: attempt.changes,
          ...(attempt.fingerprints ? { fingerprints: attempt.fingerprints } : {}),
        }),
      });
      expect({ what: attempt.what, type: response.type }).toEqual({
        what: attempt.what,
        type: 'error',
      });
      if (response.type === 'error') {
        expect({ what: attempt.what, code: response.code, status: response.status }).toEqual({
          what: attempt.what,
          code: 'schema-mismatch',
          status: 409,
        });
        expect(response.message).toMatch(/push refused for table (items|strict_items|pairs)/);
      }
    }
    // Nor does it receive the rows of the table its hello refused (its column could not hold them).
    const pulled = await raw.send({
      type: 'pull',
      id: ++id,
      site,
      cursor: 0,
      limit: 1000,
      tables: TABLES,
      pending: 0,
    });
    expect(pulled.type).toBe('changes');
    if (pulled.type === 'changes') {
      const tables = new Set(decodeChangeset(pulled.changeset).changes.map((c) => c.table));
      expect([...tables].sort()).toEqual(['pairs']);
    }
    raw.close();
    expect(quotedRows(central())).toEqual(serverBefore);
    expect(central().version).toBe(versionBefore);

    // A good client pulls everything there is and holds exactly the server's bytes.
    const other = await goodDevice(name, 'other');
    await good.client.syncNow();
    expect(quotedRows(other.replica)).toEqual(serverBefore);
    expect(quotedRows(good.replica)).toEqual(serverBefore);
  });

  it('an honest push of every storage class its columns hold is accepted', async () => {
    const { name, central } = await shared.freshDatabase();
    const writer = await goodDevice(name, 'writer');
    // Non-numeric TEXT and BLOBs stay as sent in a non-STRICT INTEGER column.
    writer.replica.driver.exec(`
      INSERT INTO items VALUES ('a', 1, 'one'), ('b', 'not a number', x'00ff'), ('c', 2.5, NULL),
        ('d', x'0102', '  7 ');
      INSERT INTO strict_items VALUES ('s', 9);
      INSERT INTO pairs VALUES (-1, '', NULL), (9223372036854775807, 'max', 'v');
    `);
    await writer.client.syncNow();
    expect(writer.client.status.state).toBe('synced');
    const reader = await goodDevice(name, 'reader');
    expect(quotedRows(central())).toEqual(quotedRows(writer.replica));
    expect(quotedRows(reader.replica)).toEqual(quotedRows(writer.replica));
    expect(quotedRows(reader.replica)).toHaveLength(7);
  });
});

describe.each<Via>(['http', 'websocket'])('a session speaks only for its own site (%s)', (via) => {
  it("refuses another device's stamps and site, and leaves that device's record alone", async () => {
    const { name, central } = await shared.freshDatabase();
    const alice = await goodDevice(name, 'alice');
    alice.replica.driver.exec("INSERT INTO items VALUES ('shared', 1, 'by alice')");
    await alice.client.syncNow();
    const bob = await goodDevice(name, 'bob');
    expect(quotedRows(bob.replica)).toEqual(quotedRows(alice.replica));

    const fingerprints = Object.fromEntries(
      TABLES.map((table) => [table, central().tableInfo(table).fingerprint]),
    );
    const raw = await rawClient(name, bob.token, via);
    expect((await raw.send(helloMessage(bob.replica, bob.token))).type).toBe('welcome');
    const serverBefore = quotedRows(central());
    const devices = shared.server.server.store.open(name).devices;
    const aliceBefore = devices.get(alice.replica.site);
    expect(aliceBefore?.user).toBe('alice');
    const spoofed = encodeChangeset({
      changes: [cell(alice.replica.site, 'items', ['shared'], 'label', 'hidden from alice')],
      fingerprints,
    });
    const attempts: { what: string; message: ClientMessage }[] = [
      {
        what: "alice's stamp under bob's site",
        message: { type: 'push', id: 20, site: bob.replica.site, upTo: 1, changeset: spoofed },
      },
      {
        what: "alice's stamp under alice's site",
        message: { type: 'push', id: 21, site: alice.replica.site, upTo: 1, changeset: spoofed },
      },
      {
        what: "a pull as alice's device",
        message: {
          type: 'pull',
          id: 22,
          site: alice.replica.site,
          cursor: 0,
          limit: 1000,
          tables: TABLES,
          pending: 0,
        },
      },
    ];
    for (const { what, message } of attempts) {
      const response = await raw.send(message);
      expect({ what, response: response.type === 'error' ? response.code : response.type }).toEqual(
        { what, response: 'site-mismatch' },
      );
    }
    raw.close();

    // Nor may bob take alice's device over by saying hello as it, then push as its own site.
    const takeover = await rawClient(name, bob.token, via);
    const hijack = { ...helloMessage(bob.replica, bob.token, 30), site: alice.replica.site };
    const answer = await takeover.send(hijack as ClientMessage);
    expect(answer.type === 'error' ? answer.code : answer.type).toBe('site-mismatch');
    const afterHijack = await takeover.send({
      type: 'push',
      id: 31,
      site: alice.replica.site,
      upTo: 1,
      changeset: spoofed,
    });
    expect(afterHijack.type).toBe('error');
    takeover.close();
    expect(quotedRows(central())).toEqual(serverBefore);
    expect(devices.get(alice.replica.site)).toEqual(aliceBefore);

    // Both devices keep converging, byte for byte.
    bob.replica.driver.exec("UPDATE items SET label = 'by bob' WHERE id = 'shared'");
    await bob.client.syncNow();
    await alice.client.syncNow();
    expect(quotedRows(alice.replica)).toEqual(quotedRows(bob.replica));
    expect(quotedRows(central())).toEqual(quotedRows(alice.replica));
    expect(quotedRows(alice.replica)).toContain("items: 'shared',1,'by bob'");
  });
});

describe('a device that changes hands', () => {
  it('logout takes a new site id, so the next user says hello as a device of their own', async () => {
    const { name, central } = await shared.freshDatabase();
    const alice = await goodDevice(name, 'alice');
    alice.replica.driver.exec("INSERT INTO items VALUES ('mine', 1, 'by alice')");
    await alice.client.syncNow();
    const aliceSite = alice.replica.site;
    await alice.client.logout();
    expect(alice.replica.site).not.toBe(aliceSite);
    expect(quotedRows(alice.replica)).toEqual([]);

    const bob = new SyncClient(alice.replica, {
      transport: httpTransport(shared.server.url, name),
      token: await shared.server.userToken('bob'),
      pollMs: 0,
    });
    const status = await bob.syncNow();
    expect(status.state).toBe('synced');
    expect(quotedRows(alice.replica)).toEqual(quotedRows(central()));
    expect(shared.server.server.store.open(name).devices.get(alice.replica.site)?.user).toBe('bob');
    await bob.disconnect();
  });
});
