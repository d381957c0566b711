import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './browser-bundle.js';
import {
  installTarballs,
  type PackedPackage,
  type PackReport,
  packWorkspaces,
  type Run,
  run,
} from './installed-project.js';

// What an app installs, packed as `npm publish` would pack it.
const PACKAGES = [
  'packages/core',
  'packages/testkit',
  'packages/adapter-node',
  'packages/adapter-libsql',
  'packages/adapter-wasm',
  'packages/adapter-cloud',
  'packages/react',
];
// What the example app installs (the testkit is for binding authors and pulls in vitest).
const APP_PACKAGES = new Set([
  '@offsync/core',
  '@offsync/adapter-node',
  '@offsync/adapter-wasm',
  '@offsync/adapter-cloud',
  '@offsync/react',
]);
const TSC = join(REPO, 'node_modules/typescript/bin/tsc');
// npx must run the installed bin, never fetch a package named `offsync` from the registry.
const LOCAL_ONLY = {
  ...process.env,
  npm_config_yes: 'false',
  npm_config_offline: 'true',
  NO_COLOR: '1',
};

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly license?: string;
  readonly repository?: { readonly type: string; readonly url: string; readonly directory: string };
  readonly engines?: { readonly node?: string };
  readonly main?: string;
  readonly types?: string;
  readonly exports?: unknown;
  readonly bin?: Readonly<Record<string, string>>;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

/** Every file path an exports map can lead to, under any condition. */
function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return [exports];
  if (exports === null || typeof exports !== 'object') return [];
  return Object.values(exports).flatMap((value) => exportTargets(value));
}

const clean = (path: string): string => path.replace(/^\.\//, '');

/** The bare module specifiers a declaration file imports (comments and examples excluded). */
function declarationImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found = [
    ...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm),
  ];
  return found.map((match) => match[1]!).filter((specifier) => !specifier.startsWith('.'));
}

const packageOf = (specifier: string): string =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/** Whether the installed `name` ships its own declarations. */
function shipsTypes(name: string): boolean {
  const dir = join(REPO, 'node_modules', name);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest & {
    typings?: string;
  };
  if (manifest.types !== undefined || manifest.typings !== undefined) return true;
  if (JSON.stringify(manifest.exports ?? {}).includes('"types"')) return true;
  // Declarations beside the entry's JavaScript (`lib/x.js` and `lib/x.d.ts`) are found too.
  const entries = [...exportTargets(manifest.exports), manifest.main ?? 'index.js'];
  return entries.some((entry) =>
    existsSync(join(dir, entry.replace(/\.[cm]?js$/, '').concat('.d.ts'))),
  );
}

let work = '';
let app = '';
let packed: PackedPackage[] = [];
let reports: PackReport[] = [];
let install: Run = { code: -1, stdout: '', stderr: 'not run' };

beforeAll(async () => {
  for (const built of [
    'packages/core/dist/codec.js',
    'packages/adapter-cloud/dist/cli/main.js',
    'packages/react/dist/index.js',
  ])
    if (!existsSync(join(REPO, built)))
      throw new Error(`${built} is missing: run \`npm run build\``);
  // `npm test` type-checks (which builds dist/) but does not build the dashboard; a published
  // tarball must ship it, so build it here as `npm run build` would, when it is not there yet.
  if (!existsSync(join(REPO, 'packages/adapter-cloud/dashboard-dist/index.html')))
    await build({ configFile: join(REPO, 'packages/adapter-cloud/dashboard/vite.config.ts') });
  work = await mkdtemp(join(tmpdir(), 'offsync-packed-'));
  app = join(work, 'app');
  ({ packed, reports } = await packWorkspaces(PACKAGES, work));
  await mkdir(app);
  const forApp = packed.filter((pkg) => APP_PACKAGES.has(pkg.name));
  for (const pkg of forApp) await copyFile(pkg.tarball, join(app, basename(pkg.tarball)));
  install = await installTarballs(
    app,
    forApp.map((pkg) => ({ ...pkg, tarball: join(app, basename(pkg.tarball)) })),
    ['@types/node', 'react'],
  );
});

