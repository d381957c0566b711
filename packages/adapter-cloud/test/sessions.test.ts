import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NodeReplica, openReplica } from '@offsync/adapter-node';
import { type ClientMessage, type ServerMessage, SyncClient } from '@offsync/core';
import { decodeServerMessage, encodeMessage, PROTOCOL_VERSION } from '@offsync/core/codec';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ApiKeyStore,
  databaseAudience,
  generateApiKey,
  issueDevToken,
  type RunningServer,
  ServerConfigError,
  type ServerOptions,
  startServer,
  TOKEN_EXPIRED_CLOSE_CODE,
} from '../src/index.js';
import { openRawSocket, type RawSocket } from './support/raw-socket.js';
import { FAST_LOOP, httpTransport, webSocketTransport } from './support/sync-clients.js';
import { waitUntil } from './support/wait.js';

// Item 2 and 7 of issue 9 through the real server on loopback: a session ends when its token
// expires (at the next message, and by a timer when the socket is idle), the client gets a fresh
// token and carries on by itself, the clock leeway is a server setting, and a user token bound
// to one database is refused on every other.

const SCHEMA = 'CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, body TEXT)';
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

interface Harness {
  readonly server: RunningServer;
  readonly dataDir: string;
  readonly adminKey: string;
  readonly secret: string;
}

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function harness(
  options: Partial<ServerOptions> = {},
  jwt: Record<string, unknown> = {},
): Promise<Harness> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'offsync-sessions-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const secret = 'a-development-secret-of-at-least-32-bytes';
  writeFileSync(
    join(dataDir, 'server.json'),
    JSON.stringify({ jwt: { hs256Secret: secret, ...jwt } }),
  );
  const adminKey = generateApiKey('admin');
  const server = await startServer({
    port: 0,
    adminKey,
    log: () => undefined,
    limits: { requestsPerSecond: 100_000, burst: 100_000 },
    ...options,
    dataDir,
  });
  cleanups.push(() => server.close());
  return { server, dataDir, adminKey, secret };
}

async function admin(h: Harness, method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${h.server.url}/v1/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`admin ${method} ${path}: ${await response.text()}`);
}

/** A database holding `notes`, synced and open to every user. */
async function database(h: Harness, name: string): Promise<void> {
  await admin(h, 'POST', '/databases', { name, schema: SCHEMA });
  await admin(h, 'PUT', `/databases/${name}/tables/notes/sync`, { enabled: true });
  for (const operation of ['select', 'insert', 'update', 'delete'])
    await admin(h, 'PUT', `/databases/${name}/policies/notes/${operation}`, { expression: 'true' });
}

function replica(): NodeReplica {
  const local = openReplica(':memory:');
  local.db.exec(SCHEMA);
  local.enableSync('notes');
  cleanups.push(() => local.close());
  return local;
}

function hello(local: NodeReplica, token: string): ClientMessage {
  const info = local.tableInfo('notes');
  return {
    type: 'hello',
    id: 1,
    protocol: PROTOCOL_VERSION,
    site: local.site,
    token,
    schemas: { notes: { canonical: info.canonical, fingerprint: info.fingerprint } },
  };
}

function push(local: NodeReplica, id: number): ClientMessage {
  const page = local.changesetSince(0, { onlySite: local.site });
  return { type: 'push', id, site: local.site, upTo: page.cursor, changeset: page.bytes };
}

/** The central `notes` rows, every column as SQLite's quote() of its bytes. */
function centralRows(h: Harness, name: string): string[] {
  return h.server.store
    .open(name)
    .replica.driver.prepare('SELECT quote(id), quote(CAST(body AS BLOB)) FROM notes ORDER BY id')
    .all()
    .map((row) => row.join(' '));
}

function localRows(local: NodeReplica): string[] {
  return local.driver
    .prepare('SELECT quote(id), quote(CAST(body AS BLOB)) FROM notes ORDER BY id')
    .all()
    .map((row) => row.join(' '));
}

async function rawSocket(h: Harness, name: string): Promise<RawSocket> {
  const raw = await openRawSocket(h.server.url, name);
  cleanups.push(() => raw.socket.terminate());
  return raw;
}

async function httpSync(
  h: Harness,
  name: string,
  message: ClientMessage,
  token: string,
): Promise<{ status: number; message: ServerMessage }> {
  const response = await fetch(`${h.server.url}/v1/databases/${name}/sync`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: Buffer.from(encodeMessage(message)),
  });
  return {
    status: response.status,
    message: decodeServerMessage(new Uint8Array(await response.arrayBuffer())),
  };
}

