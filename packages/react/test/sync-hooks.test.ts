// The status and refusal stores over a real SyncClient syncing with a real server on 127.0.0.1
// (better-sqlite3 replica, WebSocket): the refusal log listens only while it has listeners, keeps
// refusals newest first and caps them; useSyncStatus and useRefusals render them in Node.
import { type NodeReplica, openReplica } from '@offsync/adapter-node';
import type { SyncClient, WriteRefusal } from '@offsync/core';
import { createElement, type ReactElement } from 'react';
import { renderToString } from 'react-dom/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNode } from '../../adapter-cloud/src/index.js';
import { TestServer } from '../../adapter-cloud/test/support/test-server.js';
import {
  MissingSourceError,
  OffsyncProvider,
  REFUSAL_LOG_SIZE,
  refusalLog,
  useRefusals,
  useSyncStatus,
} from '../src/index.js';
import { TODOS_SQL } from './app/protocol.js';

let server: TestServer;
let replica: NodeReplica;
let client: SyncClient;

beforeAll(async () => {
  server = await TestServer.start();
  await server.createDatabase('app', TODOS_SQL, ['todos']);
  for (const [operation, expression] of Object.entries({
    select: 'true',
    insert: "title NOT LIKE 'forbidden%'",
    update: 'true',
    delete: 'true',
  }))
    await server.admin('PUT', `/databases/app/policies/todos/${operation}`, { expression });
  replica = openReplica(':memory:');
  replica.db.exec(TODOS_SQL);
  replica.enableSync('todos');
  client = connectNode(replica, {
    url: server.url,
    database: 'app',
    token: await server.userToken('alice'),
    manual: true,
  });
}, 30_000);

afterAll(async () => {
  await client?.disconnect();
  replica?.close();
  await server?.dispose();
});

/** Inserts rows and syncs until the server has answered for them. */
async function insertAndSync(rows: readonly [string, string][]): Promise<void> {
  const insert = replica.db.prepare('INSERT INTO todos(id, title) VALUES (?, ?)');
  for (const [id, title] of rows) insert.run(id, title);
  await client.syncNow();
}

function Status(): ReactElement {
  const status = useSyncStatus();
  return createElement('p', null, `${status.state} ${status.pending}`);
}

function Refusals(props: { limit?: number }): ReactElement {
  const refusals = useRefusals(props.limit === undefined ? {} : { limit: props.limit });
  return createElement('p', null, refusals.map((r) => `${r.kind}:${String(r.key[0])}`).join(' '));
}

describe('refusalLog over a real client', () => {
  it('records nothing without listeners, then every refusal newest first while listened to', async () => {
    const log = refusalLog(client);
    expect(refusalLog(client)).toBe(log); // one log per client
    await insertAndSync([['f0', 'forbidden before anyone listens']]);
    expect(log.getSnapshot()).toEqual([]);

    let told = 0;
    const stop = log.subscribe(() => told++);
    const empty = log.getSnapshot();
    expect(log.getSnapshot()).toBe(empty);
    await insertAndSync([
      ['f1', 'forbidden one'],
      ['ok', 'allowed'],
    ]);
    await insertAndSync([['f2', 'forbidden two']]);
    const entries: readonly WriteRefusal[] = log.getSnapshot();
    expect(entries.map((r) => [r.kind, r.table, r.key, r.deleted])).toEqual([
      ['refused', 'todos', ['f2'], false],
      ['refused', 'todos', ['f1'], false],
    ]);
    expect(entries[0]!.values).toMatchObject({ title: 'forbidden two' });
    expect(entries[0]!.reason).toMatch(/insert policy/);
    expect(told).toBe(2);
    // The refused rows reverted; the allowed one stayed (compared as SQLite's literals).
    expect(
      replica.db.prepare('SELECT quote(id), quote(title) FROM todos ORDER BY id').raw().all(),
    ).toEqual([["'ok'", "'allowed'"]]);

    // Rendered by the hooks from the same log.
    const html = renderToString(
      createElement(
        OffsyncProvider,
        { client },
        createElement(Status),
        createElement(Refusals),
        createElement(Refusals, { limit: 1 }),
      ),
    );
    expect(html).toBe('<p>synced 0</p><p>refused:f2 refused:f1</p><p>refused:f2</p>');

    log.clear();
    expect(log.getSnapshot()).toEqual([]);
    expect(told).toBe(3);

    stop();
    await insertAndSync([['f3', 'forbidden after the last listener left']]);
    expect(log.getSnapshot()).toEqual([]);
    expect(told).toBe(3);
  });

  it(`keeps the newest ${REFUSAL_LOG_SIZE}`, async () => {
    const log = refusalLog(client);
    const stop = log.subscribe(() => undefined);
    const rows: [string, string][] = [];
    for (let i = 0; i < REFUSAL_LOG_SIZE + 5; i++)
      rows.push([`g${String(i).padStart(3, '0')}`, `forbidden ${i}`]);
    await insertAndSync(rows);
    const entries = log.getSnapshot();
    expect(entries).toHaveLength(REFUSAL_LOG_SIZE);
    const keys = new Set(entries.map((r) => String(r.key[0])));
    // Which five fell off depends on the order the server lists them; a hundred distinct remain.
    expect(keys.size).toBe(REFUSAL_LOG_SIZE);
    stop();
    log.clear();
  });

  it('throws MissingSourceError naming the hook without a client', () => {
    expect(() => renderToString(createElement(Status))).toThrow(MissingSourceError);
    try {
      renderToString(createElement(OffsyncProvider, { replica }, createElement(Refusals)));
    } catch (error) {
      expect(error).toBeInstanceOf(MissingSourceError);
      expect((error as MissingSourceError).hook).toBe('useRefusals');
      expect((error as MissingSourceError).missing).toBe('client');
      return;
    }
    expect.unreachable('useRefusals rendered without a client');
  });
});
