// The client-side logger hook (SyncClientOptions.logger) against a real server on 127.0.0.1: a
// real replica connects, pushes, pulls, has a write refused by policy and a table refused at
// hello, loses the server (offline, retry with backoff) and reconnects. Every event arrives at
// the level it belongs to, none carries the token, and a logger that throws stops nothing.
import { openReplica } from '@offsync/adapter-node';
import type { SyncClient, SyncLogEvent, SyncLogger } from '@offsync/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNode } from '../src/index.js';
import { TestServer } from './support/test-server.js';
import { waitUntil } from './support/wait.js';

const SCHEMA = [
  'CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT)',
  'CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, body TEXT)',
].join(';\n');

type Level = keyof SyncLogger;
interface Logged {
  readonly level: Level;
  readonly event: SyncLogEvent;
  readonly message: string;
}

function recorder(): { logger: SyncLogger; lines: Logged[] } {
  const lines: Logged[] = [];
  const at =
    (level: Level) =>
    (event: SyncLogEvent, message: string): void => {
      lines.push({ level, event, message });
    };
  return {
    lines,
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
  };
}

let server: TestServer;
let token = '';

beforeAll(async () => {
  server = await TestServer.start();
  // Only todos is synced on the server: the client's notes is refused at hello.
  await server.createDatabase('app', SCHEMA, ['todos'], { openToUsers: true });
  await server.admin('PUT', '/databases/app/policies/todos/insert', {
    expression: "title <> 'forbidden'",
  });
  token = await server.userToken('alice');
});

afterAll(async () => {
  await server?.dispose();
});

describe('the SyncClient logger hook', () => {
  const replica = openReplica(':memory:');
  const { logger, lines } = recorder();
  let client: SyncClient | undefined;

  afterAll(async () => {
    await client?.disconnect();
    replica.close();
  });

  it('reports connect, push, pull and refusals as structured events at their levels', async () => {
    replica.db.exec(SCHEMA);
    replica.enableSync('todos');
    replica.enableSync('notes');
    replica.db.prepare("INSERT INTO todos VALUES ('t1', 'milk'), ('t2', 'forbidden')").run();
    client = connectNode(replica, { url: server.url, database: 'app', token, logger });
    await waitUntil(() => client!.status.state === 'synced' && client!.status.pending === 0, {
      timeoutMs: 10_000,
      message: () => JSON.stringify(client!.status),
    });

    const connect = lines.find((line) => line.event.event === 'connect');
    expect(connect).toMatchObject({
      level: 'info',
      event: { site: replica.site, tables: ['todos'], refused: ['notes'], resync: false },
    });
    expect(
      lines.find((line) => line.event.event === 'refusal' && line.event.table === 'notes'),
    ).toMatchObject({ level: 'warn', event: { kind: 'not-enabled' } });
    const pushes = lines.filter((line) => line.event.event === 'push');
    expect(pushes.length).toBeGreaterThan(0);
    // The push that had a row refused is told at info, with the count; clean pushes at debug.
    expect(
      pushes.some(
        (line) => line.level === 'info' && line.event.event === 'push' && line.event.refusals === 1,
      ),
    ).toBe(true);
    for (const push of pushes)
      if (push.event.event === 'push' && push.event.refusals === 0)
        expect(push.level).toBe('debug');
    expect(lines.some((line) => line.event.event === 'pull' && line.level === 'debug')).toBe(true);
    const refused = lines.find(
      (line) => line.event.event === 'refusal' && line.event.table === 'todos',
    );
    expect(refused).toMatchObject({ level: 'warn', event: { kind: 'refused' } });
    expect(refused!.event.event === 'refusal' && refused!.event.reason).toMatch(/insert/);
    expect(JSON.stringify(lines)).not.toContain(token);
  });

  it('reports going offline and each retry with its delay, then reconnects', async () => {
    const before = lines.length;
    await server.stop();
    await waitUntil(() => lines.slice(before).some((line) => line.event.event === 'retry'), {
      timeoutMs: 10_000,
      message: () => JSON.stringify(lines.slice(before)),
    });
    const retry = lines.slice(before).find((line) => line.event.event === 'retry')!;
    expect(retry.level).toBe('info');
    expect(retry.event).toMatchObject({ state: 'offline', attempt: 1 });
    expect(retry.event.event === 'retry' && retry.event.delayMs).toBeGreaterThan(0);
    expect(client!.status.state).toBe('offline');

    await server.restart();
    const reconnecting = lines.length;
    replica.db.prepare("INSERT INTO todos VALUES ('t3', 'bread')").run();
    await waitUntil(
      () =>
        lines.slice(reconnecting).some((line) => line.event.event === 'connect') &&
        client!.status.state === 'synced' &&
        client!.status.pending === 0,
      { timeoutMs: 15_000, message: () => JSON.stringify(client!.status) },
    );
  });

  it('reports a refused request as an error event, and keeps syncing when the logger throws', async () => {
    const throwing: SyncLogger = {
      debug: () => {
        throw new Error('debug sink down');
      },
      info: () => {
        throw new Error('info sink down');
      },
      warn: () => {
        throw new Error('warn sink down');
      },
      error: () => {
        throw new Error('error sink down');
      },
    };
    const other = openReplica(':memory:');
    try {
      other.db.exec(SCHEMA);
      other.enableSync('todos');
      other.db.prepare("INSERT INTO todos VALUES ('o1', 'eggs')").run();
      const quiet = connectNode(other, {
        url: server.url,
        database: 'app',
        token,
        logger: throwing,
        manual: true,
      });
      const status = await quiet.syncNow();
      expect(status.pending).toBe(0);
      await quiet.disconnect();

      // A wrong token: the server's 401 arrives as an `error` event at warn.
      const { logger: seen, lines: seenLines } = recorder();
      const refused = connectNode(other, {
        url: server.url,
        database: 'app',
        token: `${token.slice(0, -4)}AAAA`,
        logger: seen,
        manual: true,
      });
      await expect(refused.syncNow()).rejects.toThrow();
      await refused.disconnect();
      expect(seenLines.find((line) => line.event.event === 'error')).toMatchObject({
        level: 'warn',
        event: { request: 'hello', code: 'unauthorized', status: 401 },
      });
    } finally {
      other.close();
    }
  });
});
