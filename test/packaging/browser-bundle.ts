// A real Vite production build of a tiny browser app, audited for what a browser cannot run: the
// guard behind "@offsync/adapter-cloud/client and @offsync/adapter-wasm bundle for browsers".
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, defaultClientConditions, type Logger, type Rollup } from 'vite';

/** The checkout's root. */
export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const BUILTINS = new Set(builtinModules);

/**
 * Packages that only run in Node (native addons, sockets, files, process-wide loggers and
 * metrics) and the Node-only parts of this repo: none may reach a browser bundle.
 */
const NODE_ONLY = [
  /\/node_modules\/(ws|better-sqlite3|bindings|file-uri-to-path|jose|pino|pino-[^/]+|prom-client|commander|sonic-boom|thread-stream)\//,
  /\/packages\/adapter-node\//,
  /\/packages\/adapter-cloud\/(src|dist)\/(server|auth|rls|cli)\//,
  /\/packages\/adapter-cloud\/(src|dist)\/node-connect\./,
];

/** What a browser build pulled in that a browser cannot run. Empty when the bundle is clean. */
export interface BundleAudit {
  /** `node:` or bare built-in specifiers some module asked for, as `specifier <- importer`. */
  readonly builtins: readonly string[];
  /** Modules of Node-only packages (or Node-only parts of this repo) that Vite loaded. */
  readonly nodeOnlyModules: readonly string[];
  /** Vite's warnings, e.g. "Module "node:fs" has been externalized for browser compatibility". */
  readonly warnings: readonly string[];
  /** Imports the output chunks leave to the runtime (a clean browser bundle has none). */
  readonly externalImports: readonly string[];
  /** Every module id in the bundle, for the error message and sanity checks. */
  readonly modules: readonly string[];
  /** Bytes of JavaScript emitted. */
  readonly jsBytes: number;
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || BUILTINS.has(specifier.split('/')[0] ?? specifier);
}

/**
 * Builds `entrySource` (a TypeScript module) as the script of an index.html with Vite's browser
 * defaults and reports what it pulled in. `source: true` resolves the workspace packages through
 * their `source` condition (the monorepo's src/), otherwise through the published dist/ entries.
 *
 * @example
 * ```ts
 * const audit = await auditBrowserBuild("import '@offsync/adapter-cloud/client';", { source: false });
 * expect(audit.builtins).toEqual([]);
 * ```
 */
export async function auditBrowserBuild(
  entrySource: string,
  options: { readonly source: boolean },
): Promise<BundleAudit> {
  // Outside the checkout, as an app would be, with the checkout's node_modules linked in so the
  // @offsync/* workspace links and their dependencies resolve as they do once installed.
  const root = await mkdtemp(join(tmpdir(), 'offsync-browser-bundle-'));
  try {
    await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
    await writeFile(join(root, 'main.ts'), entrySource);
    await writeFile(
      join(root, 'index.html'),
      '<!doctype html><html><body><script type="module" src="./main.ts"></script></body></html>\n',
    );
    const builtins: string[] = [];
    const warnings: string[] = [];
    let modules: string[] = [];
    const logger: Logger = {
      hasWarned: false,
      info: () => undefined,
      warn: (message) => {
        warnings.push(message);
      },
      warnOnce: (message) => {
        warnings.push(message);
      },
      error: (message) => {
        warnings.push(message);
      },
      clearScreen: () => undefined,
      hasErrorLogged: () => false,
    };
    const result = await build({
      root,
      configFile: false,
      envDir: false,
      logLevel: 'warn',
      customLogger: logger,
      resolve: {
        conditions: options.source
          ? ['source', ...defaultClientConditions]
          : [...defaultClientConditions],
      },
      build: {
        write: false,
        outDir: join(root, 'dist'),
        minify: false,
        reportCompressedSize: false,
      },
      plugins: [
        {
          name: 'offsync-bundle-audit',
          enforce: 'pre',
          resolveId(source, importer) {
            if (isBuiltin(source)) builtins.push(`${source} <- ${importer ?? '(entry)'}`);
            return null;
          },
          generateBundle() {
            modules = [...this.getModuleIds()];
          },
        },
      ],
    });
    const outputs = (Array.isArray(result) ? result : [result]) as Rollup.RollupOutput[];
    const chunks = outputs
      .flatMap((output) => output.output)
      .filter((item): item is Rollup.OutputChunk => item.type === 'chunk');
    return {
      builtins,
      nodeOnlyModules: modules.filter((id) => NODE_ONLY.some((pattern) => pattern.test(id))),
      warnings,
      externalImports: chunks.flatMap((chunk) =>
        [...chunk.imports, ...chunk.dynamicImports].filter(
          (id) => !chunks.some((other) => other.fileName === id),
        ),
      ),
      modules,
      jsBytes: chunks.reduce((sum, chunk) => sum + chunk.code.length, 0),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