describe('a session ends when its token expires', () => {
  it('refuses the first message after exp + leeway, closes the socket, and stores nothing of it', async () => {
    let clock = Date.UTC(2026, 0, 1, 9);
    const h = await harness({ now: () => clock, clockLeewaySeconds: 5 });
    await database(h, 'a');
    const local = replica();
    const token = await issueDevToken({
      secret: h.secret,
      sub: 'alice',
      ttlSeconds: 60,
      audience: databaseAudience('a'),
      env: { now: () => clock },
    });
    const socket = await rawSocket(h, 'a');
    expect((await socket.request(hello(local, token))).type).toBe('welcome');
    local.db.prepare('INSERT INTO notes VALUES (?, ?)').run('n1', 'before expiry');
    expect(await socket.request(push(local, 2))).toMatchObject({
      type: 'pushResult',
      accepted: true,
    });

    // Past exp but inside the 5 s leeway: still the session of a valid token.
    clock += 64_000;
    expect((await socket.request({ ...push(local, 3) })).type).toBe('pushResult');

    // Past exp + leeway: refused before any work, then the socket closes with the expiry code.
    clock += 2_000;
    local.db.prepare('INSERT INTO notes VALUES (?, ?)').run('n2', 'after expiry');
    const refused = await socket.request(push(local, 4));
    expect(refused).toMatchObject({ type: 'error', status: 401, code: 'unauthorized' });
    expect(refused.type === 'error' && refused.message).toMatch(/token expired/);
    expect(await socket.closed).toEqual({
      code: TOKEN_EXPIRED_CLOSE_CODE,
      reason: 'token expired; reconnect with a fresh token',
    });
    expect(centralRows(h, 'a')).toEqual(["'n1' X'6265666F726520657870697279'"]);
  });

  it('closes an idle socket by itself when its token expires', async () => {
    const h = await harness({ clockLeewaySeconds: 0 });
    await database(h, 'a');
    // exp is in whole seconds: a 2 s token has at least one second left when hello lands.
    const token = await issueDevToken({ secret: h.secret, sub: 'alice', ttlSeconds: 2 });
    const socket = await rawSocket(h, 'a');
    expect((await socket.request(hello(replica(), token))).type).toBe('welcome');
    // Nothing more is sent: only the server's timer can end this session.
    expect(await socket.closed).toEqual({
      code: TOKEN_EXPIRED_CLOSE_CODE,
      reason: 'token expired; reconnect with a fresh token',
    });
  });

  it.each(['websocket', 'http'] as const)(
    'the client refreshes through its token function and keeps syncing without user action (%s)',
    async (via) => {
      const h = await harness({ clockLeewaySeconds: 0 });
      await database(h, 'a');
      const local = replica();
      let issued = 0;
      const client = new SyncClient(local, {
        transport:
          via === 'websocket'
            ? webSocketTransport(h.server.url, 'a')
            : httpTransport(h.server.url, 'a'),
        pullEveryMs: 100,
        token: () => {
          issued++;
          return issueDevToken({ secret: h.secret, sub: 'alice', ttlSeconds: 1 });
        },
        ...FAST_LOOP,
      });
      cleanups.push(() => client.disconnect());
      client.start();
      local.db.prepare('INSERT INTO notes VALUES (?, ?)').run('n1', 'first');
      await waitUntil(() => centralRows(h, 'a').length === 1, {
        timeoutMs: 10_000,
        message: () => `server rows: ${centralRows(h, 'a').join(', ')}`,
      });
      // Each token lives at most a second; the server ends each session and the client comes
      // back with a fresh token from its function, twice over.
      const before = issued;
      await waitUntil(() => issued >= before + 2, {
        timeoutMs: 15_000,
        message: () => `tokens issued: ${issued}`,
      });
      local.db.prepare('INSERT INTO notes VALUES (?, ?)').run('n2', 'after refresh');
      await waitUntil(() => centralRows(h, 'a').length === 2, {
        timeoutMs: 10_000,
        message: () =>
          `server rows: ${centralRows(h, 'a').join(', ')}; status ${client.status.state}`,
      });
      expect(centralRows(h, 'a')).toEqual(localRows(local));
    },
  );

  it('refuses a clock leeway that is not whole non-negative seconds', async () => {
    await expect(harness({}, { clockLeewaySeconds: -1 })).rejects.toBeInstanceOf(ServerConfigError);
    await expect(harness({ clockLeewaySeconds: 1.5 })).rejects.toBeInstanceOf(ServerConfigError);
  });
});

