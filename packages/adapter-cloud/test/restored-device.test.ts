import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReplica } from '@offsync/adapter-node';
import { type SqliteReplica, SyncClient, type Transport } from '@offsync/core';
import { MANUAL_START_MS, manualEnv } from '@offsync/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { dumpHex } from './support/replicas.js';
import { useSharedServer } from './support/shared-server.js';
import { httpTransport, webSocketTransport } from './support/sync-clients.js';

// Issue 9, item 20: a device restored from a backup has its old site id and an older clock; it
// must notice (the server holds stamps of its site it never issued), take a new site id, and
// lose nothing: neither what its earlier self synced after the backup, nor what it writes after
// the restore. Through the real server on loopback, replicas in files copied as a backup would.

const SCHEMA = 'CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, v TEXT)';
const shared = useSharedServer('restored', SCHEMA, ['items']);
const directories: string[] = [];

afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

type Via = 'http' | 'websocket';

function transportFor(via: Via, database: string): Transport {
  return via === 'http'
    ? httpTransport(shared.server.url, database, undefined, 10_000)
    : webSocketTransport(shared.server.url, database, 10_000);
}

function connect(replica: SqliteReplica, via: Via, database: string, name: string): SyncClient {
  const client = new SyncClient(replica, {
    transport: transportFor(via, database),
    token: shared.server.adminKey,
    pollMs: 0,
  });
  shared.track({ name, replica, client });
  return client;
}

/** Every row as the hex of each column with its storage class: the bytes replicas must share. */
function rowBytes(replica: SqliteReplica): string[] {
  return replica.driver
    .prepare(
      "SELECT hex(id) || ' ' || typeof(v) || ':' || hex(v) FROM items ORDER BY id COLLATE BINARY",
    )
    .all()
    .map((row) => String(row[0]));
}

function hexRow(id: string, value: string): string {
  const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex').toUpperCase();
  return `${hex(id)} text:${hex(value)}`;
}

describe.each<Via>(['http', 'websocket'])('a device restored from a backup (%s)', (via) => {
  it('takes a new site id and converges byte for byte, losing nothing', async () => {
    const { name, central } = await shared.freshDatabase();
    const directory = mkdtempSync(join(tmpdir(), 'offsync-restore-'));
    directories.push(directory);
    const backup = join(directory, 'backup.db');

    // Device clocks are manual, so the restored copy issues the very stamps its earlier self did.
    const env = manualEnv(MANUAL_START_MS, 7);
    const device = openReplica(join(directory, 'device.db'), { env });
    device.driver.exec(SCHEMA);
    device.enableSync('items');
    const original = connect(device, via, name, 'device');
    const other = openReplica(':memory:');
    other.driver.exec(SCHEMA);
    other.enableSync('items');
    const otherClient = connect(other, via, name, 'other');

    device.driver.exec("INSERT INTO items VALUES ('r1', 'one'), ('r2', 'two')");
    await original.syncNow();
    device.driver.exec(`VACUUM INTO '${backup}'`);
    const site = device.site;

    // After the backup the device syncs more, then is lost.
    env.advance(500);
    device.driver.exec("UPDATE items SET v = 'one, after the backup' WHERE id = 'r1'");
    await original.syncNow();
    env.advance(500);
    device.driver.exec("INSERT INTO items VALUES ('r3', 'three')");
    await original.syncNow();
    await otherClient.syncNow();
    await original.disconnect();
    device.close();

    // Restored from the backup: same site id, the backup's clock. Before it syncs it writes, in
    // the millisecond its earlier self wrote r1: it reissues that very stamp, with other cells
    // and, for r1, another value.
    const restoredEnv = manualEnv(MANUAL_START_MS, 8);
    restoredEnv.advance(500);
    const restored = openReplica(backup, { env: restoredEnv });
    expect(restored.site).toBe(site);
    restored.driver.exec("UPDATE items SET v = 'two, after the restore' WHERE id = 'r2'");
    restored.driver.exec("UPDATE items SET v = 'one, after the restore' WHERE id = 'r1'");
    restored.driver.exec("INSERT INTO items VALUES ('r4', 'four')");
    expect(
      restored
        .changesSince(0)
        .changes.some((change) => change.stamp.wall === MANUAL_START_MS + 500),
    ).toBe(true);
    const restoredClient = connect(restored, via, name, 'restored');
    await restoredClient.syncNow();
    await otherClient.syncNow();
    await restoredClient.syncNow();

    expect(restored.site).not.toBe(site);
    // r1 was written twice at one time and place (the old site's stamp and the new site's): one
    // of the two wins, the same one everywhere.
    const r1 = rowBytes(central())[0]!;
    expect([
      hexRow('r1', 'one, after the backup'),
      hexRow('r1', 'one, after the restore'),
    ]).toContain(r1);
    const expected = [
      r1,
      hexRow('r2', 'two, after the restore'),
      hexRow('r3', 'three'),
      hexRow('r4', 'four'),
    ];
    expect(rowBytes(central())).toEqual(expected);
    expect(rowBytes(restored)).toEqual(expected);
    expect(rowBytes(other)).toEqual(expected);
    expect(dumpHex(restored)).toBe(dumpHex(central()));
    expect(dumpHex(other)).toBe(dumpHex(central()));
    expect(restoredClient.status.pending).toBe(0);

    // The restored device's next writes are its new site's, and reach everyone.
    restored.driver.exec("UPDATE items SET v = 'one, later still' WHERE id = 'r1'");
    await restoredClient.syncNow();
    await otherClient.syncNow();
    expect(rowBytes(other)[0]).toBe(hexRow('r1', 'one, later still'));
    expect(dumpHex(other)).toBe(dumpHex(restored));
  });

  it('a device that was not restored keeps its site id', async () => {
    const { name } = await shared.freshDatabase();
    const device = openReplica(':memory:');
    device.driver.exec(SCHEMA);
    device.enableSync('items');
    const client = connect(device, via, name, 'device');
    const site = device.site;
    device.driver.exec("INSERT INTO items VALUES ('r1', 'one')");
    await client.syncNow();
    device.driver.exec("UPDATE items SET v = 'two' WHERE id = 'r1'");
    await client.syncNow();
    await client.disconnect();
    // A new session (a restart) says hello again with the server holding our stamps.
    const again = connect(device, via, name, 'device again');
    await again.syncNow();
    expect(device.site).toBe(site);
  });
});
