import type { SqliteReplica } from '@offsync/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openClientReplica, query, type ReplicaKind, run, tableRows } from './support/replicas.js';
import {
  httpTransport,
  startLoop,
  type TestClient,
  type Via,
  webSocketTransport,
} from './support/sync-clients.js';
import { TestServer } from './support/test-server.js';

// Clients with user tokens take the filtered path even when every policy is open (`true`): pulls
// carry whole rows, and rows a policy cannot see are evicted instead of sent. A deleted row has
// no values for a policy to see, which is where these tests look: a device must still learn of
// deletes, or its later insert of the same key starts a row life the server discards.
const SCHEMA = 'CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, a TEXT)';
const TABLES = ['items'];

let test: TestServer;
let databases = 0;
const opened: TestClient[] = [];

beforeAll(async () => {
  test = await TestServer.start();
});

afterEach(async () => {
  for (const { client, replica } of opened.splice(0)) {
    await client.disconnect();
    replica.close();
  }
});

afterAll(async () => {
  await test?.dispose();
});

async function freshDatabase(): Promise<{ name: string; central: () => SqliteReplica }> {
  const name = `users-${++databases}`;
  await test.createDatabase(name, SCHEMA, TABLES, { openToUsers: true });
  return { name, central: () => test.server.store.open(name).replica };
}

async function client(
  name: string,
  database: string,
  token: string,
  kind: ReplicaKind = 'native',
  via: Via = 'websocket',
): Promise<TestClient> {
  const replica = await openClientReplica(kind, SCHEMA, TABLES);
  const transport =
    via === 'websocket'
      ? webSocketTransport(test.url, database)
      : httpTransport(test.url, database);
  const opened_ = { name, replica, client: startLoop(replica, transport, token, { pollMs: 0 }) };
  opened.push(opened_);
  return opened_;
}

/** Sync rounds over every client, in order. */
async function rounds(clients: readonly TestClient[], count = 2): Promise<void> {
  for (let round = 0; round < count; round++)
    for (const { client: loop } of clients) await loop.syncNow();
}

describe('user tokens under open policies (filtered pulls)', () => {
  it('a row deleted on another device and then re-inserted by the user reaches everyone', async () => {
    const { name, central } = await freshDatabase();
    const admin = await client('admin', name, test.adminKey);
    const alice = await client('alice', name, await test.userToken('alice'), 'wasm', 'http');
    run(admin.replica, "INSERT INTO items VALUES ('r', 'one')");
    await rounds([admin, alice]);
    expect(query(alice.replica, 'SELECT a FROM items')).toEqual([['one']]);
    run(admin.replica, "DELETE FROM items WHERE id = 'r'");
    await rounds([admin, alice]);
    expect(query(alice.replica, 'SELECT a FROM items')).toEqual([]);
    run(alice.replica, "INSERT INTO items VALUES ('r', 'two')");
    await rounds([alice, admin]);
    for (const replica of [alice.replica, admin.replica, central()])
      expect(tableRows(replica, 'items')).toEqual([['TEXT "r"', 'TEXT "two"']]);
  });

  it("a user's own delete and, in a later sync, re-insert of a row reach everyone", async () => {
    const { name, central } = await freshDatabase();
    const admin = await client('admin', name, test.adminKey);
    const bob = await client('bob', name, await test.userToken('bob'));
    run(admin.replica, "INSERT INTO items VALUES ('r', 'one')");
    await rounds([admin, bob]);
    run(bob.replica, "DELETE FROM items WHERE id = 'r'");
    await rounds([bob, admin]);
    run(bob.replica, "INSERT INTO items VALUES ('r', 'again')");
    await rounds([bob, admin]);
    for (const replica of [bob.replica, admin.replica, central()])
      expect(tableRows(replica, 'items')).toEqual([['TEXT "r"', 'TEXT "again"']]);
  });

  it('a user inserting the key of a row deleted before the device ever saw it converges with the server', async () => {
    // The device never held the row, so it never gets the tombstone: its insert starts life 1,
    // the server's deleted life 2 wins, the push is acknowledged and nothing tells the device,
    // which shows the row for good while every other replica does not.
    const { name, central } = await freshDatabase();
    const admin = await client('admin', name, test.adminKey);
    run(admin.replica, "INSERT INTO items VALUES ('r', 'one')");
    await rounds([admin]);
    run(admin.replica, "DELETE FROM items WHERE id = 'r'");
    await rounds([admin]);
    const carol = await client('carol', name, await test.userToken('carol'));
    await rounds([carol]);
    run(carol.replica, "INSERT INTO items VALUES ('r', 'mine')");
    await rounds([carol, admin]);
    const expected = tableRows(central(), 'items');
    expect(tableRows(admin.replica, 'items'), 'admin device').toEqual(expected);
    expect(tableRows(carol.replica, 'items'), "carol's device").toEqual(expected);
  });
});
