// Observability end to end: a real server on 127.0.0.1 with a real client syncing over WebSocket
// and forged HTTP requests beside it. The JSON log lines carry a request id per request and per
// session and never a credential; /metrics (admin key unless metrics.public) is scraped after the
// syncs and parsed; the refusal log answers newest first and stays bounded.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReplica } from '@offsync/adapter-node';
import type { SyncClient } from '@offsync/core';
import { encodeMessage, PROTOCOL_VERSION } from '@offsync/core/codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, sumOf } from '../dashboard/src/prometheus-text.js';
import {
  connectNode,
  generateApiKey,
  issueDevToken,
  type RunningServer,
  ServerConfigError,
  startServer,
} from '../src/index.js';
import { RefusalLog } from '../src/server/observability/refusal-log.js';
import { createTodoApp } from './support/todo-app.js';

const TODOS = 'CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT)';

let dataDir = '';
let server: RunningServer;
let adminKey = '';
let token = '';
const lines: string[] = [];

async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}/v1/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

interface Refusal {
  readonly at: number;
  readonly user: string | null;
  readonly site: string | null;
  readonly table: string | null;
  readonly kind: string;
  readonly reason: string;
}

async function refusals(query = ''): Promise<Refusal[]> {
  const response = await admin('GET', `/databases/app/refusals${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Refusal[];
}

async function scrape(): Promise<ReturnType<typeof parsePrometheusText>> {
  const response = await fetch(`${server.url}/metrics`, {
    headers: { authorization: `Bearer ${adminKey}` },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

function logged(): Record<string, unknown>[] {
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A forged HTTP sync request: a hello carrying `credential` as its token. */
function helloFrame(credential: string, site = 'ab'.repeat(16)): BodyInit {
  return encodeMessage({
    type: 'hello',
    id: 1,
    protocol: PROTOCOL_VERSION,
    site,
    token: credential,
    schemas: {},
  }) as BodyInit;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'offsync-observability-'));
  adminKey = generateApiKey('admin');
  server = await startServer({
    dataDir,
    port: 0,
    host: '127.0.0.1',
    adminKey,
    logLevel: 'debug',
    log: (line) => lines.push(line),
    flushIntervalMs: 100,
  });
  await createTodoApp(admin, TODOS);
  const secret = (
    JSON.parse(await readFile(join(dataDir, 'server.json'), 'utf8')) as {
      jwt: { hs256Secret: string };
    }
  ).jwt.hs256Secret;
  token = await issueDevToken({ secret, sub: 'alice', ttlSeconds: 600 });
});

afterAll(async () => {
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('observability of a server under real syncs', () => {
  let client: SyncClient | undefined;
  const replica = openReplica(':memory:');

  afterAll(async () => {
    await client?.disconnect();
    replica.close();
  });

  it('syncs a client, refusing one row by policy, and logs each request under its own id', async () => {
    replica.db.exec(TODOS);
    replica.enableSync('todos');
    replica.db.prepare("INSERT INTO todos VALUES ('t1', 'milk'), ('t2', 'forbidden')").run();
    client = connectNode(replica, { url: server.url, database: 'app', token });
    await expect.poll(async () => (await client!.syncNow()).pending, { timeout: 10_000 }).toBe(0);
    // The refused row was taken back from the server's state: only t1 remains on both sides.
    expect(replica.db.prepare('SELECT hex(id), hex(title) FROM todos').all()).toEqual([
      { 'hex(id)': '7431', 'hex(title)': '6D696C6B' },
    ]);

    const entries = logged();
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      expect(entry.name).toBe('offsync');
      expect(typeof entry.level).toBe('number');
    }
    const session = entries.filter((entry) => entry.transport === 'websocket');
    const opened = session.find((entry) => entry.msg === 'session opened');
    expect(opened).toBeDefined();
    const ids = new Set(session.map((entry) => entry.reqId));
    // One id for the whole session: hello, pushes and pulls all carry the one it opened with.
    expect(ids).toEqual(new Set([opened!.reqId]));
    expect(session.some((entry) => entry.msg === 'hello' && entry.user === 'alice')).toBe(true);
    expect(session.some((entry) => entry.msg === 'push' && entry.refusals === 1)).toBe(true);
    expect(session.some((entry) => entry.msg === 'pull')).toBe(true);
  });

  it('answers x-request-id and puts it on every line of that HTTP request', async () => {
    const response = await admin('GET', '/databases/app');
    const reqId = response.headers.get('x-request-id');
    expect(reqId).toMatch(/^[0-9a-f-]{36}$/);
    const mine = logged().filter((entry) => entry.reqId === reqId);
    expect(mine.map((entry) => entry.msg)).toEqual(['request']);
    expect(mine[0]).toMatchObject({ method: 'GET', path: '/v1/admin/databases/app', status: 200 });

    // A proxy's plain id is kept; one forged to inject log lines is replaced.
    const kept = await fetch(`${server.url}/v1/health`, { headers: { 'x-request-id': 'lb-42' } });
    expect(kept.headers.get('x-request-id')).toBe('lb-42');
    const forged = await fetch(`${server.url}/v1/health`, {
      headers: { 'x-request-id': `x"}{"level":60,"msg":"forged` },
    });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.join('\n')).not.toContain('forged');
  });

  it('never writes a token, an API key or an Authorization header to the log', async () => {
    // A stolen-looking token, a wrong API key and a garbage header, on every path that logs.
    const wrongKey = generateApiKey('admin');
    const forgedToken = `${token.slice(0, -4)}AAAA`;
    const answers = await Promise.all([
      fetch(`${server.url}/v1/databases/app/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${forgedToken}` },
        body: helloFrame(forgedToken),
      }),
      fetch(`${server.url}/v1/databases/app/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${wrongKey}` },
        body: helloFrame(wrongKey),
      }),
      fetch(`${server.url}/v1/admin/databases`, {
        headers: { authorization: `Bearer ${wrongKey}` },
      }),
      fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${forgedToken}` } }),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([401, 401, 401, 401]);
    const output = lines.join('\n');
    expect(output.length).toBeGreaterThan(0);
    for (const secret of [token, forgedToken, wrongKey, adminKey, token.split('.')[2]!]) {
      expect(output).not.toContain(secret);
    }
    expect(output).not.toMatch(/Bearer /i);
    expect(
      logged().some((entry) => entry.msg === 'sync refused' && entry.code === 'unauthorized'),
    ).toBe(true);
  });

  it('serves /metrics to the admin key only, and its numbers match the syncs', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect(
      (
        await fetch(`${server.url}/metrics`, {
          method: 'POST',
          headers: { authorization: `Bearer ${adminKey}` },
        })
      ).status,
    ).toBe(405);
    const samples = await scrape();
    const app = { database: 'app' };
    expect(sumOf(samples, 'offsync_connections')).toBe(1);
    expect(
      sumOf(samples, 'offsync_pushes_total', { ...app, outcome: 'accepted' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sumOf(samples, 'offsync_pulls_total', app)).toBeGreaterThanOrEqual(1);
    expect(sumOf(samples, 'offsync_refusals_total', { ...app, kind: 'row' })).toBe(1);
    expect(sumOf(samples, 'offsync_refusals_total', { ...app, kind: 'unauthorized' })).toBe(2);
    expect(sumOf(samples, 'offsync_errors_total', { ...app, code: 'unauthorized' })).toBe(2);
    expect(sumOf(samples, 'offsync_bytes_received_total', app)).toBeGreaterThan(0);
    expect(sumOf(samples, 'offsync_bytes_sent_total', app)).toBeGreaterThan(0);
    const merges = sumOf(samples, 'offsync_merge_duration_seconds_count', app);
    expect(merges).toBe(
      sumOf(samples, 'offsync_pushes_total', { ...app, outcome: 'accepted' }) +
        sumOf(samples, 'offsync_pushes_total', { ...app, outcome: 'refused' }),
    );
    expect(sumOf(samples, 'offsync_merge_duration_seconds_bucket', { ...app, le: '+Inf' })).toBe(
      merges,
    );
    expect(sumOf(samples, 'offsync_connection_queued_requests')).toBe(0);
    expect(
      sumOf(samples, 'offsync_http_requests_total', { route: 'admin', status: '200' }),
    ).toBeGreaterThan(0);
  });

  it('keeps names of databases it does not hold out of the metrics', async () => {
    const invented = `nope${'x'.repeat(20)}`;
    const answer = await fetch(`${server.url}/v1/databases/${invented}/sync`, {
      method: 'POST',
      body: helloFrame(token),
    });
    expect(answer.status).toBe(404);
    const text = await (
      await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${adminKey}` } })
    ).text();
    expect(text).not.toContain(invented);
    expect((await admin('GET', `/databases/${invented}/refusals`)).status).toBe(404);
  });

  it('lists refusals newest first with who, which device and which table', async () => {
    const all = await refusals();
    expect(all.length).toBe(3);
    for (let i = 1; i < all.length; i++) expect(all[i - 1]!.at).toBeGreaterThanOrEqual(all[i]!.at);
    const row = all.find((entry) => entry.kind === 'row');
    expect(row).toMatchObject({ user: 'alice', site: replica.site, table: 'todos' });
    expect(row!.reason).toMatch(/insert/);
    const unauthorized = all.filter((entry) => entry.kind === 'unauthorized');
    expect(unauthorized).toHaveLength(2);
    for (const entry of unauthorized) expect(entry).toMatchObject({ user: null, table: null });
    // The row refusal came first, so it is last.
    expect(all[all.length - 1]!.kind).toBe('row');
    expect(await refusals('?limit=1')).toEqual([all[0]]);
  });

  it('refuses a bad limit with a typed 400 and changes nothing', async () => {
    for (const limit of ['0', '-1', '1.5', 'abc', '1001', '1e9']) {
      const response = await admin('GET', `/databases/app/refusals?limit=${limit}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        'bad-request',
      );
    }
    expect(await refusals()).toHaveLength(3);
  });
});

