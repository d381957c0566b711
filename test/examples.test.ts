import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { issueDevToken } from '@offsync/adapter-cloud';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FencedBlock, fencedBlocks } from './support/fenced-blocks.js';

// The README's path as a stranger follows it: every block a reader copies is a file in
// examples/ (checked byte for byte), every example runs under plain Node from the checkout
// against the built packages, and every output the guides show is what the run prints.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GUIDES = ['README.md', 'docs/getting-started.md'];
const BUILT = [
  'packages/core/dist/index.js',
  'packages/adapter-node/dist/index.js',
  'packages/adapter-cloud/dist/index.js',
  // The bin link resolves only once its target is built.
  'node_modules/.bin/offsync',
];
// The `offsync` bin as npm links it in the checkout. The CLI flow script runs it through npx, as
// a reader does; the test's own calls skip npx's start-up time.
const OFFSYNC = join(ROOT, 'node_modules', '.bin', 'offsync');
// npx must take `offsync` from the checkout's node_modules/.bin, never download a package of
// that name from the registry.
const LOCAL_ONLY = { ...process.env, npm_config_yes: 'false', NO_COLOR: '1' };

interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = LOCAL_ONLY,
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ stdout, stderr, code });
    });
  });
}

/** A loopback port nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const blocks: readonly (FencedBlock & { readonly guide: string })[] = GUIDES.flatMap((guide) =>
  fencedBlocks(readFileSync(join(ROOT, guide), 'utf8')).map((block) => ({ ...block, guide })),
);
const where = (block: { guide: string; line: number }): string => `${block.guide}:${block.line}`;
const marked = (kind: string): typeof blocks => blocks.filter((b) => b.marker?.kind === kind);

/** The single block whose marker is `kind: target`. */
function block(kind: string, target: string): FencedBlock {
  const found = blocks.filter((b) => b.marker?.kind === kind && b.marker.target === target);
  expect(found.map(where), `one <!-- ${kind}: ${target} --> block`).toHaveLength(1);
  return found[0]!;
}

beforeAll(() => {
  const missing = BUILT.filter((file) => !existsSync(join(ROOT, file)));
  if (missing.length > 0)
    throw new Error(`build first (npm run build; npm test does it): ${missing.join(', ')}`);
});

