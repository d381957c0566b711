import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openReplica } from '@offsync/adapter-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The `offsync` command as a user runs it: real processes against the built CLI (npm test builds
// before vitest runs), a real server on loopback.
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const run = promisify(execFile);
const SCHEMA =
  "CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT NOT NULL DEFAULT '');\nCREATE TABLE notes(body TEXT);";

let dir: string;
let server: ChildProcess;
let url: string;

async function offsync(
  ...args: string[]
): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args, '--url', url], {
      cwd: dir,
      timeout: 60_000,
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failure = error as { stdout: string; stderr: string; code: number };
    return { stdout: failure.stdout, stderr: failure.stderr, code: failure.code };
  }
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`build first (npm run build): ${CLI} is missing`);
  dir = mkdtempSync(join(tmpdir(), 'offsync-cli-'));
  writeFileSync(join(dir, 'schema.sql'), SCHEMA);
  server = spawn(process.execPath, [CLI, 'serve', '--data', './data', '--port', '0'], { cwd: dir });
  url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 30_000);
    server.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /serving .* on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
});

afterAll(async () => {
  if (server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('offsync CLI', () => {
  it('serve prints the admin key once and saves it for the other commands', () => {
    const key = readFileSync(join(dir, 'data', 'admin.key'), 'utf8').trim();
    expect(key).toMatch(/^osk_admin_/);
  });

  it('creates a database from a schema file, lists it, enables a table, refuses a bad one', async () => {
    const created = await offsync('db', 'create', 'app', '--schema', 'schema.sql', '--json');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout).name).toBe('app');
    expect((await offsync('db', 'list')).stdout).toMatch(/^app\s+0\s+2/m);
    expect((await offsync('table', 'enable', 'app', 'todos')).stdout).toContain(
      'sync enabled for app.todos',
    );
    const refused = await offsync('table', 'enable', 'app', 'notes');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('has no primary key');
    const tables = (await offsync('table', 'list', 'app')).stdout;
    expect(tables).toMatch(/^todos\s+on\s+id\s+v1:[0-9a-f]{16}/m);
    expect(tables).toMatch(/^notes\s+off/m);
    expect((await offsync('policy', 'set', 'app', 'todos', 'select', 'true')).code).toBe(0);
    expect(
      (await offsync('policy', 'set', 'app', 'todos', 'insert', 'nope = auth.sub')).stderr,
    ).toContain('no such column: nope');
  });

  it('issues a development token that the server accepts, and syncs a local file with progress', async () => {
    for (const operation of ['insert', 'update', 'delete'])
      await offsync('policy', 'set', 'app', 'todos', operation, 'true');
    const token = (
      await offsync(
        'token',
        'issue',
        '--sub',
        'alice',
        '--db',
        'app',
        '--ttl',
        '15m',
        '--claim',
        'tenant=acme',
      )
    ).stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const local = join(dir, 'local.db');
    const seed = openReplica(local);
    seed.db.exec(SCHEMA);
    seed.enableSync('todos');
    for (let i = 0; i < 50; i++)
      seed.db.prepare('INSERT INTO todos VALUES (?, ?)').run(`t${i}`, `todo ${i}`);
    seed.close();
    const synced = await offsync('sync', '--db', 'app', '--file', 'local.db', '--token', token);
    expect(synced.code).toBe(0);
    expect(synced.stderr).toMatch(/sync: synced: local version \d+, server version \d+/);
    const status = (await offsync('status')).stdout;
    expect(status).toMatch(/1 database\(s\)/);
    expect(status).toMatch(/^app\s+1\s+1\s/m);
    const bad = await offsync('token', 'issue', '--sub', 'alice', '--db', 'app', '--ttl', 'soon');
    expect(bad.code).toBe(1);
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });

  it('inspects a changeset file change by change', async () => {
    const replica = openReplica(':memory:');
    replica.db.exec(SCHEMA);
    replica.enableSync('todos');
    replica.db.prepare('INSERT INTO todos VALUES (?, ?)').run('t1', 'milk');
    writeFileSync(join(dir, 'push.bin'), replica.changesetSince(0).bytes);
    replica.close();
    const shown = await offsync('inspect', 'push.bin');
    expect(shown.stdout).toContain('changeset: 2 change(s)');
    expect(shown.stdout).toContain('todos ("t1") cl=1 row present');
    expect(shown.stdout).toContain('todos ("t1") cl=1 title = "milk"');
    writeFileSync(join(dir, 'broken.bin'), new Uint8Array([1, 2, 3]));
    const broken = await offsync('inspect', 'broken.bin');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('cannot decode');
  });

  it('refuses unknown commands with usage (exit 2) and shuts the server down gracefully on SIGTERM', async () => {
    const unknown = await offsync('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      `offsync: unknown command 'frobnicate'\n(run "offsync --help" for usage)\n`,
    );
    server.kill('SIGTERM');
    const code = await new Promise((resolve) => server.once('exit', resolve));
    expect(code).toBe(0);
  });
});
