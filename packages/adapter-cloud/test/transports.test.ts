import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HttpTransport,
  issueDevToken,
  loadServerConfig,
  startServer,
  type WebSocketConstructor,
  WebSocketTransport,
} from '@offsync/adapter-cloud';
import { openReplica } from '@offsync/adapter-node';
import { type Transport, TransportError } from '@offsync/core';
import {
  runTransportConformance,
  type TransportClient,
  type TransportFixture,
} from '@offsync/testkit';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

// Both transports against a real server on loopback, through the shared transport suite.

const SCHEMA =
  "CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, tenant TEXT NOT NULL DEFAULT '', title TEXT, done INTEGER NOT NULL DEFAULT 0)";

type Via = 'http' | 'ws';

function makeTransport(via: Via, url: string, database: string): Transport {
  return via === 'http'
    ? new HttpTransport({ url, database, timeoutMs: 5_000 })
    : new WebSocketTransport({
        url,
        database,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
        timeoutMs: 5_000,
      });
}

/** A URL where nothing listens: a port that was just free. */
async function deadUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

async function fixture(via: Via): Promise<TransportFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), `offsync-transport-${via}-`));
  const server = await startServer({ dataDir, port: 0, host: '127.0.0.1', log: () => undefined });
  const admin = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${server.url}/v1/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${server.generatedAdminKey}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${await response.text()}`);
  };
  await admin('POST', '/databases', { name: 'todos', schema: SCHEMA });
  await admin('PUT', '/databases/todos/tables/todos/sync', { enabled: true });
  for (const operation of ['select', 'insert', 'update', 'delete'])
    await admin('PUT', `/databases/todos/policies/todos/${operation}`, {
      expression: 'tenant = auth.tenant',
    });
  const secret = loadServerConfig(dataDir).jwt.hs256Secret!;
  const replicas: ReturnType<typeof openReplica>[] = [];

  const client = async (sub: string): Promise<TransportClient> => {
    const replica = openReplica(':memory:');
    replicas.push(replica);
    replica.db.exec(SCHEMA);
    replica.enableSync('todos');
    const info = replica.tableInfo('todos');
    let sent = 0;
    let rows = 0;
    return {
      transport: makeTransport(via, server.url, 'todos'),
      site: replica.site,
      token: await issueDevToken({ secret, sub, ttlSeconds: 600, claims: { tenant: 'acme' } }),
      schemas: { todos: { canonical: info.canonical, fingerprint: info.fingerprint } },
      changeset: () => {
        rows++;
        replica.db
          .prepare('INSERT INTO todos(id, tenant, title, done) VALUES (?, ?, ?, ?)')
          .run(`${sub}-${rows}`, 'acme', `${sub}'s todo #${rows} ✓`, rows % 2);
        const page = replica.changesetSince(sent, { onlySite: replica.site });
        sent = page.cursor;
        return page.bytes;
      },
    };
  };

  let stopped = false;
  const stopServer = async () => {
    if (stopped) return;
    stopped = true;
    await server.close();
  };
  const unreachableUrl = await deadUrl();
  return {
    ...(await client('alice')),
    peer: () => client('bob'),
    unreachable: () => makeTransport(via, unreachableUrl, 'todos'),
    notifies: via === 'ws',
    stopServer,
    teardown: async () => {
      await stopServer();
      for (const replica of replicas) replica.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

runTransportConformance(() => fixture('http'), 'HttpTransport');
runTransportConformance(() => fixture('ws'), 'WebSocketTransport (ws)');

describe('transport construction', () => {
  it('refuses requests once closed, with a typed TransportError', async () => {
    for (const via of ['http', 'ws'] as const) {
      const transport = makeTransport(via, 'http://127.0.0.1:9', 'todos');
      transport.close();
      await expect(
        transport.request({
          type: 'pull',
          id: 1,
          site: '00'.repeat(16),
          cursor: 0,
          limit: 1,
          tables: [],
          pending: 0,
        }),
      ).rejects.toBeInstanceOf(TransportError);
    }
  });
});

describe('HttpTransport behind something that is not the sync server', () => {
  it('reports a proxy error page as unreachable (TransportError), not a protocol fault', async () => {
    const proxy = createServer((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = proxy.address() as AddressInfo;
      const transport = new HttpTransport({ url: `http://127.0.0.1:${port}`, database: 'todos' });
      const failure = await transport
        .request({
          type: 'pull',
          id: 1,
          site: '00'.repeat(16),
          cursor: 0,
          limit: 1,
          tables: [],
          pending: 0,
        })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TransportError);
      expect((failure as TransportError).reason).toContain('HTTP 502');
      transport.close();
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
