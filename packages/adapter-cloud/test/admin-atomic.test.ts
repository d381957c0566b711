import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeyStore, generateApiKey, type RunningServer, startServer } from '../src/index.js';

// Item 14 of issue 9 through the real server on loopback and the built CLI: admin operations
// are all or nothing and say what SQLite said, and a first start that fails never leaves behind
// an admin key nobody was shown.

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const GOOD_SCHEMA = 'CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, body TEXT)';
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'offsync-admin-atomic-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function serve(dataDir: string, adminKey?: string): Promise<RunningServer> {
  const server = await startServer({
    dataDir,
    port: 0,
    log: () => undefined,
    ...(adminKey ? { adminKey } : {}),
  });
  cleanups.push(() => server.close());
  return server;
}

async function admin(
  server: RunningServer,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: { error?: { code?: string; message?: string } } }> {
  const response = await fetch(`${server.url}/v1/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as never };
}

/** A port something else is listening on. */
async function busyPort(): Promise<number> {
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const address = blocker.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function activeAdminKeys(dataDir: string): Promise<number> {
  return ApiKeyStore.open(join(dataDir, 'keys.json')).then(
    (store) =>
      store.list().filter((info) => info.role === 'admin' && info.revokedAt === undefined).length,
  );
}

describe('admin operations are all or nothing', () => {
  it('a bad schema in POST /databases answers 400 with SQLite’s message and creates nothing', async () => {
    const dataDir = tempDir();
    const key = generateApiKey('admin');
    const server = await serve(dataDir, key);
    const refused = await admin(server, key, 'POST', '/databases', {
      name: 'app',
      schema: `${GOOD_SCHEMA}; CREATE TABLEX oops(a)`,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe('invalid-schema');
    expect(refused.body.error?.message).toContain('near "TABLEX": syntax error');
    expect(refused.body.error?.message).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect((await admin(server, key, 'GET', '/databases')).body).toEqual([]);
    expect(readdirSync(join(dataDir, 'databases'))).toEqual([]);

    // The retry with the schema fixed creates the database (not 409 for a half-made one).
    const created = await admin(server, key, 'POST', '/databases', {
      name: 'app',
      schema: GOOD_SCHEMA,
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: 'app', tables: 1 });
    expect(readdirSync(join(dataDir, 'databases')).filter((f) => !f.endsWith('-shm'))).toEqual([
      'app.db',
      'app.db-wal',
    ]);
    expect(
      (await admin(server, key, 'PUT', '/databases/app/tables/notes/sync', { enabled: true }))
        .status,
    ).toBe(200);
    expect(
      (await admin(server, key, 'POST', '/databases', { name: 'app', schema: GOOD_SCHEMA })).status,
    ).toBe(409);
  });

  it('admin SQL errors answer 400 with SQLite’s message, and a failing script changes nothing', async () => {
    const dataDir = tempDir();
    const key = generateApiKey('admin');
    const server = await serve(dataDir, key);
    await admin(server, key, 'POST', '/databases', { name: 'app', schema: GOOD_SCHEMA });
    const missing = await admin(server, key, 'POST', '/databases/app/sql', {
      sql: 'INSERT INTO nope VALUES (1)',
    });
    expect(missing).toEqual({
      status: 400,
      body: { error: expect.objectContaining({ code: 'sql', message: 'no such table: nope' }) },
    });

    const script = await admin(server, key, 'POST', '/databases/app/sql', {
      sql: "CREATE TABLE extra(id TEXT PRIMARY KEY NOT NULL); INSERT INTO notes VALUES ('n1', 'x'); INSERT INTO nope VALUES (1)",
    });
    expect(script.status).toBe(400);
    const driver = server.store.open('app').replica.driver;
    expect(driver.prepare("SELECT name FROM sqlite_schema WHERE name = 'extra'").all()).toEqual([]);
    expect(driver.prepare('SELECT quote(id) FROM notes').all()).toEqual([]);

    const ok = await admin(server, key, 'POST', '/databases/app/sql', {
      sql: "INSERT INTO notes VALUES ('n2', 'kept')",
    });
    expect(ok).toEqual({ status: 200, body: { ok: true } });
    expect(driver.prepare('SELECT quote(id), quote(body) FROM notes').all()).toEqual([
      ["'n2'", "'kept'"],
    ]);
  });
});

describe('a failed first start leaves no admin key nobody saw', () => {
  it('startServer on a port in use persists no generated key; the next start shows one that works', async () => {
    const dataDir = tempDir();
    const port = await busyPort();
    await expect(
      startServer({ dataDir, port, host: '127.0.0.1', log: () => undefined }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(await activeAdminKeys(dataDir)).toBe(0);

    const server = await serve(dataDir);
    const key = server.generatedAdminKey;
    expect(key).toMatch(/^osk_admin_/);
    expect((await admin(server, key!, 'GET', '/status')).status).toBe(200);
  });

  it('offsync serve on a port in use or a bad port exits with an error and saves no key', async () => {
    if (!existsSync(CLI)) throw new Error(`build first (npx tsc -b): ${CLI} is missing`);
    const dir = tempDir();
    const port = await busyPort();
    const inUse = spawnSync(
      process.execPath,
      [CLI, 'serve', '--data', './data', '--port', String(port)],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(inUse.status).toBe(1);
    expect(inUse.stderr).toContain('EADDRINUSE');
    expect(existsSync(join(dir, 'data', 'admin.key'))).toBe(false);
    expect(await activeAdminKeys(join(dir, 'data'))).toBe(0);

    const badPort = spawnSync(process.execPath, [CLI, 'serve', '--data', './data', '--port', 'x'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(badPort.status).toBe(2);
    expect(badPort.stderr).toContain('--port takes a whole number from 0 to 65535');
    expect(await activeAdminKeys(join(dir, 'data'))).toBe(0);

    // The first start that works shows the key and saves it.
    const child: ChildProcess = spawn(
      process.execPath,
      [CLI, 'serve', '--data', './data', '--port', '0'],
      { cwd: dir },
    );
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    );
    const output = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (/offsync serving/.test(text)) resolve(text);
      });
      child.once('exit', () => reject(new Error(`serve exited: ${text}`)));
    });
    const shown = /admin key \(saved to .*\): (osk_admin_\S+)/.exec(output)?.[1];
    expect(shown).toMatch(/^osk_admin_/);
    expect(await activeAdminKeys(join(dir, 'data'))).toBe(1);
  });
});