afterAll(async () => {
  // OFFSYNC_KEEP_PACKED=1 keeps the tarballs and the app for a look after a failure.
  if (work !== '' && process.env.OFFSYNC_KEEP_PACKED !== '1')
    await rm(work, { recursive: true, force: true });
});

describe('npm pack of every package', () => {
  it('packs each package once, at its version', () => {
    expect(reports.map((report) => report.name).sort()).toEqual(
      PACKAGES.map(
        (dir) =>
          (JSON.parse(readFileSync(join(REPO, dir, 'package.json'), 'utf8')) as Manifest).name,
      ).sort(),
    );
  });

  for (const dir of PACKAGES) {
    it(`${dir}: the tarball holds every file its package.json points at, and no tests`, () => {
      const manifest = JSON.parse(
        readFileSync(join(REPO, dir, 'package.json'), 'utf8'),
      ) as Manifest;
      const report = reports.find((candidate) => candidate.name === manifest.name)!;
      const files = new Set(report.files.map((file) => file.path));
      const pointed = [
        ...exportTargets(manifest.exports),
        ...(manifest.main ? [manifest.main] : []),
        ...(manifest.types ? [manifest.types] : []),
        ...Object.values(manifest.bin ?? {}),
      ].map(clean);
      expect(pointed.filter((path) => !files.has(path))).toEqual([]);
      expect(
        [...files].filter((path) =>
          /\.test\.ts$|\/test-support\/|\.tsbuildinfo$|^test\//.test(path),
        ),
      ).toEqual([]);
      for (const path of files)
        if (path.startsWith('dist/') && path.endsWith('.js'))
          expect(files.has(path.replace(/\.js$/, '.d.ts')), `${path} has types`).toBe(true);
      expect(files.has('README.md') && files.has('LICENSE')).toBe(true);
    });

    it(`${dir}: every package its declarations import is a dependency with types`, () => {
      const manifest = JSON.parse(
        readFileSync(join(REPO, dir, 'package.json'), 'utf8'),
      ) as Manifest;
      const report = reports.find((candidate) => candidate.name === manifest.name)!;
      const declared = { ...manifest.dependencies, ...manifest.peerDependencies };
      const problems: string[] = [];
      for (const { path } of report.files) {
        if (!path.endsWith('.d.ts')) continue;
        for (const specifier of declarationImports(readFileSync(join(REPO, dir, path), 'utf8'))) {
          // Node's own types come from the app's @types/node, as for any Node library.
          if (specifier.startsWith('node:')) continue;
          const name = packageOf(specifier);
          if (name === manifest.name) continue;
          if (declared[name] === undefined) problems.push(`${path}: ${name} is not a dependency`);
          else if (!shipsTypes(name) && declared[`@types/${name}`] === undefined)
            problems.push(`${path}: ${name} needs @types/${name} in dependencies`);
        }
      }
      expect(problems).toEqual([]);
    });

    it(`${dir}: the manifest is publishable (license, repository, engines, no workspace paths)`, () => {
      const manifest = JSON.parse(
        readFileSync(join(REPO, dir, 'package.json'), 'utf8'),
      ) as Manifest;
      expect(manifest.license).toBe('MIT');
      expect(manifest.repository?.directory).toBe(dir);
      expect(manifest.engines?.node).toMatch(/^>=\d+/);
      const versions = new Map(packed.map((pkg) => [pkg.name, pkg.version]));
      for (const [name, spec] of Object.entries({
        ...manifest.dependencies,
        ...manifest.peerDependencies,
      })) {
        expect(spec, `${name}`).not.toMatch(/^(file|link|workspace|portal):|^\.{0,2}\//);
        if (versions.has(name)) expect(spec, `${name}`).toBe(versions.get(name));
      }
    });
  }
});

describe('an empty project that installs the tarballs', () => {
  it('installs offline', () => {
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
  });

  it('typechecks the README example against the installed types and runs it', async () => {
    await copyFile(join(REPO, 'test/packaging/fixtures/example.ts'), join(app, 'example.ts'));
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          types: ['node'],
          lib: ['ES2022', 'DOM'],
          // As most apps build; the declarations' own imports are audited above instead.
          skipLibCheck: true,
          outDir: 'out',
        },
        files: ['example.ts'],
      }),
    );
    const compile = await run('node', [TSC, '-p', 'tsconfig.json'], app);
    expect(compile.stdout + compile.stderr).toBe('');
    expect(compile.code).toBe(0);
    const example = await run('node', ['out/example.js'], app);
    expect(example.stderr).toBe('');
    expect(example.stdout.split('\n')).toEqual([
      "phone: 't1', 'alice', 'Buy milk', 0 | 't2', 'alice', 'Book flights', 1",
      "browser: 't1', 'alice', 'Buy milk', 0 | 't2', 'alice', 'Book flights', 1",
      'same: true',
      'entries: function function number',
      '',
    ]);
    expect(example.code).toBe(0);
  });

  it('typechecks a browser app against the browser entries with DOM types only', async () => {
    await copyFile(
      join(REPO, 'test/packaging/fixtures/browser-app.ts'),
      join(app, 'browser-app.ts'),
    );
    await writeFile(
      join(app, 'tsconfig.browser.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'bundler',
          strict: true,
          // No @types/node: a browser project has none, so Node types in the browser entries'
          // declarations would fail here. Cheap enough to check the libraries' files too.
          types: [],
          lib: ['ES2022', 'DOM'],
          skipLibCheck: false,
          noEmit: true,
        },
        files: ['browser-app.ts'],
      }),
    );
    const compile = await run('node', [TSC, '-p', 'tsconfig.browser.json'], app);
    expect(compile.stdout + compile.stderr).toBe('');
    expect(compile.code).toBe(0);
  });

  it('runs `npx offsync --help` from the installed bin', async () => {
    const help = await run('npx', ['--no-install', 'offsync', '--help'], app, LOCAL_ONLY);
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/offsync/);
    expect(help.stdout).toMatch(/\bserve\b/);
  });

  it('serves the shipped dashboard from `offsync serve` of the installed package', async () => {
    const data = join(work, 'served-data');
    const child = spawn(
      join(app, 'node_modules/.bin/offsync'),
      ['serve', '--data', data, '--port', '0'],
      {
        cwd: app,
        env: LOCAL_ONLY,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (chunk: string) => {
          output += chunk;
          const serving = / on (http:\/\/127\.0\.0\.1:\d+) /.exec(output);
          if (serving) resolve(serving[1]!);
        });
        child.once('exit', (code) =>
          reject(new Error(`offsync serve exited (${code}): ${output}`)),
        );
      });
      const page = await fetch(`${url}/dashboard/`);
      expect(page.status).toBe(200);
      const html = await page.text();
      const script = /<script type="module"[^>]* src="([^"]+)"/.exec(html);
      expect(script, html).not.toBeNull();
      const asset = await fetch(new URL(script![1]!, url));
      expect(asset.status).toBe(200);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('loads the hooks of the installed @offsync/react beside React', async () => {
    const hooks = await run(
      'node',
      [
        '--input-type=module',
        '-e',
        "const r = await import('@offsync/react'); console.log([r.useQuery, r.useRefusals].map((f) => typeof f).join(' '));",
      ],
      app,
    );
    expect([hooks.code, hooks.stdout, hooks.stderr]).toEqual([0, 'function function\n', '']);
  });

  it('takes nothing from the checkout but the compiled SQLite addon', async () => {
    for (const name of APP_PACKAGES) {
      const installed = await realpath(join(app, 'node_modules', name));
      expect(installed.startsWith(app), `${name} at ${installed}`).toBe(true);
      expect(existsSync(join(installed, 'src', 'index.ts'))).toBe(true);
    }
  });
});
