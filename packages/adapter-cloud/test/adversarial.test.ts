import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket as NetSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientMessage, ServerMessage, SqliteReplica } from '@offsync/core';
import { decodeServerMessage, encodeMessage } from '@offsync/core/codec';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  generateApiKey,
  issueDevToken,
  type RunningServer,
  type ServerLimits,
  startServer,
} from '../src/index.js';
import { helloMessage } from './support/hello-message.js';
import { dumpHex, openClientReplica, run } from './support/replicas.js';
import {
  startLoop,
  syncUntilConverged,
  type TestClient,
  webSocketTransport,
} from './support/sync-clients.js';
import { waitUntil } from './support/wait.js';

// The sync server as an attacker meets it, on 127.0.0.1: malformed targets, headers, methods and
// frames at every route, credentials spelled many ways, sockets that never say hello, trickle a
// byte at a time or never read. Whatever comes in, the answer is a 4xx (or a close with a
// documented code), the process keeps serving, its memory stays bounded, and a normal client
// still syncs to byte-equal replicas.

const SECRET = randomBytes(48).toString('base64url');
const SCHEMA = 'CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, body TEXT);';
const MiB = 1024 * 1024;

interface Harness {
  readonly server: RunningServer;
  readonly adminKey: string;
  readonly port: number;
  dispose(): Promise<void>;
}

const harnesses: Harness[] = [];

async function startHarness(limits: Partial<ServerLimits> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'offsync-adversarial-'));
  writeFileSync(join(dir, 'server.json'), JSON.stringify({ jwt: { hs256Secret: SECRET } }));
  const adminKey = generateApiKey('admin');
  const server = await startServer({
    dataDir: dir,
    port: 0,
    host: '127.0.0.1',
    adminKey,
    log: () => undefined,
    limits,
  });
  const harness: Harness = {
    server,
    adminKey,
    port: server.port,
    dispose: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  harnesses.push(harness);
  return harness;
}

afterAll(async () => {
  for (const harness of harnesses.splice(0)) await harness.dispose();
});

async function admin(
  harness: Harness,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const response = await fetch(`${harness.server.url}/v1/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${harness.adminKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`admin ${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as unknown;
}

async function createDatabase(harness: Harness, name: string): Promise<void> {
  await admin(harness, 'POST', '/databases', { name, schema: SCHEMA });
  await admin(harness, 'PUT', `/databases/${name}/tables/items/sync`, { enabled: true });
  for (const operation of ['select', 'insert', 'update', 'delete'])
    await admin(harness, 'PUT', `/databases/${name}/policies/items/${operation}`, {
      expression: 'true',
    });
}

function userToken(sub: string): Promise<string> {
  return issueDevToken({ secret: SECRET, sub, ttlSeconds: 3600 });
}

/** One raw HTTP request (the target is sent exactly as given); resolves with status and body. */
function rawHttp(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Uint8Array,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, method, path, headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function health(port: number): Promise<number> {
  return (await rawHttp(port, 'GET', '/v1/health')).status;
}

/** The status line's code of a WebSocket upgrade to `path` (101 when accepted). */
function upgradeStatus(
  port: number,
  path: string,
  extra: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n');
      if (end !== -1) {
        socket.destroy();
        resolve(Number(text.slice(9, 12)));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(text.slice(9, 12)) || 0));
    const headers = {
      host: '127.0.0.1',
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': randomBytes(16).toString('base64'),
      'sec-websocket-version': '13',
      ...extra,
    };
    socket.write(
      `GET ${path} HTTP/1.1\r\n${Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('')}\r\n`,
    );
  });
}

/** A raw TCP connection upgraded to a WebSocket on `path`, for frames no WebSocket client sends. */
async function rawWebSocket(port: number, path: string): Promise<RawWebSocket> {
  const socket = connect(port, '127.0.0.1');
  const raw = new RawWebSocket(socket);
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await raw.upgraded;
  return raw;
}

/** The client side of a WebSocket written by hand: masked frames out, frames parsed in. */
class RawWebSocket {
  readonly frames: { opcode: number; payload: Buffer }[] = [];
  readonly upgraded: Promise<void>;
  readonly closed: Promise<void>;
  #buffer = Buffer.alloc(0);
  #headers = true;

