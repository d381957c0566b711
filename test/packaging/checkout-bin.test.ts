import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './browser-bundle.js';
import { run } from './installed-project.js';

const CLOUD = join(REPO, 'packages/adapter-cloud');
const manifest = JSON.parse(readFileSync(join(CLOUD, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
};
const BIN = manifest.bin.offsync!;
// npx must run the checkout's bin, never fetch a package named `offsync` from the registry.
const LOCAL_ONLY = {
  ...process.env,
  npm_config_yes: 'false',
  npm_config_offline: 'true',
  NO_COLOR: '1',
};

let work = '';
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'offsync-bin-'));
});
afterAll(async () => {
  if (work !== '') await rm(work, { recursive: true, force: true });
});

/**
 * A workspace like the checkout: a root named `offsync` and one package whose `bin` is `bin`,
 * holding the committed shim and no dist/ (as right after `npm ci`, before `npm run build`).
 */
async function workspace(name: string, bin: Readonly<Record<string, string>>): Promise<string> {
  const root = join(work, name);
  await mkdir(join(root, 'cloud/bin'), { recursive: true });
  await writeFile(
    join(root, 'package.json'),
    JSON.stringify({ name: 'offsync', private: true, type: 'module', workspaces: ['cloud'] }),
  );
  await writeFile(
    join(root, 'cloud/package.json'),
    JSON.stringify({ name: '@offsync/adapter-cloud', version: '0.1.0', type: 'module', bin }),
  );
  await copyFile(join(CLOUD, BIN), join(root, 'cloud', BIN));
  const install = await run(
    'npm',
    ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    root,
    LOCAL_ONLY,
  );
  expect(install.stderr).toBe('');
  return root;
}

/** What `npm run build` adds: the CLI under dist/. */
async function build(root: string): Promise<void> {
  await mkdir(join(root, 'cloud/dist/cli'), { recursive: true });
  await writeFile(join(root, 'cloud/dist/cli/main.js'), "console.log('offsync cli ran');\n");
}

describe('the offsync bin in the checkout', () => {
  it('is a committed, executable file, so npm links it before anything is built', () => {
    expect(BIN.startsWith('./dist/')).toBe(false);
    expect(statSync(join(CLOUD, BIN)).mode & 0o111).not.toBe(0);
    // Not ignored by git: it ships in the checkout, unlike dist/.
    expect(() =>
      execFileSync('git', ['check-ignore', '-q', join(CLOUD, BIN)], { cwd: REPO }),
    ).toThrow();
  });

  it('after `npm ci` it is linked; before the build it says to build; after it runs the CLI', async () => {
    const root = await workspace('shim', { offsync: BIN });
    const linked = join(root, 'node_modules/.bin/offsync');
    expect(existsSync(linked)).toBe(true);
    // The link itself, as npx finds it (the checkout's own npx run is the last test).
    const unbuilt = await run(linked, ['--help'], root, LOCAL_ONLY);
    expect([unbuilt.code, unbuilt.stdout, unbuilt.stderr]).toEqual([
      1,
      '',
      'offsync: the CLI is not built yet; run `npm run build` first.\n',
    ]);
    await build(root);
    const built = await run(linked, ['--help'], root, LOCAL_ONLY);
    expect([built.code, built.stdout, built.stderr]).toEqual([0, 'offsync cli ran\n', '']);
  });

  it('pointing the bin into dist/ (as before) gets no link from npm: the bug this fixes', async () => {
    const root = await workspace('dist-bin', { offsync: './dist/cli/main.js' });
    await build(root);
    expect(existsSync(join(root, 'node_modules/.bin/offsync'))).toBe(false);
  });

  it('`npx offsync --help` works in this checkout', async () => {
    const help = await run('npx', ['offsync', '--help'], REPO, LOCAL_ONLY);
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/\bserve\b/);
  });
});