describe('the guides show only what CI runs', () => {
  it('marks every fenced block as an example file, an output or a command', () => {
    expect(blocks.filter((b) => b.marker === undefined).map(where)).toEqual([]);
    expect(marked('example').length).toBeGreaterThan(0);
  });

  it('shows every example exactly as its file', () => {
    for (const shown of marked('example')) {
      const file = join(ROOT, shown.marker!.target);
      expect(existsSync(file), `${where(shown)} names ${shown.marker!.target}`).toBe(true);
      expect(shown.content, `${where(shown)} differs from ${shown.marker!.target}`).toBe(
        readFileSync(file, 'utf8'),
      );
    }
  });

  it('shows every file of examples/ and runs each script', () => {
    const files = readdirSync(join(ROOT, 'examples'), { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => `examples/${entry.name}`);
    const shown = new Set(marked('example').map((b) => b.marker!.target));
    expect(files.filter((file) => !shown.has(file))).toEqual([]);
    // A script runs when a guide shows its output, or when a script that runs calls it. Output
    // ends are checked by the CLI flow below, which starts the server they need: only that one.
    expect(marked('output-end').map((b) => b.marker!.target)).toEqual(['sh examples/cli-flow.sh']);
    const outputs = [...marked('output'), ...marked('output-end')].map((b) => b.marker!.target);
    const ran = new Set(outputs.map((command) => command.split(' ')[1]));
    for (const file of [...ran]) {
      for (const called of readFileSync(join(ROOT, file!), 'utf8').matchAll(
        /\bnode (examples\/\S+)/g,
      ))
        ran.add(called[1]);
    }
    const scripts = files.filter((file) => /\.(mjs|sh)$/.test(file));
    expect(scripts.filter((file) => !ran.has(file))).toEqual([]);
  });

  it('types only commands that exist: files, npm scripts and offsync commands', async () => {
    const scripts = Object.keys(
      (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: object }).scripts,
    );
    const help = await run(process.execPath, [OFFSYNC, '--help']);
    expect(help.code, help.stderr).toBe(0);
    const problems: string[] = [];
    for (const shown of marked('command')) {
      for (const command of shown.content.split(/\n|&&/).map((text) => text.trim())) {
        if (command === '') continue;
        const words = command.split(/\s+/);
        const [tool, first, second] = words;
        const ok =
          tool === 'node' || tool === 'sh'
            ? existsSync(join(ROOT, first!))
            : tool === 'npm'
              ? first === 'ci' ||
                ((first === 'test' || first === 'start') && scripts.includes(first)) ||
                (first === 'run' && scripts.includes(second!))
              : tool === 'npx' && first === 'offsync'
                ? new RegExp(`^\\s*(offsync )?${second}\\b`, 'm').test(help.stdout)
                : false;
        if (!ok) problems.push(`${where(shown)}: ${command}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('the examples print what the guides show', () => {
  const commands = new Set(marked('output').map((shown) => shown.marker!.target));
  for (const command of commands) {
    const shownAt = marked('output').filter((shown) => shown.marker!.target === command);
    it(`${command} prints the block at ${shownAt.map(where).join(' and ')}`, async () => {
      const [tool, file, ...rest] = command.split(' ');
      expect(tool).toBe('node');
      const result = await run(process.execPath, [file!, ...rest]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      for (const shown of shownAt) expect(result.stdout, where(shown)).toBe(shown.content);
    });
  }
});

describe('the CLI flow against `npx offsync serve` on 127.0.0.1', () => {
  let dir: string;
  let server: ChildProcess;
  let url: string;
  let adminKey: string;
  const app = (token: string, device: string, at = url): Promise<Run> =>
    run(process.execPath, ['examples/app.mjs', join(dir, device)], {
      ...LOCAL_ONLY,
      OFFSYNC_URL: at,
      OFFSYNC_TOKEN: token,
    });
  const serverVersion = async (): Promise<number> => {
    const response = await fetch(`${url}/v1/admin/databases`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    const databases = (await response.json()) as { name: string; version: number }[];
    return databases.find((db) => db.name === 'todo-app')!.version;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offsync-examples-'));
    // Its own process group: npx runs the server as its child, and the group ends both.
    server = spawn('npx', ['offsync', 'serve', '--data', join(dir, 'data'), '--port', '0'], {
      cwd: ROOT,
      env: LOCAL_ONLY,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await new Promise<string>((resolve, reject) => {
      let output = '';
      server.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      server.once('exit', (code) => reject(new Error(`server exited (${code}): ${output}`)));
      server.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const found = /serving .* on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (found) resolve(found[1]!);
      });
    });
    adminKey = readFileSync(join(dir, 'data', 'admin.key'), 'utf8').trim();
  });

  afterAll(async () => {
    if (server.exitCode === null && server.signalCode === null) {
      process.kill(-server.pid!, 'SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('sets the server up with the CLI and syncs the app, ending as the README shows', async () => {
    const result = await run('sh', ['examples/cli-flow.sh'], {
      ...LOCAL_ONLY,
      OFFSYNC_URL: url,
      OFFSYNC_DATA: join(dir, 'data'),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('sync enabled for todo-app.todos\n');
    for (const operation of ['select', 'insert', 'update', 'delete'])
      expect(result.stdout).toContain(`policy ${operation} of todo-app.todos set\n`);
    expect(result.stdout.endsWith(block('output-end', 'sh examples/cli-flow.sh').content)).toBe(
      true,
    );
    expect(await serverVersion()).toBeGreaterThan(0);
  });

  it('keeps writes made while the server is unreachable and syncs them on the next run', async () => {
    const token = (
      await run(process.execPath, [
        OFFSYNC,
        'token',
        'issue',
        ...['--sub', 'alice', '--db', 'todo-app', '--data', join(dir, 'data')],
      ])
    ).stdout.trim();
    const before = await serverVersion();
    const offline = await app(token, 'phone.db', `http://127.0.0.1:${await closedPort()}`);
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toBe('offline, 4 change(s) pending\nt1  [ ] Buy milk\n');
    expect(offline.stderr).toMatch(/^offline: .*unreachable/);
    const online = await app(token, 'phone.db');
    expect(online.code, online.stderr).toBe(0);
    expect(online.stdout).toBe('synced, 0 change(s) pending\nt1  [ ] Buy milk\n');
    // The queued write reached the server (a later write of the same values).
    expect(await serverVersion()).toBeGreaterThan(before);
  });

  it('refuses forged, malformed and other-database tokens with the reason, changing nothing', async () => {
    const before = await serverVersion();
    const forged = await issueDevToken({
      secret: 'not the server secret, but 32 bytes or more',
      sub: 'alice',
      ttlSeconds: 3600,
      audience: 'offsync:todo-app',
    });
    const otherDatabase = (
      await run(process.execPath, [
        OFFSYNC,
        'token',
        'issue',
        ...['--sub', 'alice', '--db', 'other-app', '--data', join(dir, 'data')],
      ])
    ).stdout.trim();
    const attempts = [
      [forged, /^error: the token signature is invalid\n$/],
      ['not-a-token', /^error: the token is not a well-formed signed JWT\n$/],
      [otherDatabase, /^error: the token was issued for another database, not "todo-app"\n$/],
    ] as const;
    const refused = await Promise.all(attempts.map(([token], i) => app(token, `refused-${i}.db`)));
    for (const [i, [, reason]] of attempts.entries()) {
      expect(refused[i]!.code).toBe(1);
      expect(refused[i]!.stderr).toMatch(reason);
      expect(refused[i]!.stdout.split('\n')[0]).toBe('error, 4 change(s) pending');
    }
    expect(await serverVersion()).toBe(before);
  });

  it('stops on SIGTERM and leaves exactly alice’s row in the central database', async () => {
    process.kill(-server.pid!, 'SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    const central = new Database(join(dir, 'data', 'databases', 'todo-app.db'), {
      readonly: true,
    });
    try {
      const rows = central
        .prepare('SELECT quote(id), quote(owner), quote(title), quote(done) FROM todos')
        .raw()
        .all();
      expect(rows).toEqual([["'t1'", "'alice'", "'Buy milk'", '0']]);
    } finally {
      central.close();
    }
  });
});