  constructor(readonly socket: NetSocket) {
    let upgraded: () => void = () => undefined;
    let failed: (error: Error) => void = () => undefined;
    this.upgraded = new Promise((resolve, reject) => {
      upgraded = resolve;
      failed = reject;
    });
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      if (this.#headers) {
        const end = this.#buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = this.#buffer.subarray(0, end).toString('latin1');
        this.#buffer = this.#buffer.subarray(end + 4);
        this.#headers = false;
        if (!head.startsWith('HTTP/1.1 101')) failed(new Error(`upgrade refused: ${head}`));
        else upgraded();
      }
      this.#parse();
    });
  }

  /** The close code the server sent, if it sent one. */
  get closeCode(): number | undefined {
    const frame = this.frames.find((each) => each.opcode === 8);
    return frame && frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined;
  }

  send(payload: Uint8Array, opcode = 2): void {
    this.socket.write(maskedFrame(payload, opcode));
  }

  #parse(): void {
    for (;;) {
      const buffer = this.#buffer;
      if (buffer.length < 2) return;
      let length = buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffer.length < offset + length) return;
      this.frames.push({
        opcode: buffer[0]! & 0x0f,
        payload: buffer.subarray(offset, offset + length),
      });
      this.#buffer = buffer.subarray(offset + length);
    }
  }
}

function maskedFrame(payload: Uint8Array, opcode = 2, fin = true): Buffer {
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | length])
      : length < 65_536
        ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, length >> 8, length & 0xff])
        : Buffer.concat([
            Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 127]),
            (() => {
              const size = Buffer.alloc(8);
              size.writeBigUInt64BE(BigInt(length));
              return size;
            })(),
          ]);
  const mask = randomBytes(4);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([header, mask, masked]);
}

function pullMessage(site: string, id: number, limit = 5_000): ClientMessage {
  return { type: 'pull', id, site, cursor: 0, limit, tables: ['items'], pending: 0 };
}

/** Resolves with the next server message on a `ws` client. */
function nextMessage(ws: WebSocket): Promise<ServerMessage> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data: Buffer) => resolve(decodeServerMessage(new Uint8Array(data))));
    ws.once('close', (code) => reject(new Error(`closed with ${code}`)));
  });
}

