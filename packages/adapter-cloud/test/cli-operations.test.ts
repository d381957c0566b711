import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openReplica } from '@offsync/adapter-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run.js';
import { TestServer } from './support/test-server.js';

// The operator commands against a real server on loopback, held to the conventions of
// docs/cli.md (help, --json, exit codes, one-line errors, no stack traces): the built CLI in its
// own process where the process matters (help, exit status), else the same program run in this
// process (runCli, what main.ts calls) to keep the file fast on a busy machine.
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const DOCS = fileURLToPath(new URL('../../../docs/cli.md', import.meta.url));
const SCHEMA = `
  CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT NOT NULL DEFAULT '');
  CREATE TABLE lists(id TEXT PRIMARY KEY NOT NULL);
  CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, list TEXT REFERENCES lists(id));
`;

let test: TestServer;
let dir: string;

interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

function globalsOf(options: { readonly globals?: boolean }): string[] {
  return options.globals === false
    ? []
    : ['--url', test.url, '--key', test.adminKey, '--data', test.dataDir];
}

/** Runs the `offsync` program in this process, with its output captured. */
async function cli(
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly globals?: boolean } = {},
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(
    [...args, ...globalsOf(options)],
    {
      out: (text) => {
        stdout += text;
      },
      err: (text) => {
        stderr += text;
      },
    },
    { ...process.env, OFFSYNC_DEBUG: '', ...options.env },
  );
  return { stdout, stderr, code };
}

/** Runs `offsync` in its own process with the test server's URL, admin key and data folder unless told otherwise. */
function offsync(
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly globals?: boolean } = {},
): Promise<Run> {
  const globals = globalsOf(options);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args, ...globals],
      { cwd: dir, timeout: 60_000, env: { ...process.env, OFFSYNC_DEBUG: '', ...options.env } },
      (error, stdout, stderr) =>
        resolve({ stdout, stderr, code: error ? Number((error as { code?: unknown }).code) : 0 }),
    );
  });
}

/** A failure the way docs/cli.md promises it: one `offsync:` line (plus a usage hint), no stack. */
function expectOneLine(run: Run, code: number, pattern: RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^offsync: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines.length, run.stderr).toBeLessThanOrEqual(2);
  if (lines.length === 2) expect(lines[1]).toMatch(/^\(run "offsync.* --help" for usage\)$/);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`build first (npx tsc -b): ${CLI} is missing`);
  dir = mkdtempSync(join(tmpdir(), 'offsync-cli-ops-'));
  writeFileSync(join(dir, 'schema.sql'), SCHEMA);
  test = await TestServer.start();
});

