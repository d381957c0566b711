import { openReplica } from '@offsync/adapter-node';
import { type SqliteReplica, SyncClient, WRITE_TIME_SQL } from '@offsync/core';
import { manualEnv } from '@offsync/testkit';
import { describe, expect, it } from 'vitest';
import { dumpHex } from './support/replicas.js';
import { useSharedServer } from './support/shared-server.js';
import { httpTransport, webSocketTransport } from './support/sync-clients.js';

// Issue 9, item 8: last-writer-wins uses the time of the write, not the time the captured write
// is folded (at the next read or sync). Through the real server on loopback.

const SCHEMA = 'CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, title TEXT)';
const shared = useSharedServer('write-time', SCHEMA, ['notes']);
// 2100-01-01: device clocks this far ahead leave SQLite's clock as the earlier, true write time.
const FAR_AHEAD_MS = 4_102_444_800_000;

type Via = 'http' | 'websocket';

function device(via: Via, database: string, name: string, seed: number) {
  const env = manualEnv(FAR_AHEAD_MS, seed);
  const replica = openReplica(':memory:', { env });
  replica.driver.exec(SCHEMA);
  replica.enableSync('notes');
  const client = new SyncClient(replica, {
    transport:
      via === 'http'
        ? httpTransport(shared.server.url, database, undefined, 10_000)
        : webSocketTransport(shared.server.url, database, 10_000),
    token: shared.server.adminKey,
    pollMs: 0,
  });
  shared.track({ name, replica, client });
  return { replica, client, env };
}

function sqliteNow(replica: SqliteReplica): number {
  return Number(replica.driver.prepare(`SELECT ${WRITE_TIME_SQL}`).all()[0]![0]);
}

/** Every row as hex bytes with the storage class. */
function rowBytes(replica: SqliteReplica): string[] {
  return replica.driver
    .prepare("SELECT hex(id) || ' ' || typeof(title) || ':' || hex(title) FROM notes ORDER BY id")
    .all()
    .map((row) => String(row[0]));
}

describe.each<Via>(['http', 'websocket'])('the time of a write through the server (%s)', (via) => {
  it('an edit made offline loses to a later edit of another device, though folded hours later', async () => {
    const { name, central } = await shared.freshDatabase();
    const a = device(via, name, 'a', 1);
    const b = device(via, name, 'b', 2);
    a.replica.driver.exec("INSERT INTO notes VALUES ('n1', 'draft')");
    await a.client.syncNow();
    await b.client.syncNow();

    // A edits offline: captured now, folded only when it next syncs.
    a.replica.driver.exec("UPDATE notes SET title = 'from a, earlier' WHERE id = 'n1'");
    // Read after the write: it happened at or before this millisecond.
    const wroteA = sqliteNow(a.replica);
    // B edits strictly later (SQLite's clock moved on) and syncs.
    let now = sqliteNow(b.replica);
    while (now <= wroteA) now = sqliteNow(b.replica);
    b.env.advance(3 * 3_600_000);
    b.replica.driver.exec("UPDATE notes SET title = 'from b, later' WHERE id = 'n1'");
    await b.client.syncNow();
    // Hours later by A's own clock, A syncs.
    a.env.advance(9 * 3_600_000);
    await a.client.syncNow();
    await b.client.syncNow();

    const expected = [
      `${Buffer.from('n1').toString('hex').toUpperCase()} text:${Buffer.from('from b, later').toString('hex').toUpperCase()}`,
    ];
    expect(rowBytes(central())).toEqual(expected);
    expect(rowBytes(a.replica)).toEqual(expected);
    expect(rowBytes(b.replica)).toEqual(expected);
    expect(dumpHex(a.replica)).toBe(dumpHex(central()));
    expect(dumpHex(b.replica)).toBe(dumpHex(central()));
  });
});
