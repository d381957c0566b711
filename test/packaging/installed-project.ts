// An empty project that installs the packed tarballs the way an app would (`npm ci` of a
// lockfile), offline: the tarballs are local files, and every public dependency is pinned to the
// exact version and integrity of the checkout's own package-lock.json, so npm takes it from the
// cache `npm ci` of the checkout filled, and never asks the registry (a fresh resolve would need
// the registry's package documents, which that cache does not hold).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { REPO } from './browser-bundle.js';

/** One entry of package-lock.json's `packages` map. */
interface LockEntry {
  readonly version?: string;
  readonly integrity?: string;
  readonly resolved?: string;
  readonly link?: boolean;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

/** A packed workspace package: its tarball and the manifest inside it. */
export interface PackedPackage {
  readonly name: string;
  readonly version: string;
  readonly tarball: string;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly bin?: Readonly<Record<string, string>>;
}

/** Result of a child process. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to completion (never throws on a non-zero exit).
 *
 * @example
 * ```ts
 * const { code, stdout } = await run('node', ['--version'], process.cwd());
 * ```
 */
export function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function checkoutLock(): Readonly<Record<string, LockEntry>> {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  return lock.packages;
}

/** Node's lookup of `name` from the package at `from` (`node_modules/a/node_modules/b`). */
function resolveInLock(
  lock: Readonly<Record<string, LockEntry>>,
  from: string,
  name: string,
): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (lock[candidate] !== undefined && lock[candidate].link !== true) return candidate;
    if (base === '') return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

/** The checkout's lock entries of `names` and everything they depend on, keyed by lock path. */
function closure(names: readonly string[]): Record<string, LockEntry> {
  const lock = checkoutLock();
  const picked: Record<string, LockEntry> = {};
  const queue: [string, string][] = names.map((name) => ['', name]);
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const [from, name] = next;
    const path = resolveInLock(lock, from, name);
    if (path === undefined)
      throw new Error(`${name} (needed by ${from || 'the app'}) is not in package-lock.json`);
    if (picked[path] !== undefined) continue;
    const entry = lock[path]!;
    // The app installs these for production: the checkout's dev flags would tell npm to skip them.
    const {
      dev: _dev,
      devOptional: _devOptional,
      optional: _optional,
      peer: _peer,
      ...kept
    } = entry;
    // The checkout's lock omits `resolved`; without it npm would ask for the package document to
    // find the tarball. With it and the integrity, the tarball comes from the cache by digest.
    const base = name.split('/').pop()!;
    picked[path] = {
      ...kept,
      resolved:
        entry.resolved ?? `https://registry.npmjs.org/${name}/-/${base}-${entry.version}.tgz`,
    };
    for (const dependency of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies }))
      queue.push([path, dependency]);
    for (const peer of Object.keys(entry.peerDependencies ?? {}))
      if (resolveInLock(lock, path, peer) !== undefined) queue.push([path, peer]);
  }
  return picked;
}

async function integrityOf(file: string): Promise<string> {
  return `sha512-${createHash('sha512')
    .update(await readFile(file))
    .digest('base64')}`;
}

/**
 * Writes `package.json` and `package-lock.json` of an app in `dir` that depends on `packed` (as
 * `file:` tarballs) and on `extra` public packages, then runs `npm ci --offline` there. The
 * install scripts are skipped: better-sqlite3's would compile SQLite for a minute; the checkout's
 * compiled addon (same version, same Node) is linked in instead.
 *
 * @example
 * ```ts
 * const install = await installTarballs(dir, packed, ['@types/node']);
 * expect(install.code).toBe(0);
 * ```
 */
export async function installTarballs(
  dir: string,
  packed: readonly PackedPackage[],
  extra: readonly string[],
): Promise<Run> {
  const ours = new Set(packed.map((pkg) => pkg.name));
  const publicDeps = new Set<string>(extra);
  for (const pkg of packed)
    for (const name of Object.keys(pkg.dependencies)) if (!ours.has(name)) publicDeps.add(name);
  const checkout = checkoutLock();
  const dependencies: Record<string, string> = {};
  for (const pkg of packed) dependencies[pkg.name] = `file:${basename(pkg.tarball)}`;
  for (const name of extra) dependencies[name] = checkout[`node_modules/${name}`]?.version ?? '*';
  const packages: Record<string, LockEntry> = {
    '': { name: 'installed-app', dependencies },
    ...closure([...publicDeps]),
  };
  for (const pkg of packed)
    packages[`node_modules/${pkg.name}`] = {
      version: pkg.version,
      resolved: `file:${basename(pkg.tarball)}`,
      integrity: await integrityOf(pkg.tarball),
      license: 'MIT',
      dependencies: pkg.dependencies,
      // npm ci links bins from the lockfile's entries, not from the unpacked manifests.
      ...(pkg.bin ? { bin: pkg.bin } : {}),
    };
  await writeFile(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'installed-app', private: true, type: 'module', dependencies }, null, 2)}\n`,
  );
  await writeFile(
    join(dir, 'package-lock.json'),
    `${JSON.stringify({ name: 'installed-app', lockfileVersion: 3, requires: true, packages }, null, 2)}\n`,
  );
  const install = await run(
    'npm',
    ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    dir,
  );
  if (install.code === 0 && publicDeps.has('better-sqlite3')) {
    const release = join(dir, 'node_modules/better-sqlite3/build');
    await mkdir(join(dir, 'node_modules/better-sqlite3'), { recursive: true });
    await symlink(join(REPO, 'node_modules/better-sqlite3/build'), release, 'dir');
  }
  return install;
}

/** What `npm pack --json` reports of one tarball. */
export interface PackReport {
  readonly name: string;
  readonly version: string;
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

/**
 * Packs the workspace packages in `dirs` (relative to the checkout, e.g. `packages/core`) into
 * `destination` with one `npm pack`, and returns each tarball with its manifest.
 *
 * @example
 * ```ts
 * const [core] = await packWorkspaces(['packages/core'], tmp);
 * ```
 */
export async function packWorkspaces(
  dirs: readonly string[],
  destination: string,
): Promise<{ readonly packed: PackedPackage[]; readonly reports: PackReport[] }> {
  const result = await run(
    'npm',
    [
      'pack',
      '--json',
      '--loglevel=error',
      '--pack-destination',
      destination,
      ...dirs.flatMap((dir) => ['-w', dir]),
    ],
    REPO,
  );
  if (result.code !== 0) throw new Error(`npm pack failed:\n${result.stderr}`);
  const reports = JSON.parse(result.stdout) as PackReport[];
  const packed = reports.map((report, index) => {
    const manifest = JSON.parse(readFileSync(join(REPO, dirs[index]!, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      bin?: Record<string, string>;
    };
    return {
      name: report.name,
      version: report.version,
      tarball: join(destination, report.filename),
      dependencies: manifest.dependencies ?? {},
      ...(manifest.bin ? { bin: manifest.bin } : {}),
    };
  });
  return { packed, reports };
}