afterAll(async () => {
  await test.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('offsync help and usage', () => {
  it('lists every command documented in docs/cli.md, and per-command help both ways', async () => {
    const documented = [...readFileSync(DOCS, 'utf8').matchAll(/^### `offsync ([a-z ]+)`$/gm)].map(
      (match) => match[1]!,
    );
    expect(documented.length).toBeGreaterThanOrEqual(21);
    const [help, commandHelp, helpCommand, bare] = await Promise.all([
      offsync(['--help'], { globals: false }),
      offsync(['db', 'delete', '--help'], { globals: false }),
      offsync(['help', 'db', 'delete'], { globals: false }),
      offsync([], { globals: false }),
    ]);
    expect(help.code).toBe(0);
    for (const command of documented)
      expect(help.stdout, command).toMatch(new RegExp(`^  offsync ${command}( |$)`, 'm'));
    expect(bare).toEqual(help);
    expect(commandHelp.code).toBe(0);
    expect(commandHelp.stdout).toContain('Usage: offsync db delete [options] <db>');
    expect(commandHelp.stdout).toContain('--yes');
    expect(helpCommand).toEqual(commandHelp);
  });

  it('refuses unknown options, extra and missing arguments and bad values with exit 2 and one line', async () => {
    const [unknownOption, extra, missing, badOperation, unknownSub, badPort] = await Promise.all([
      cli(['db', 'list', '--bogus']),
      cli(['db', 'create', 'a', 'b']),
      cli(['table', 'enable', 'app']),
      cli(['policy', 'set', 'app', 'todos', 'drop', 'true']),
      cli(['key', 'frobnicate']),
      cli(['serve', '--port', '99999']),
    ]);
    expectOneLine(unknownOption, 2, /unknown option '--bogus'/);
    expect(unknownOption.stderr).toContain('(run "offsync db list --help" for usage)');
    expectOneLine(extra, 2, /too many arguments for 'create'/);
    expectOneLine(missing, 2, /missing required argument 'table'/);
    expectOneLine(badOperation, 2, /operation must be one of select, insert, update, delete/);
    expectOneLine(unknownSub, 2, /unknown command 'frobnicate'/);
    expectOneLine(badPort, 2, /--port takes a whole number from 0 to 65535/);
    // The same through the real binary: its exit status and stderr are what runCli returned.
    const [spawnedUsage, spawnedFailure] = await Promise.all([
      offsync(['db', 'list', '--bogus']),
      offsync(['table', 'list', 'nope']),
    ]);
    expect(spawnedUsage).toEqual(unknownOption);
    expectOneLine(spawnedFailure, 1, /^offsync: not-found: database "nope" does not exist/);
  });

  it('names the URL and the fix when the server cannot be reached, and prints server errors as code + message', async () => {
    const [unreachable, fromEnv, notFound, forged] = await Promise.all([
      cli(['db', 'list', '--url', 'http://127.0.0.1:9', '--key', test.adminKey], {
        globals: false,
      }),
      cli(['status', '--key', test.adminKey], {
        globals: false,
        env: { OFFSYNC_URL: 'http://127.0.0.1:9' },
      }),
      cli(['table', 'list', 'nope']),
      cli(['db', 'list', '--url', test.url, '--key', 'osk_admin_forged'], { globals: false }),
    ]);
    expectOneLine(
      unreachable,
      1,
      /^offsync: cannot reach the server at http:\/\/127\.0\.0\.1:9 \(.+\): is offsync serve running\? \(--url\/OFFSYNC_URL\)$/,
    );
    expectOneLine(fromEnv, 1, /cannot reach the server at http:\/\/127\.0\.0\.1:9 /);
    expectOneLine(notFound, 1, /^offsync: not-found: database "nope" does not exist \(HTTP 404\)$/);
    expectOneLine(forged, 1, /\(HTTP 401\)$/);
  });
});

describe('offsync operator commands', () => {
  it('creates, lists as a table or JSON (never mixed), and deletes a database only with --yes', async () => {
    expect((await cli(['db', 'create', 'app', '--schema', join(dir, 'schema.sql')])).stdout).toBe(
      'created database app (3 table(s))\n',
    );
    const [table, json, tables, tablesJson, status] = await Promise.all([
      cli(['db', 'list']),
      cli(['db', 'list', '--json']),
      cli(['table', 'list', 'app']),
      cli(['table', 'list', 'app', '--json']),
      cli(['status', '--json']),
    ]);
    expect(table.stdout).toMatch(/^name\s+syncedTables\s+tables/);
    expect(table.stdout).toMatch(/^app\s+0\s+3\s/m);
    expect(() => JSON.parse(table.stdout)).toThrow();
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ name: 'app', tables: 3 })]);
    expect(tables.stdout).toMatch(/^todos\s+off\s+id/m);
    expect(JSON.parse(tablesJson.stdout)).toHaveLength(3);
    expect(JSON.parse(status.stdout)).toMatchObject({ ok: true, url: test.url });

    const refused = await cli(['db', 'delete', 'app']);
    expectOneLine(refused, 2, /refusing to delete database app without --yes/);
    expect(existsSync(join(test.dataDir, 'databases', 'app.db'))).toBe(true);
    await cli(['db', 'create', 'scratch']);
    expect((await cli(['db', 'delete', 'scratch', '--yes'])).stdout).toBe(
      'deleted database scratch\n',
    );
    expect(existsSync(join(test.dataDir, 'databases', 'scratch.db'))).toBe(false);
  });

  it('reaches allowForeignKeys from table enable, and lists policies', async () => {
    const refused = await cli(['table', 'enable', 'app', 'items']);
    expectOneLine(refused, 1, /allowForeignKeys/);
    expect((await cli(['table', 'enable', 'app', 'items', '--allow-foreign-keys'])).code).toBe(0);
    expect((await cli(['table', 'enable', 'app', 'todos'])).code).toBe(0);
    for (const operation of ['select', 'insert', 'update', 'delete'])
      expect((await cli(['policy', 'set', 'app', 'todos', operation, 'true'])).code).toBe(0);
    await cli(['policy', 'set', 'app', 'items', 'select', 'list IS NOT NULL']);
    const [shown, json] = await Promise.all([
      cli(['policy', 'list', 'app']),
      cli(['policy', 'list', 'app', '--json']),
    ]);
    expect(shown.stdout).toMatch(/^items\s+select\s+list IS NOT NULL$/m);
    expect(shown.stdout).toMatch(/^todos\s+delete\s+true$/m);
    expect(JSON.parse(json.stdout)).toEqual({
      items: { select: 'list IS NOT NULL' },
      todos: { select: 'true', insert: 'true', update: 'true', delete: 'true' },
    });
  });

  it('creates a key shown once, lists keys without secrets, and a revoked key stops working', async () => {
    const created = await cli(['key', 'create', '--name', 'ci', '--json']);
    const { id, key } = JSON.parse(created.stdout) as { id: string; key: string };
    expect(key).toMatch(/^osk_admin_/);
    const withNewKey = await cli(['db', 'list', '--url', test.url, '--key', key], {
      globals: false,
    });
    expect(withNewKey.code).toBe(0);
    const [listed, listedJson] = await Promise.all([
      cli(['key', 'list']),
      cli(['key', 'list', '--json']),
    ]);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+ci\\s+admin\\s+\\d{4}-`, 'm'));
    expect(listed.stdout + listedJson.stdout).not.toContain(key);
    expect(JSON.parse(listedJson.stdout)).toContainEqual(
      expect.objectContaining({ id, name: 'ci', role: 'admin' }),
    );
    expect((await cli(['key', 'revoke', id])).stdout).toBe(`revoked key ${id}\n`);
    const afterRevoke = await cli(['db', 'list', '--url', test.url, '--key', key], {
      globals: false,
    });
    expectOneLine(afterRevoke, 1, /revoked.*\(HTTP 401\)$/);
    expectOneLine(await cli(['key', 'revoke', id]), 1, /^offsync: no-such-key: /);
  });

  it('issues tokens with --aud and --iss, lists a synced device and revokes it', async () => {
    const issued = await cli([
      'token',
      'issue',
      '--sub',
      'alice',
      '--db',
      'app',
      '--aud',
      'my-api',
      '--iss',
      'https://issuer.example',
    ]);
    const token = issued.stdout.trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
    expect(claims).toMatchObject({
      sub: 'alice',
      aud: ['offsync:app', 'my-api'],
      iss: 'https://issuer.example',
    });
    const local = join(dir, 'device.db');
    const seed = openReplica(local);
    seed.db.exec(SCHEMA);
    seed.enableSync('todos');
    seed.db.prepare('INSERT INTO todos VALUES (?, ?)').run('t1', 'milk');
    const site = seed.site;
    seed.close();
    const sync = ['sync', '--db', 'app', '--file', local, '--token', token];
    expect((await offsync(sync)).code).toBe(0);

    const [devices, devicesJson] = await Promise.all([
      cli(['device', 'list', 'app']),
      cli(['device', 'list', 'app', '--json']),
    ]);
    expect(devices.stdout).toMatch(new RegExp(`^${site}\\s+alice\\s+no\\s+\\d{4}-`, 'm'));
    expect(JSON.parse(devicesJson.stdout)).toEqual([
      expect.objectContaining({ site, user: 'alice', connected: false }),
    ]);
    expect((await cli(['device', 'revoke', 'app', site])).stdout).toBe(
      `revoked device ${site} of app: 0 session(s) closed\n`,
    );
    const again = await offsync(sync);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/device-revoked|was revoked/);
    expect(again.stderr).not.toMatch(/^\s+at /m);
    expectOneLine(
      await cli(['device', 'revoke', 'app', 'ffffffffffffffffffffffffffffffff']),
      1,
      /^offsync: no-such-device: /,
    );
  });

  it('backs up online and offline into copies that pass integrity_check, never over a file unasked', async () => {
    const online = await cli(['backup', 'app', '--out', join(dir, 'app-online.db'), '--json']);
    expect(online.code, online.stderr).toBe(0);
    expect(JSON.parse(online.stdout)).toMatchObject({
      database: 'app',
      integrity: 'ok',
      mode: 'online',
      tables: expect.any(Number),
    });
    const offline = await cli(['backup', 'app', '--out', join(dir, 'app-offline.db'), '--offline']);
    expect(offline.stdout).toMatch(
      /^backed up app to .*app-offline\.db \(\d+ bytes, \d+ table\(s\), integrity ok\)\n$/,
    );
    for (const file of ['app-online.db', 'app-offline.db']) {
      const check = openReplica(':memory:');
      check.db.prepare('ATTACH ? AS copy').run(join(dir, file));
      expect(check.db.prepare('PRAGMA copy.integrity_check').pluck().all()).toEqual(['ok']);
      expect(check.db.prepare('SELECT id, title FROM copy.todos').all()).toEqual([
        { id: 't1', title: 'milk' },
      ]);
      check.close();
    }
    expectOneLine(
      await cli(['backup', 'app', '--out', join(dir, 'app-online.db')]),
      2,
      /exists; pass --force/,
    );
    expect(
      (await cli(['backup', 'app', '--out', join(dir, 'app-online.db'), '--force'])).code,
    ).toBe(0);
    const missing = await cli(['backup', 'nope', '--out', join(dir, 'nope.db')]);
    expectOneLine(missing, 1, /^offsync: not-found: /);
    expect(existsSync(join(dir, 'nope.db'))).toBe(false);
    expect(existsSync(join(dir, 'nope.db.partial'))).toBe(false);
    expectOneLine(await cli(['backup', 'app']), 2, /missing --out/);
  });

  it('inspect --json prints the decoded changeset as one JSON document', async () => {
    const replica = openReplica(':memory:');
    replica.db.exec(SCHEMA);
    replica.enableSync('todos');
    replica.db.prepare('INSERT INTO todos VALUES (?, ?)').run('t1', 'milk');
    const file = join(dir, 'push.bin');
    writeFileSync(file, replica.changesetSince(0).bytes);
    replica.close();
    const shown = await cli(['inspect', file, '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      changeset: {
        changes: [
          { table: 'todos', key: ['"t1"'], cl: 1, column: null },
          { table: 'todos', key: ['"t1"'], cl: 1, column: 'title', value: '"milk"' },
        ],
      },
    });
    writeFileSync(join(dir, 'broken.bin'), new Uint8Array([1, 2, 3]));
    expectOneLine(await cli(['inspect', join(dir, 'broken.bin'), '--json']), 1, /cannot decode/);
  });

  it('migrate and user revoke print the server answers of their routes', async () => {
    writeFileSync(join(dir, '002-due.sql'), 'ALTER TABLE todos ADD COLUMN due TEXT;');
    const migrated = await cli(['migrate', 'app', join(dir, '002-due.sql'), '--json']);
    expect(migrated.code, migrated.stderr).toBe(0);
    const result = JSON.parse(migrated.stdout) as { version: number; tables: { table: string }[] };
    expect(result.tables.map((table) => table.table)).toContain('todos');
    const revoked = await cli(['user', 'revoke', 'app', 'alice']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(
      /^revoked user alice of app: \d+ session\(s\) closed, tokens issued before \d{4}-/,
    );
  });
});
