// Bundles a test page with Vite (programmatic build, no config file) into a temporary folder that
// serveDirectory() can serve: everything the page needs (scripts, WebAssembly, styles) lands in
// that folder, so the page loads with no CDN and no request beyond loopback.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';

/**
 * A built page: the folder to serve, and how to remove it.
 *
 * @example
 * ```ts
 * const built: BuiltPage = await buildPage(join(here, 'browser'));
 * ```
 */
export interface BuiltPage {
  /** Folder holding `index.html` and its assets. */
  readonly dir: string;
  /** Deletes the folder. */
  remove(): Promise<void>;
}

/**
 * Builds the page whose `index.html` is in `root`. Workspace packages resolve to their sources
 * (the `source` export condition), so no `tsc -b` is needed first.
 *
 * @example
 * ```ts
 * const built = await buildPage(join(here, 'browser'));
 * const server = await serveDirectory(built.dir);
 * afterAll(async () => { await server.close(); await built.remove(); });
 * ```
 */
export async function buildPage(root: string): Promise<BuiltPage> {
  const dir = await mkdtemp(join(tmpdir(), 'offsync-page-'));
  try {
    await build({
      root,
      configFile: false,
      logLevel: 'warn',
      mode: 'production',
      resolve: { conditions: ['source', 'module', 'browser', 'production'] },
      build: {
        outDir: dir,
        emptyOutDir: true,
        target: 'es2022',
        minify: false,
        sourcemap: true,
        // Keep files as files (the WebAssembly would otherwise never be inlined anyway, but a
        // small asset could be turned into a data: URL and hide a serving bug).
        assetsInlineLimit: 0,
        modulePreload: { polyfill: false },
        reportCompressedSize: false,
      },
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