function openWs(url: string, database: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/databases/${database}/ws`);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closeCode(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

function memoryInUse(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external + usage.arrayBuffers;
}

// ---------------------------------------------------------------------------------------------

describe('malformed requests answer 4xx and the server keeps serving', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
    await createDatabase(harness, 'fuzz');
  });

  it('a WebSocket upgrade to /v1/databases/%ZZ/ws is refused with 400, and the server stays up', async () => {
    expect(await upgradeStatus(harness.port, '/v1/databases/%ZZ/ws')).toBe(400);
    expect(await upgradeStatus(harness.port, '/v1/%E0%A4%A/databases/x/ws')).toBe(400);
    expect(await upgradeStatus(harness.port, '/v1/databases/%00/ws')).toBe(400);
    expect(await health(harness.port)).toBe(200);
  });

  it('%ZZ on every HTTP route answers 400 bad-path with a typed body', async () => {
    const targets: [string, string][] = [
      ['GET', '/%ZZ'],
      ['GET', '/dashboard/%ZZ'],
      ['GET', '/v1/%ZZ'],
      ['GET', '/v1/health/%ZZ'],
      ['POST', '/v1/databases/%ZZ/sync'],
      ['POST', '/v1/databases/fuzz/%ZZ'],
      ['GET', '/v1/admin/databases/%ZZ'],
      ['GET', '/v1/admin/%ZZ'],
      ['PUT', '/v1/admin/databases/fuzz/tables/%ZZ/sync'],
      ['PUT', '/v1/admin/databases/fuzz/policies/items/%E0%A4%A'],
      ['POST', '/v1/admin/databases/%ZZ/sql?x=%ZZ&%ZZ'],
    ];
    for (const [method, path] of targets) {
      const answer = await rawHttp(harness.port, method, path, {
        authorization: `Bearer ${harness.adminKey}`,
      });
      expect({ path, status: answer.status }).toEqual({ path, status: 400 });
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'bad-path' } });
    }
    expect(await health(harness.port)).toBe(200);
  });

  it('dashboard paths stay inside the dashboard folder (not a sibling whose name starts the same)', async () => {
    const base = mkdtempSync(join(tmpdir(), 'offsync-dashboard-'));
    mkdirSync(join(base, 'dash'));
    mkdirSync(join(base, 'dash-secret'));
    writeFileSync(join(base, 'dash', 'index.html'), '<p>dashboard</p>');
    writeFileSync(join(base, 'dash-secret', 'key.txt'), 'secret');
    const dir = mkdtempSync(join(tmpdir(), 'offsync-adversarial-'));
    const served = await startServer({
      dataDir: dir,
      port: 0,
      log: () => undefined,
      dashboardDir: join(base, 'dash'),
    });
    try {
      for (const path of [
        '/dashboard/../dash-secret/key.txt',
        '/dashboard/%2e%2e/dash-secret/key.txt',
        '/dashboard/..%5Cdash-secret%5Ckey.txt',
      ]) {
        const answer = await rawHttp(served.port, 'GET', path);
        expect({ path, body: answer.body }).toEqual({ path, body: '<p>dashboard</p>' });
      }
      expect((await rawHttp(served.port, 'GET', '/dashboard/%ZZ')).status).toBe(400);
    } finally {
      await served.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('requests the HTTP parser refuses (garbage, huge headers, bad upgrade headers) get a 4xx', async () => {
    const rawRequest = (text: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(harness.port, '127.0.0.1');
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(answer.slice(0, 12)));
        socket.end(text);
      });
    expect(await rawRequest('GARBAGE\r\n\r\n')).toBe('HTTP/1.1 400');
    expect(
      await rawRequest('GET /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'),
    ).toBe('HTTP/1.1 400');
    expect(
      await rawRequest(
        `GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      ),
    ).toBe('HTTP/1.1 431');
    expect(
      await upgradeStatus(harness.port, '/v1/databases/fuzz/ws', { 'sec-websocket-version': '7' }),
    ).toBe(400);
    expect(
      await upgradeStatus(harness.port, '/v1/databases/fuzz/ws', { 'sec-websocket-key': 'short' }),
    ).toBe(400);
    expect(await health(harness.port)).toBe(200);
  });

  it('the sync route answers 405 to other methods, and bad JSON on admin routes 400', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const answer = await rawHttp(harness.port, method, '/v1/databases/fuzz/sync');
      expect({ method, status: answer.status }).toEqual({ method, status: 405 });
    }
    const bad = await rawHttp(
      harness.port,
      'POST',
      '/v1/admin/databases',
      { authorization: `Bearer ${harness.adminKey}`, 'content-type': 'application/json' },
      new TextEncoder().encode('{"name": '),
    );
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: { code: 'bad-request' } });
  });

  it('fuzzed targets, methods and headers at every route never answer 5xx', async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        'v1',
        'databases',
        'fuzz',
        'sync',
        'ws',
        'admin',
        'tables',
        'items',
        'policies',
        'select',
        'devices',
        'metrics',
        'sql',
        'status',
        'health',
        'dashboard',
        '..',
        '.',
        '%2e%2e',
        '%2F',
        '%00',
        '%',
        '%Z',
        '%ZZ',
        '%C0%AF',
        '%ED%A0%80',
        '%F4%90%80%80',
      ),
      fc.string({ maxLength: 12 }).map((text) => encodeURIComponent(text)),
      fc.stringMatching(/^[%0-9A-Za-z._~-]{1,10}$/),
    );
    const target = fc
      .tuple(
        fc.array(segment, { maxLength: 6 }),
        fc.option(fc.stringMatching(/^[%=&0-9A-Za-z]{0,16}$/), { nil: undefined }),
      )
      .map(([parts, query]) => `/${parts.join('/')}${query === undefined ? '' : `?${query}`}`);
    const authorization = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(
        `Bearer ${harness.adminKey}`,
        `bearer  ${harness.adminKey} `,
        'Bearer',
        'Bearer ',
        'Basic dXNlcjpwdw==',
        'Bearer a b c',
        'osk_admin_',
        'Bearer eyJhbGciOiJub25lIn0.e30.',
        'Bearer x.y.z',
      ),
      fc.stringMatching(/^[\x20-\x7e]{0,64}$/),
    );
    const method = fc.constantFrom(
      'GET',
      'POST',
      'PUT',
      'DELETE',
      'PATCH',
      'OPTIONS',
      'HEAD',
      'PROPFIND',
    );
    const body = fc.oneof(
      fc.constant(undefined),
      fc.uint8Array({ maxLength: 64 }),
      fc.json().map((text) => new TextEncoder().encode(text)),
      fc
        .constantFrom('{"name":', '{"sql":"SELEC"}', '[]', 'null', '{"enabled":"yes"}')
        .map((text) => new TextEncoder().encode(text)),
    );
    const contentType = fc.constantFrom(
      'application/json',
      'application/octet-stream',
      'text/plain; charset=utf-16',
      '',
    );
    await fc.assert(
      fc.asyncProperty(
        method,
        target,
        authorization,
        contentType,
        body,
        async (verb, path, credential, type, payload) => {
          const headers: Record<string, string> = {};
          if (credential !== undefined) headers.authorization = credential;
          if (type !== '') headers['content-type'] = type;
          const answer = await rawHttp(
            harness.port,
            verb,
            path,
            headers,
            verb === 'GET' || verb === 'HEAD' ? undefined : payload,
          );
          expect({ verb, path, status: answer.status }).toEqual({
            verb,
            path,
            status: expect.toSatisfy((status: number) => status >= 200 && status < 500),
          });
          const upgrade = await upgradeStatus(harness.port, path, {
            ...(credential === undefined ? {} : { authorization: credential }),
          });
          expect({ path, upgrade }).toEqual({
            path,
            upgrade: expect.toSatisfy(
              (status: number) => status === 101 || (status >= 400 && status < 500),
            ),
          });
        },
      ),
      { numRuns: 150 },
    );
    expect(await health(harness.port)).toBe(200);
  });

  it('fuzzed WebSocket frames get error frames or a documented close, never an internal error', async () => {
    const token = await userToken('fuzzer');
    const replica = await openClientReplica('native', SCHEMA, ['items']);
    const validHello = encodeMessage(helloMessage(replica, token));
    const validPull = encodeMessage(pullMessage(replica.site, 2));
    const mutate = (bytes: Uint8Array) =>
      fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })).map(([at, value]) => {
        const copy = new Uint8Array(bytes);
        copy[at] = value;
        return copy;
      });
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 96 }).map((payload) => ({ opcode: 2, payload })),
      mutate(validHello).map((payload) => ({ opcode: 2, payload })),
      mutate(validPull).map((payload) => ({ opcode: 2, payload })),
      fc.nat(validHello.length).map((end) => ({ opcode: 2, payload: validHello.subarray(0, end) })),
      fc.string({ maxLength: 40 }).map((text) => ({
        opcode: 1,
        payload: new TextEncoder().encode(text),
      })),
      fc.constantFrom(3, 4, 5, 11, 12).map((opcode) => ({ opcode, payload: new Uint8Array(1) })),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(frame, { minLength: 1, maxLength: 6 }),
        async (greet, frames) => {
          const raw = await rawWebSocket(harness.port, '/v1/databases/fuzz/ws');
          if (greet) raw.send(validHello);
          for (const { opcode, payload } of frames) raw.send(payload, opcode);
          // A valid hello last: if the socket is still open, the server must still answer it.
          raw.send(encodeMessage(helloMessage(replica, token, 99)));
          await waitUntil(
            () =>
              raw.closeCode !== undefined ||
              raw.frames.some(
                (each) =>
                  each.opcode === 2 && decodeServerMessage(new Uint8Array(each.payload)).id === 99,
              ),
            {
              timeoutMs: 5_000,
              message: () => `no answer to the last hello: ${raw.frames.length}`,
            },
          );
          const code = raw.closeCode;
          expect(code === undefined || [1002, 1003, 1007, 1008, 1009].includes(code)).toBe(true);
          for (const each of raw.frames.filter((candidate) => candidate.opcode === 2)) {
            const message = decodeServerMessage(new Uint8Array(each.payload));
            if (message.type === 'error') expect(message.status).toBeLessThan(500);
          }
          raw.socket.destroy();
        },
      ),
      { numRuns: 120 },
    );
    replica.close();
    expect(await health(harness.port)).toBe(200);
  });
});

