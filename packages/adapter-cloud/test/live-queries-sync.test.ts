import type { ReplicaChange, SqliteReplica } from '@offsync/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClientReplica, query, type ReplicaKind, run, tableRows } from './support/replicas.js';
import { startLoop, webSocketTransport } from './support/sync-clients.js';
import { TestServer } from './support/test-server.js';
import { waitUntil } from './support/wait.js';

const SCHEMA =
  'CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT, done INTEGER DEFAULT 0)';

let server: TestServer;

beforeAll(async () => {
  server = await TestServer.start();
});

afterAll(async () => {
  await server.dispose();
});

// The path a UI takes: the app writes with plain SQL on one device and never calls
// notifyChanges; the sync loop's poll finds the commit, pushes it, and the other device's live
// query calls back when the pull merges it.
describe.each<[ReplicaKind, ReplicaKind]>([
  ['native', 'wasm'],
  ['wasm', 'native'],
])('live queries through the sync server (%s writes, %s watches)', (writer, watcher) => {
  it('a plain-SQL write on one device reaches a live query on the other', async () => {
    const database = `live-${writer}-${watcher}`;
    await server.createDatabase(database, SCHEMA, ['todos']);
    const a: SqliteReplica = await openClientReplica(writer, SCHEMA, ['todos']);
    const b: SqliteReplica = await openClientReplica(watcher, SCHEMA, ['todos']);
    const localOnA: ReplicaChange[] = [];
    a.onChange((change) => localOnA.push(change));
    const remoteOnB: ReplicaChange[] = [];
    b.onChange((change) => remoteOnB.push(change));
    const results: (readonly unknown[])[] = [];
    const live = b.watch<{ id: string; title: string; done: number }>(
      'SELECT id, title, done FROM todos WHERE done = 0 ORDER BY id',
      [],
      (rows) => results.push(rows),
      { rows: 'object', integers: 'number' },
    );
    const clients = [a, b].map((replica) =>
      startLoop(replica, webSocketTransport(server.url, database), server.adminKey),
    );
    try {
      run(a, "INSERT INTO todos(id, title) VALUES ('t1', 'milk'), ('t2', 'eggs')");
      await waitUntil(() => live.rows.length === 2, {
        timeoutMs: 10_000,
        message: () => `B's live rows: ${JSON.stringify(live.rows)}`,
      });
      expect(JSON.stringify(live.rows)).toBe(
        '[{"id":"t1","title":"milk","done":0},{"id":"t2","title":"eggs","done":0}]',
      );
      // The poll delivered A's own commit as a local event; B heard merges only.
      expect(localOnA.some((change) => change.source === 'local')).toBe(true);
      expect(remoteOnB.length).toBeGreaterThan(0);
      expect(remoteOnB.every((change) => change.source === 'remote')).toBe(true);
      run(a, "UPDATE todos SET done = 1 WHERE id = 't1'");
      await waitUntil(() => live.rows.length === 1, {
        timeoutMs: 10_000,
        message: () => `B's live rows: ${JSON.stringify(live.rows)}`,
      });
      expect(live.rows).toEqual([{ id: 't2', title: 'eggs', done: 0 }]);
      // Every callback carried a new result, and the last one is what B's table holds, by bytes.
      for (let i = 1; i < results.length; i++)
        expect(JSON.stringify(results[i])).not.toBe(JSON.stringify(results[i - 1]));
      expect(results.at(-1)).toBe(live.rows);
      expect(tableRows(b, 'todos')).toEqual(tableRows(a, 'todos'));
      expect(query(b, 'SELECT count(*) FROM todos WHERE done = 0')).toEqual([[1n]]);
    } finally {
      live.stop();
      for (const client of clients) await client.disconnect();
      a.close();
      b.close();
    }
  });
});
