import { describe, expect, it } from 'vitest';
import { openClientReplica, query, type ReplicaKind, run, tableRows } from './support/replicas.js';
import { useSharedServer } from './support/shared-server.js';
import {
  httpTransport,
  startLoop,
  type TestClient,
  type Via,
  webSocketTransport,
} from './support/sync-clients.js';

// Clients with user tokens take the filtered path even when every policy is open (`true`): pulls
// carry whole rows, and rows a policy cannot see are evicted instead of sent. A deleted row has
// no values for a policy to see, which is where these tests look: a device must still learn of
// deletes, or its later insert of the same key starts a row life the server discards.
const SCHEMA = 'CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, a TEXT)';
const TABLES = ['items'];

const shared = useSharedServer('users', SCHEMA, TABLES, { openToUsers: true });
const freshDatabase = shared.freshDatabase;

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
      ? webSocketTransport(shared.server.url, database)
      : httpTransport(shared.server.url, database);
  return shared.track({
    name,
    replica,
    client: startLoop(replica, transport, token, { pollMs: 0 }),
  });
}

/** Sync rounds over every client, in order. */
async function rounds(clients: readonly TestClient[], count = 2): Promise<void> {
  for (let round = 0; round < count; round++)
    for (const { client: loop } of clients) await loop.syncNow();
}

describe('user tokens under open policies (filtered pulls)', () => {
  it('a row deleted on another device and then re-inserted by the user reaches everyone', async () => {
    const { name, central } = await freshDatabase();
    const admin = await client('admin', name, shared.server.adminKey);
    const alice = await client(
      'alice',
      name,
      await shared.server.userToken('alice'),
      'wasm',
      'http',
    );
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
    const admin = await client('admin', name, shared.server.adminKey);
    const bob = await client('bob', name, await shared.server.userToken('bob'));
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
    const admin = await client('admin', name, shared.server.adminKey);
    run(admin.replica, "INSERT INTO items VALUES ('r', 'one')");
    await rounds([admin]);
    run(admin.replica, "DELETE FROM items WHERE id = 'r'");
    await rounds([admin]);
    const carol = await client('carol', name, await shared.server.userToken('carol'));
    await rounds([carol]);
    run(carol.replica, "INSERT INTO items VALUES ('r', 'mine')");
    await rounds([carol, admin]);
    const expected = tableRows(central(), 'items');
    expect(tableRows(admin.replica, 'items'), 'admin device').toEqual(expected);
    expect(tableRows(carol.replica, 'items'), "carol's device").toEqual(expected);
  });
});
