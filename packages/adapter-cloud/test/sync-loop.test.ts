import type { ClientMessage, ServerMessage, Transport, TransportEvent } from '@offsync/core';
import { describe, expect, it } from 'vitest';
import { openClientReplica, query, run, tableRows } from './support/replicas.js';
import { useSharedServer } from './support/shared-server.js';
import {
  httpTransport,
  startLoop,
  syncUntilConverged,
  type TestClient,
  webSocketTransport,
} from './support/sync-clients.js';
import { waitUntil } from './support/wait.js';

// Regression tests for the client loop and paging, found by the end-to-end and fault tests:
// each names the failure it guards against.
const SCHEMA = 'CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, a TEXT, b TEXT)';
const TABLES = ['items'];

const shared = useSharedServer('loop', SCHEMA, TABLES);
const freshDatabase = shared.freshDatabase;

/** A client whose loop only syncs when asked (no polling), with small pages. */
async function manualClient(
  name: string,
  database: string,
  options: { pageSize?: number; transport?: Transport } = {},
): Promise<TestClient> {
  const replica = await openClientReplica('native', SCHEMA, TABLES);
  const client = startLoop(
    replica,
    options.transport ?? webSocketTransport(shared.server.url, database),
    shared.server.adminKey,
    { pollMs: 0, pageSize: options.pageSize ?? 2 },
  );
  await client.syncNow();
  return shared.track({ name, replica, client });
}

describe('the client loop against a real server', () => {
  it('a client that pulled more rows than fit a page still pushes its own later changes', async () => {
    // The push read a page of pulled (foreign) rows, found nothing of its own in it and stopped,
    // reporting `synced` with the local row never sent.
    const { name, central } = await freshDatabase();
    const writer = await manualClient('writer', name);
    const reader = await manualClient('reader', name);
    for (let i = 0; i < 10; i++)
      run(writer.replica, 'INSERT INTO items(id, a) VALUES (?, ?)', [`w${i}`, 'x']);
    await writer.client.syncNow();
    await reader.client.syncNow();
    run(reader.replica, "INSERT INTO items(id, a) VALUES ('mine', 'y')");
    const status = await reader.client.syncNow();
    expect(status.state).toBe('synced');
    expect(query(central(), "SELECT a FROM items WHERE id = 'mine'")).toEqual([['y']]);
  });

  it('a pull page after the first brings the older cells of a row a later write moved past the first page', async () => {
    // Pages are cut by each row's latest sequence; "cells after the page cursor" dropped the
    // cells a row had before, so the reader got q without its column a.
    const { name, central } = await freshDatabase();
    const writer = await manualClient('writer', name);
    run(writer.replica, "INSERT INTO items VALUES ('q', 'qa', 'qb')");
    await writer.client.syncNow();
    run(writer.replica, "INSERT INTO items VALUES ('p', 'pa', 'pb')");
    await writer.client.syncNow();
    run(writer.replica, "INSERT INTO items VALUES ('s', 'sa', 'sb')");
    await writer.client.syncNow();
    run(writer.replica, "UPDATE items SET b = 'qb2' WHERE id = 'q'");
    await writer.client.syncNow();
    const reader = await manualClient('reader', name);
    expect(tableRows(reader.replica, 'items')).toEqual(tableRows(central(), 'items'));
    await syncUntilConverged(() => [writer, reader], central, 10_000);
  });

  it('a push page after the first brings the older local cells of a row a merge moved past the first page', async () => {
    // Same cut on the client: its own insert of q (written first) sat in a row that a pulled
    // change moved to the end, so q's own cells never reached the server.
    const { name, central } = await freshDatabase();
    const other = await manualClient('other', name);
    run(other.replica, "INSERT INTO items(id, b) VALUES ('q', 'remote')");
    await other.client.syncNow();
    const replica = await openClientReplica('native', SCHEMA, TABLES);
    let writeDuringPull = true;
    const transport = beforeFirstPull(webSocketTransport(shared.server.url, name), () => {
      // Written while the first pull is on its way; the pull then merges q from `other`.
      run(replica, "INSERT INTO items VALUES ('q', 'qa', NULL)");
      run(replica, "INSERT INTO items VALUES ('p', 'pa', 'pb')");
      run(replica, "INSERT INTO items VALUES ('s', 'sa', 'sb')");
      writeDuringPull = false;
    });
    const client = startLoop(replica, transport, shared.server.adminKey, {
      pollMs: 0,
      pageSize: 2,
    });
    const mine = { name: 'client', replica, client };
    shared.track(mine);
    await client.syncNow();
    expect(writeDuringPull).toBe(false);
    await client.syncNow();
    expect(query(central(), "SELECT a, b FROM items WHERE id = 'q'")).toEqual([['qa', null]]);
    await syncUntilConverged(() => [other, mine], central, 10_000);
  });

  it('a local write made while a sync is under way is pushed without another trigger', async () => {
    // The cycle took the local-change mark at its end, so a write made during its pull looked
    // already handled to the poller: `synced`, with the write never sent.
    const { name, central } = await freshDatabase();
    const replica = await openClientReplica('native', SCHEMA, TABLES);
    const transport = beforeFirstPull(webSocketTransport(shared.server.url, name), () =>
      run(replica, "INSERT INTO items(id, a) VALUES ('during', 'pull')"),
    );
    const client = startLoop(replica, transport, shared.server.adminKey, { pollMs: 10 });
    shared.track({ name: 'client', replica, client });
    await waitUntil(() => query(central(), "SELECT 1 FROM items WHERE id = 'during'").length > 0, {
      timeoutMs: 5_000,
      message: () =>
        `the write made during the pull never reached the server (client ${client.status.state}, pending ${client.status.pending})`,
    });
  });

  it('an HTTP client receives other clients changes without writing or asking', async () => {
    // HTTP carries no notifications: without polling the server, a reading device never updated.
    const { name, central } = await freshDatabase();
    const replica = await openClientReplica('native', SCHEMA, TABLES);
    const reader = startLoop(
      replica,
      httpTransport(shared.server.url, name),
      shared.server.adminKey,
      {
        pollMs: 10,
        pullEveryMs: 100,
      },
    );
    shared.track({ name: 'reader', replica, client: reader });
    await waitUntil(() => reader.status.state === 'synced', {
      timeoutMs: 5_000,
      message: () => `the reader did not sync (${reader.status.state})`,
    });
    const writer = await manualClient('writer', name);
    run(writer.replica, "INSERT INTO items(id, a) VALUES ('news', 'fresh')");
    await writer.client.syncNow();
    expect(query(central(), "SELECT a FROM items WHERE id = 'news'")).toEqual([['fresh']]);
    await waitUntil(() => query(replica, "SELECT 1 FROM items WHERE id = 'news'").length > 0, {
      timeoutMs: 5_000,
      message: () => `the HTTP reader never pulled the new row (${reader.status.state})`,
    });
  });
});

/** A transport that runs `action` just before its first pull request leaves. */
function beforeFirstPull(inner: Transport, action: () => void): Transport {
  let done = false;
  return {
    request: async (message: ClientMessage): Promise<ServerMessage> => {
      if (message.type === 'pull' && !done) {
        done = true;
        action();
      }
      return inner.request(message);
    },
    subscribe: (listener: (event: TransportEvent) => void) => inner.subscribe(listener),
    close: () => inner.close(),
  };
}
