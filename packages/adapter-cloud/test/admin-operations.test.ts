import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReplica } from '@offsync/adapter-node';
import type { SqliteReplica } from '@offsync/core';
import { encodeMessage } from '@offsync/core/codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helloMessage } from './support/hello-message.js';
import { openRawSocket } from './support/raw-socket.js';
import { openClientReplica, run, tableRows } from './support/replicas.js';
import { httpTransport, startLoop, webSocketTransport } from './support/sync-clients.js';
import { TestServer } from './support/test-server.js';
import { waitUntil } from './support/wait.js';

// The operator routes (admin-operations.ts) through the real server on loopback: database
// deletion, API keys, device revocation and online backup, each also tried as an attacker.
const SCHEMA = "CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT NOT NULL DEFAULT '')";
const ADMIN_CLOSED_CODE = 4403;

let test: TestServer;

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly bytes: Uint8Array;
  readonly contentType: string | null;
}

async function call(
  method: string,
  path: string,
  options: { readonly key?: string; readonly body?: string } = {},
): Promise<Answer> {
  const response = await fetch(`${test.url}/v1/admin${path}`, {
    method,
    headers: {
      authorization: `Bearer ${options.key ?? test.adminKey}`,
      'content-type': 'application/json',
    },
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const contentType = response.headers.get('content-type');
  let body: unknown;
  if (contentType?.startsWith('application/json'))
    body = JSON.parse(new TextDecoder().decode(bytes));
  return { status: response.status, body, bytes, contentType };
}

/** The keys as ids and revocations (lastUsedAt moves with every request, by design). */
async function keys(): Promise<unknown> {
  return ((await test.admin('GET', '/keys')) as { id: string; revokedAt?: number }[]).map(
    ({ id, revokedAt }) => ({ id, revokedAt }),
  );
}

function errorCode(answer: Answer): unknown {
  return (answer.body as { error?: { code?: unknown } } | undefined)?.error?.code;
}

async function clientReplica(): Promise<SqliteReplica> {
  return openClientReplica('native', SCHEMA, ['todos']);
}

beforeAll(async () => {
  test = await TestServer.start();
});

afterAll(async () => {
  await test.dispose();
});

describe('admin routes refuse callers and inputs that are not allowed', () => {
  it('refuses a missing, forged or service key on every operator route, changing nothing', async () => {
    await test.createDatabase('guarded', SCHEMA, ['todos']);
    const service = (await test.admin('POST', '/keys', { name: 'worker', role: 'service' })) as {
      key: string;
    };
    const before = await keys();
    const routes: [string, string][] = [
      ['DELETE', '/databases/guarded'],
      ['GET', '/keys'],
      ['POST', '/keys'],
      ['DELETE', `/keys/key_0000000000000000`],
      ['DELETE', '/databases/guarded/devices/00000000000000000000000000000000'],
      ['GET', '/databases/guarded/backup'],
    ];
    for (const [method, path] of routes) {
      for (const key of ['', 'osk_admin_forged', `${test.adminKey.slice(0, -2)}xx`])
        expect((await call(method, path, { key })).status, `${method} ${path} ${key}`).toBe(401);
      const refused = await call(method, path, { key: service.key });
      expect(refused.status, `${method} ${path} as a service key`).toBe(403);
    }
    expect(await keys()).toEqual(before);
    expect((await test.admin('GET', '/databases')) as { name: string }[]).toContainEqual(
      expect.objectContaining({ name: 'guarded' }),
    );
  });

  it('answers unknown databases 404 and refuses path tricks, touching no file', async () => {
    for (const [method, suffix] of [
      ['DELETE', ''],
      ['GET', '/backup'],
      ['DELETE', '/devices/00000000000000000000000000000000'],
    ] as const) {
      const missing = await call(method, `/databases/nope${suffix}`);
      expect(missing.status).toBe(404);
      expect(errorCode(missing)).toBe('not-found');
      for (const trick of ['..%2Fkeys', '%2E%2E', '.hidden', 'a%00b', '%ZZ', 'x'.repeat(64)]) {
        const refused = await call(method, `/databases/${trick}${suffix}`);
        // 400 for a name that cannot be one; 404 where `..` was resolved to no route at all.
        expect([400, 404], `${method} ${trick}${suffix}`).toContain(refused.status);
        expect(typeof errorCode(refused)).toBe('string');
      }
    }
    expect(existsSync(join(test.dataDir, 'keys.json'))).toBe(true);
    expect(existsSync(join(test.dataDir, 'databases', 'guarded.db'))).toBe(true);
  });

  it('refuses malformed key requests with a typed 400 and creates no key', async () => {
    const before = await keys();
    for (const body of [
      '[]',
      '"name"',
      '{"name": 5}',
      '{"role": "root"}',
      '{"databases": "all"}',
      '{"role": "admin", "databases": ["guarded"]}',
      `{"name": "${'x'.repeat(201)}"}`,
      '{not json',
    ]) {
      const refused = await call('POST', '/keys', { body });
      expect(refused.status, body).toBe(400);
      expect(typeof errorCode(refused), body).toBe('string');
    }
    const oversized = await call('POST', '/keys', {
      body: JSON.stringify({ name: 'x'.repeat(17 * 1024 * 1024) }),
    });
    expect(oversized.status).toBe(413);
    expect(await keys()).toEqual(before);
  });
});

describe('API keys', () => {
  it('creates a key shown once, lists keys without secrets, and a revoked key stops at once', async () => {
    const created = (await test.admin('POST', '/keys', { name: 'ops laptop' })) as {
      id: string;
      name: string;
      key: string;
    };
    expect(created).toMatchObject({
      id: expect.stringMatching(/^key_[0-9a-f]{16}$/),
      name: 'ops laptop',
    });
    expect(created.key).toMatch(/^osk_admin_/);
    expect((await call('GET', '/status', { key: created.key })).status).toBe(200);
    const listed = (await test.admin('GET', '/keys')) as Record<string, unknown>[];
    const entry = listed.find((key) => key.id === created.id);
    expect(entry).toMatchObject({ name: 'ops laptop', role: 'admin' });
    expect(typeof entry?.createdAt).toBe('number');
    expect(typeof entry?.lastUsedAt).toBe('number');
    const text = JSON.stringify(listed);
    expect(text).not.toContain(created.key);
    expect(text).not.toContain(test.adminKey);
    expect(text).not.toContain('hash');

    expect(await test.admin('DELETE', `/keys/${created.id}`)).toEqual({ revoked: created.id });
    const after = await call('GET', '/status', { key: created.key });
    expect(after.status).toBe(401);
    const again = await call('DELETE', `/keys/${created.id}`);
    expect([again.status, errorCode(again)]).toEqual([404, 'no-such-key']);
    const unknown = await call('DELETE', '/keys/key_ffffffffffffffff');
    expect([unknown.status, errorCode(unknown)]).toEqual([404, 'no-such-key']);
  });

  it('refuses to revoke the last active admin key', async () => {
    const keys = (await test.admin('GET', '/keys')) as {
      id: string;
      role: string;
      revokedAt?: number;
    }[];
    const admins = keys.filter((key) => key.role === 'admin' && key.revokedAt === undefined);
    expect(admins).toHaveLength(1);
    const refused = await call('DELETE', `/keys/${admins[0]!.id}`);
    expect([refused.status, errorCode(refused)]).toEqual([409, 'last-admin-key']);
    expect((await call('GET', '/status')).status).toBe(200);
  });

  it("closes a revoked service key's open WebSocket session", async () => {
    await test.createDatabase('keyed', SCHEMA, ['todos']);
    const service = (await test.admin('POST', '/keys', {
      name: 'sync worker',
      role: 'service',
    })) as {
      id: string;
      key: string;
    };
    const replica = await clientReplica();
    const socket = await openRawSocket(test.url, 'keyed');
    expect((await socket.request(helloMessage(replica, service.key))).type).toBe('welcome');
    await test.admin('DELETE', `/keys/${service.id}`);
    expect((await socket.closed).code).toBe(ADMIN_CLOSED_CODE);
    const again = await openRawSocket(test.url, 'keyed');
    const refused = await again.request(helloMessage(replica, service.key));
    expect(refused).toMatchObject({ type: 'error', status: 401 });
    again.socket.close();
    replica.close();
  });
});

describe('device revocation', () => {
  it("closes the device's sessions, refuses its next hello and pushes with 403 device-revoked, and survives a restart", async () => {
    await test.createDatabase('fleet', SCHEMA, ['todos'], { openToUsers: true });
    const token = await test.userToken('alice');
    const lost = await clientReplica();
    const kept = await clientReplica();
    const socket = await openRawSocket(test.url, 'fleet');
    expect((await socket.request(helloMessage(lost, token))).type).toBe('welcome');
    const other = await openRawSocket(test.url, 'fleet');
    expect((await other.request(helloMessage(kept, token))).type).toBe('welcome');

    const unknown = await call(
      'DELETE',
      '/databases/fleet/devices/ffffffffffffffffffffffffffffffff',
    );
    expect([unknown.status, errorCode(unknown)]).toEqual([404, 'no-such-device']);
    expect(await test.admin('DELETE', `/databases/fleet/devices/${lost.site}`)).toEqual({
      revoked: lost.site,
      closedSessions: 1,
    });
    expect((await socket.closed).code).toBe(ADMIN_CLOSED_CODE);
    const devices = (await test.admin('GET', '/databases/fleet/devices')) as {
      site: string;
      revokedAt?: number;
    }[];
    expect(typeof devices.find((device) => device.site === lost.site)?.revokedAt).toBe('number');
    expect(devices.find((device) => device.site === kept.site)?.revokedAt).toBeUndefined();

    const retry = await openRawSocket(test.url, 'fleet');
    expect(await retry.request(helloMessage(lost, token))).toMatchObject({
      type: 'error',
      status: 403,
      code: 'device-revoked',
    });
    expect((await retry.closed).code).toBe(ADMIN_CLOSED_CODE);

    // Over HTTP too: a push from the revoked site changes nothing on the server.
    run(lost, "INSERT INTO todos VALUES ('stolen', 'x')");
    const push = encodeMessage({
      type: 'push',
      id: 2,
      site: lost.site,
      upTo: lost.version,
      changeset: lost.changesetSince(0).bytes,
    });
    const response = await fetch(`${test.url}/v1/databases/fleet/sync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: Buffer.from(push),
    });
    expect(response.status).toBe(403);
    const central = test.server.store.open('fleet').replica;
    expect(tableRows(central, 'todos')).toEqual([]);

    // The other device of the same user is untouched.
    expect((await other.request(helloMessage(kept, token, 3))).type).toBe('welcome');
    other.socket.close();

    await test.restart();
    const afterRestart = await openRawSocket(test.url, 'fleet');
    expect(await afterRestart.request(helloMessage(lost, token))).toMatchObject({
      code: 'device-revoked',
    });
    afterRestart.socket.close();
    lost.close();
    kept.close();
  });
});

describe('database deletion', () => {
  it('closes live sessions, removes the files, answers 404 after, and the name can be reused', async () => {
    await test.createDatabase('doomed', SCHEMA, ['todos'], { openToUsers: true });
    const token = await test.userToken('bob');
    const replica = await clientReplica();
    const socket = await openRawSocket(test.url, 'doomed');
    expect((await socket.request(helloMessage(replica, token))).type).toBe('welcome');
    const file = join(test.dataDir, 'databases', 'doomed.db');
    expect(existsSync(file)).toBe(true);

    expect(await test.admin('DELETE', '/databases/doomed')).toEqual({ deleted: 'doomed' });
    expect((await socket.closed).code).toBe(ADMIN_CLOSED_CODE);
    for (const suffix of ['', '-wal', '-shm']) expect(existsSync(`${file}${suffix}`)).toBe(false);
    expect(
      ((await test.admin('GET', '/databases')) as { name: string }[]).map((db) => db.name),
    ).not.toContain('doomed');
    expect((await call('GET', '/databases/doomed')).status).toBe(404);
    const retry = await openRawSocket(test.url, 'doomed');
    expect(await retry.request(helloMessage(replica, token))).toMatchObject({
      type: 'error',
      status: 404,
    });
    retry.socket.close();

    await test.createDatabase('doomed', SCHEMA, []);
    expect(((await test.admin('GET', '/databases/doomed')) as { version: number }).version).toBe(0);
    replica.close();
  });
});

describe('online backup', () => {
  it('is consistent under concurrent writes, passes integrity_check, and a replica synced from it equals it by bytes', async () => {
    await test.createDatabase('busy', SCHEMA, ['todos'], { openToUsers: true });
    const token = await test.userToken('carol');
    const writer = await clientReplica();
    const loop = startLoop(writer, webSocketTransport(test.url, 'busy'), token);
    const folder = await mkdtemp(join(tmpdir(), 'offsync-backup-test-'));
    try {
      let written = 0;
      const writes = (async () => {
        for (; written < 300; written++) {
          run(writer, 'INSERT INTO todos VALUES (?, ?)', [`t${written}`, `todo ${written}`]);
          if (written % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
      const copies: Uint8Array[] = [];
      await waitUntil(() => test.server.store.open('busy').version > 0, {
        timeoutMs: 10_000,
        message: () => 'the writer never pushed',
      });
      for (let i = 0; i < 3; i++) {
        const answer = await call('GET', '/databases/busy/backup');
        expect(answer.status).toBe(200);
        expect(answer.contentType).toBe('application/vnd.sqlite3');
        copies.push(answer.bytes);
      }
      await writes;
      await loop.disconnect();

      const central = test.server.store.open('busy').replica;
      const versions: number[] = [];
      const centralRows = new Map(tableRows(central, 'todos').map((row) => [row[0], row]));
      for (const [index, bytes] of copies.entries()) {
        const path = join(folder, `copy${index}.db`);
        await writeFile(path, bytes);
        const check = openReplica(':memory:');
        check.db.prepare('ATTACH ? AS copy').run(path);
        expect(check.db.prepare('PRAGMA copy.integrity_check').pluck().all()).toEqual(['ok']);
        check.close();

        // Served by a second server as its own database, the copy syncs to a fresh replica.
        const restored = await TestServer.start();
        try {
          await copyFile(path, join(restored.dataDir, 'databases', 'restored.db'));
          const restoredCentral = restored.server.store.open('restored').replica;
          const backupRows = tableRows(restoredCentral, 'todos');
          versions.push(restoredCentral.version);
          // Rows only ever arrive, so a consistent copy holds exactly some of the live rows.
          for (const row of backupRows) expect(centralRows.get(row[0])).toEqual(row);
          const reader = await clientReplica();
          const client = startLoop(
            reader,
            httpTransport(restored.url, 'restored'),
            await restored.userToken('carol'),
          );
          await client.syncNow();
          await client.disconnect();
          expect(tableRows(reader, 'todos')).toEqual(backupRows);
          reader.close();
        } finally {
          await restored.dispose();
        }
      }
      // Each copy is a snapshot of one instant, taken in order.
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(written).toBe(300);
    } finally {
      writer.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});