describe('the HTTP rate limit holds per principal and per address', () => {
  it('many spellings of one token share one allowance', async () => {
    const harness = await startHarness({
      requestsPerSecond: 0.001,
      // The admin key's own allowance creates the database (six requests).
      burst: 8,
      addressRequestsPerSecond: 1_000,
      addressBurst: 10_000,
    });
    await createDatabase(harness, 'rated');
    const token = await userToken('alice');
    const replica = await openClientReplica('native', SCHEMA, ['items']);
    // The token travels in the Authorization header only, spelled each way below.
    const frame = encodeMessage(helloMessage(replica, undefined));
    const spellings = [
      `Bearer ${token}`,
      `bearer ${token}`,
      `BEARER ${token}`,
      `BeArEr ${token}`,
      `Bearer  ${token}`,
      `Bearer   ${token}`,
      `Bearer ${token} `,
      `Bearer ${token}  `,
      `Bearer\t${token}`,
      `bearer\t\t${token}\t`,
      token,
      `${token} `,
    ];
    const statuses: number[] = [];
    for (let round = 0; round < 4; round++)
      for (const authorization of spellings) {
        const answer = await rawHttp(
          harness.port,
          'POST',
          '/v1/databases/rated/sync',
          { authorization },
          frame,
        );
        statuses.push(answer.status);
      }
    expect(statuses.filter((status) => status === 200)).toHaveLength(8);
    expect(statuses.filter((status) => status === 429)).toHaveLength(statuses.length - 8);
    // Another user (on a device of their own) has an allowance of their own.
    const bobReplica = await openClientReplica('native', SCHEMA, ['items']);
    const other = await rawHttp(
      harness.port,
      'POST',
      '/v1/databases/rated/sync',
      { authorization: `Bearer ${await userToken('bob')}` },
      encodeMessage(helloMessage(bobReplica, undefined)),
    );
    expect(other.status).toBe(200);
    bobReplica.close();
    replica.close();
  });

  it('requests that do not authenticate are limited per address before the credential is checked', async () => {
    const harness = await startHarness({
      requestsPerSecond: 0.001,
      burst: 5,
      addressRequestsPerSecond: 0.001,
      addressBurst: 10,
    });
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const answer = await rawHttp(harness.port, 'GET', '/v1/admin/databases', {
        authorization: `Bearer osk_admin_${randomBytes(32).toString('base64url')}`,
      });
      statuses.push(answer.status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(20).fill(429));
    // Opening WebSockets counts against the same allowance.
    expect(await upgradeStatus(harness.port, '/v1/databases/any/ws')).toBe(429);
    // Health checks are never limited.
    expect(await health(harness.port)).toBe(200);
  });
});