describe('a user token is bound to its database', () => {
  it('refuses a token for database a on database b over HTTP and WebSocket, and changes nothing', async () => {
    const h = await harness();
    await database(h, 'a');
    await database(h, 'b');
    const local = replica();
    local.db.prepare('INSERT INTO notes VALUES (?, ?)').run('n1', 'for a');
    const token = await issueDevToken({
      secret: h.secret,
      sub: 'alice',
      ttlSeconds: 3600,
      audience: databaseAudience('a'),
    });

    const refusedHello = await httpSync(h, 'b', hello(local, token), token);
    expect(refusedHello.status).toBe(403);
    expect(refusedHello.message).toMatchObject({ type: 'error', code: 'wrong-database' });
    expect(refusedHello.message.type === 'error' && refusedHello.message.message).toContain('"b"');
    const refusedPush = await httpSync(h, 'b', push(local, 2), token);
    expect(refusedPush).toMatchObject({ status: 403, message: { code: 'wrong-database' } });

    const socket = await rawSocket(h, 'b');
    expect(await socket.request(hello(local, token))).toMatchObject({
      type: 'error',
      status: 403,
      code: 'wrong-database',
    });
    expect(await socket.request(push(local, 3))).toMatchObject({ type: 'error', status: 401 });
    expect(centralRows(h, 'b')).toEqual([]);

    // The same token on its own database works on both transports.
    expect((await httpSync(h, 'a', push(local, 4), token)).message).toMatchObject({
      type: 'pushResult',
      accepted: true,
    });
    const own = await rawSocket(h, 'a');
    expect((await own.request(hello(local, token))).type).toBe('welcome');
    expect(centralRows(h, 'a')).toEqual(localRows(local));
  });

  it('a service key limited to database a is refused on b; an unlimited one works on both', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'offsync-sessions-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const keys = await ApiKeyStore.open(join(dataDir, 'keys.json'));
    const limited = (await keys.create('service', 'worker a', { databases: ['a'] })).key;
    const unlimited = (await keys.create('service', 'worker all')).key;
    const h = await harness({ dataDir });
    await database(h, 'a');
    await database(h, 'b');
    const local = replica();
    local.db.prepare('INSERT INTO notes VALUES (?, ?)').run('n1', 'from the worker');

    const refused = await httpSync(h, 'b', push(local, 2), limited);
    expect(refused).toMatchObject({ status: 403, message: { code: 'wrong-database' } });
    const socket = await rawSocket(h, 'b');
    expect(await socket.request(hello(local, limited))).toMatchObject({
      status: 403,
      code: 'wrong-database',
    });
    expect(centralRows(h, 'b')).toEqual([]);

    expect((await httpSync(h, 'a', push(local, 3), limited)).message).toMatchObject({
      accepted: true,
    });
    expect((await httpSync(h, 'b', push(local, 4), unlimited)).message).toMatchObject({
      accepted: true,
    });
    expect(centralRows(h, 'a')).toEqual(localRows(local));
    expect(centralRows(h, 'b')).toEqual(localRows(local));
  });

  it('with jwt.requireDatabaseAudience, refuses a token that names no database', async () => {
    const h = await harness({}, { requireDatabaseAudience: true });
    await database(h, 'a');
    const local = replica();
    const unbound = await issueDevToken({ secret: h.secret, sub: 'alice', ttlSeconds: 3600 });
    const refused = await httpSync(h, 'a', hello(local, unbound), unbound);
    expect(refused).toMatchObject({ status: 403, message: { code: 'wrong-database' } });
    expect(refused.message.type === 'error' && refused.message.message).toContain('offsync:a');
    const bound = await issueDevToken({
      secret: h.secret,
      sub: 'alice',
      ttlSeconds: 3600,
      audience: [databaseAudience('x'), databaseAudience('a')],
    });
    expect((await httpSync(h, 'a', hello(local, bound), bound)).message.type).toBe('welcome');
  });

  it('offsync token issue --db binds the token to that database', async () => {
    if (!existsSync(CLI)) throw new Error(`build first (npx tsc -b): ${CLI} is missing`);
    const h = await harness();
    await database(h, 'a');
    await database(h, 'b');
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, ...args, '--data', h.dataDir], { encoding: 'utf8' });
    const missing = run('token', 'issue', '--sub', 'alice');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('missing --db');
    const issued = run('token', 'issue', '--sub', 'alice', '--db', 'a', '--ttl', '10m');
    expect(issued.status).toBe(0);
    const token = issued.stdout.trim();
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
    expect(payload.aud).toBe('offsync:a');
    expect(payload.exp - payload.iat).toBe(600);
    const local = replica();
    expect((await httpSync(h, 'a', hello(local, token), token)).message.type).toBe('welcome');
    expect((await httpSync(h, 'b', hello(local, token), token)).status).toBe(403);
    expect(JSON.parse(readFileSync(join(h.dataDir, 'server.json'), 'utf8')).jwt.hs256Secret).toBe(
      h.secret,
    );
  });
});