describe('the refusal log', () => {
  const entry = (n: number) => ({
    at: n,
    user: 'u',
    site: 's',
    table: 't',
    kind: 'row',
    reason: `r${n}`,
  });

  it('keeps the newest entries up to its capacity, per database', () => {
    const log = new RefusalLog(5);
    for (let n = 1; n <= 12; n++) log.record('a', [entry(n)]);
    log.record('b', [entry(100)]);
    expect(log.list('a', 100).map((each) => each.at)).toEqual([12, 11, 10, 9, 8]);
    expect(log.list('a', 2).map((each) => each.at)).toEqual([12, 11]);
    expect(log.list('b', 100).map((each) => each.at)).toEqual([100]);
    expect(log.list('c', 100)).toEqual([]);
  });

  it('keeps a few refusals of one huge request and says how many it left out', () => {
    const log = new RefusalLog();
    log.record(
      'a',
      Array.from({ length: 100_000 }, (_, n) => entry(n)),
    );
    const kept = log.list('a', 1000);
    expect(kept).toHaveLength(21);
    expect(kept[0]!.reason).toBe('and 99980 more refusals in the same request');
  });
});

describe('server.json log and metrics settings', () => {
  it('serves /metrics without a key when metrics.public is true, at the configured level', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'offsync-observability-public-'));
    const own: string[] = [];
    await writeFile(
      join(dir, 'server.json'),
      JSON.stringify({
        jwt: { hs256Secret: 'x'.repeat(32) },
        log: { level: 'warn' },
        metrics: { public: true },
      }),
    );
    const open = await startServer({
      dataDir: dir,
      port: 0,
      adminKey: generateApiKey('admin'),
      log: (line) => own.push(line),
    });
    try {
      const response = await fetch(`${open.url}/metrics`);
      expect(response.status).toBe(200);
      expect(sumOf(parsePrometheusText(await response.text()), 'offsync_connections')).toBe(0);
      await fetch(`${open.url}/v1/health`);
      // `warn`: the request lines (info, debug) are not written.
      expect(own.filter((line) => line.includes('"msg":"request"'))).toEqual([]);
    } finally {
      await open.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown level or a non-boolean public with a typed error naming the setting', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'offsync-observability-bad-'));
    try {
      for (const [settings, reason] of [
        [{ log: { level: 'loud' } }, /log\.level must be one of/],
        [{ log: { colour: true } }, /unknown log setting "colour"/],
        [{ metrics: { public: 'yes' } }, /metrics\.public must be true or false/],
        [{ metrics: [] }, /"metrics" must be an object/],
      ] as const) {
        await writeFile(join(dir, 'server.json'), JSON.stringify({ jwt: {}, ...settings }));
        const error = await startServer({ dataDir: dir, port: 0, log: () => undefined }).catch(
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(ServerConfigError);
        expect((error as ServerConfigError).reason).toMatch(reason);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