describe('WebSocket flow control and deadlines', () => {
  it('a client that sends 150 pulls and never reads: the server stops answering it, memory stays bounded, others are served', async () => {
    const maxBufferedBytes = 1 * MiB;
    const harness = await startHarness({ maxBufferedBytes, maxQueuedRequests: 1_000 });
    await createDatabase(harness, 'slow');
    // Pages of about 0.7 MiB: 150 of them unbounded would be about 100 MiB.
    await admin(harness, 'POST', '/databases/slow/sql', {
      sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
            INSERT INTO items(id, body) SELECT printf('row-%05d', i), printf('%.600c', 'x') FROM n`,
    });
    const token = await userToken('slow');
    const replica = await openClientReplica('native', SCHEMA, ['items']);
    const ws = await openWs(harness.server.url, 'slow');
    ws.send(encodeMessage(helloMessage(replica, token)));
    const welcome = await nextMessage(ws);
    expect(welcome.type).toBe('welcome');
    const before = memoryInUse();
    ws.pause();
    for (let id = 2; id < 152; id++) ws.send(encodeMessage(pullMessage(replica.site, id)));

    const stats = () => harness.server.connections().find((each) => each.queued > 0);
    await waitUntil(
      () => {
        const current = stats();
        return current?.paused === true && current.bufferedBytes > maxBufferedBytes;
      },
      {
        timeoutMs: 30_000,
        message: () => `the server never held back: ${JSON.stringify(stats())}`,
      },
    );
    const held = stats()!;
    // Others are served while it is held back.
    expect(await health(harness.port)).toBe(200);
    expect(
      await rawHttp(harness.port, 'GET', '/v1/admin/status', {
        authorization: `Bearer ${harness.adminKey}`,
      }),
    ).toMatchObject({ status: 200 });
    // Answered counts the hello too; requests not read yet wait in TCP, not in the server.
    expect(held.answered).toBeLessThan(150);
    expect(held.queued + held.answered).toBeLessThanOrEqual(151);
    const growth = memoryInUse() - before;
    if (process.env.OFFSYNC_REPORT_MEMORY) console.info(`memory growth ${growth / MiB} MiB`, held);
    expect(growth).toBeLessThan(48 * MiB);

    // Once the client reads, every request is answered, in order.
    const ids: number[] = [];
    ws.on('message', (data: Buffer) => ids.push(decodeServerMessage(new Uint8Array(data)).id));
    ws.resume();
    await waitUntil(() => ids.length >= 150, {
      timeoutMs: 60_000,
      message: () => `answered ${ids.length} of 150`,
    });
    expect(ids.filter((id) => id !== 0)).toEqual(Array.from({ length: 150 }, (_, i) => i + 2));
    ws.close();
    replica.close();
  });

  it('more requests queued on one connection than the cap closes it with 1008', async () => {
    const harness = await startHarness({ maxQueuedRequests: 8 });
    await createDatabase(harness, 'queue');
    const token = await userToken('queue');
    const replica = await openClientReplica('native', SCHEMA, ['items']);
    const raw = await rawWebSocket(harness.port, '/v1/databases/queue/ws');
    raw.send(encodeMessage(helloMessage(replica, token)));
    // 150 pull frames in one write: they arrive together, before the server can pause reading.
    raw.socket.write(
      Buffer.concat(
        Array.from({ length: 150 }, (_, i) =>
          maskedFrame(encodeMessage(pullMessage(replica.site, i + 2))),
        ),
      ),
    );
    await raw.closed;
    expect(raw.closeCode).toBe(1008);
    expect(await health(harness.port)).toBe(200);
    replica.close();
  });

  it('a socket that never says hello is closed after the hello deadline (4408)', async () => {
    const harness = await startHarness({ helloTimeoutMs: 300 });
    const ws = await openWs(harness.server.url, 'anything');
    expect(await closeCode(ws)).toBe(4408);
    expect(await health(harness.port)).toBe(200);
  });

  it('a client that trickles a frame a byte at a time is closed after the idle timeout (4408)', async () => {
    const harness = await startHarness({ idleTimeoutMs: 400, helloTimeoutMs: 60_000 });
    await createDatabase(harness, 'trickle');
    const raw = await rawWebSocket(harness.port, '/v1/databases/trickle/ws');
    const frame = maskedFrame(new Uint8Array(200).fill(7));
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < frame.length && !raw.socket.destroyed)
        raw.socket.write(frame.subarray(sent, ++sent));
    }, 50);
    await raw.closed;
    clearInterval(trickle);
    expect(raw.closeCode).toBe(4408);
    expect(sent).toBeLessThan(frame.length);
  });

  it('a client that trickles its request headers a byte at a time is closed after the headers timeout', async () => {
    const harness = await startHarness({ headersTimeoutMs: 500 });
    const socket = connect(harness.port, '127.0.0.1');
    socket.on('error', () => undefined);
    const request = Buffer.from(
      'GET /v1/databases/x/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nX-Slow: ' +
        'a'.repeat(400),
    );
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < request.length && !socket.destroyed) socket.write(request.subarray(sent, ++sent));
    }, 20);
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    clearInterval(trickle);
    expect(sent).toBeLessThan(request.length);
    expect(await health(harness.port)).toBe(200);
  });
});

describe('after all of it', () => {
  it('a normal client still syncs to byte-equal replicas on a server that took the abuse', async () => {
    const harness = await startHarness();
    await createDatabase(harness, 'after');
    // Abuse first, on the same server.
    await upgradeStatus(harness.port, '/v1/databases/%ZZ/ws');
    await rawHttp(harness.port, 'GET', '/v1/admin/databases/%ZZ');
    const raw = await rawWebSocket(harness.port, '/v1/databases/after/ws');
    raw.send(randomBytes(64));
    raw.send(new TextEncoder().encode('{"type":"hello"}'), 1);
    await raw.closed;

    const clients: TestClient[] = [];
    for (const name of ['a', 'b']) {
      const replica = await openClientReplica('native', SCHEMA, ['items']);
      const client = startLoop(
        replica,
        webSocketTransport(harness.server.url, 'after'),
        await userToken(name),
      );
      clients.push({ name, replica, client });
    }
    run(clients[0]!.replica, "INSERT INTO items VALUES ('k1', 'from a')");
    run(clients[1]!.replica, "INSERT INTO items VALUES ('k2', x'00ff')");
    const central = () => harness.server.store.open('after').replica;
    await syncUntilConverged(() => clients, central);
    const bytes = (replica: SqliteReplica) =>
      replica.driver
        .prepare('SELECT quote(id), quote(body) FROM items ORDER BY id')
        .all()
        .map((row) => row.join('|'));
    expect(bytes(clients[0]!.replica)).toEqual(bytes(central()));
    expect(bytes(clients[1]!.replica)).toEqual(bytes(central()));
    expect(dumpHex(clients[0]!.replica)).toBe(dumpHex(central()));
    for (const { client, replica } of clients) {
      await client.disconnect();
      replica.close();
    }
  });
});
