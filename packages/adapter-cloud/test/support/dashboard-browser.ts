import { copyFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { launchChromium, type PageWatch, watchPage } from '../../../../tools/chromium/launch.js';
import { issueDevToken, type RunningServer, startServer } from '../../src/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../../../..');
const VITE_CONFIG = join(HERE, '../../dashboard/vite.config.ts');

/** Where the dashboard tests write their screenshots (`dashboard-<name>.png`). */
export const ARTIFACTS = join(ROOT, 'test-artifacts');

/** Where the documentation's screenshots live (see {@link DashboardBrowser.keepForDocs}). */
export const DOCS_IMAGES = join(ROOT, 'docs/images');

/** How {@link DashboardBrowser.start} sets up the server and the browser. */
export interface DashboardBrowserOptions {
  /** Names the temporary folders: `offsync-<name>-` (the build) and `offsync-<name>-data-`. */
  readonly name: string;
  /** The page's viewport. */
  readonly viewport: { readonly width: number; readonly height: number };
  /** The server's `flushIntervalMs`. */
  readonly flushIntervalMs: number;
  /** The admin key to start the server with; without one the server generates its own. */
  readonly adminKey?: string;
  /** Browser permissions granted on the server's origin (e.g. the clipboard). */
  readonly permissions?: readonly string[];
}

/**
 * The dashboard, built fresh from its sources, served by a real server on loopback and opened in
 * headless Chromium, with the admin API at hand: what every dashboard browser test starts from.
 *
 * @example
 * ```ts
 * const dash = await DashboardBrowser.start({ name: 'dashboard', viewport: { width: 1200, height: 800 }, flushIntervalMs: 200 });
 * await dash.signIn();
 * await dash.close();
 * ```
 */
export class DashboardBrowser {
  #secret: string | undefined;

  private constructor(
    /** The temporary folder the dashboard was built into. */
    readonly dashboardDir: string,
    /** The server's temporary data folder. */
    readonly dataDir: string,
    readonly server: RunningServer,
    readonly adminKey: string,
    readonly browser: Browser,
    readonly context: BrowserContext,
    readonly page: Page,
    /** The page's blocked requests and errors. */
    readonly watch: PageWatch,
  ) {}

  /**
   * Builds the dashboard, starts the server serving it, and opens a page in Chromium. What was
   * started is stopped again when a later step fails, since the caller has nothing to close.
   */
  static async start(options: DashboardBrowserOptions): Promise<DashboardBrowser> {
    const undo: (() => Promise<unknown>)[] = [];
    try {
      // Built fresh from the sources every run, so a test never passes on a stale dashboard-dist.
      const dashboardDir = await mkdtemp(join(tmpdir(), `offsync-${options.name}-`));
      undo.push(() => rm(dashboardDir, { recursive: true, force: true }));
      await build({
        configFile: VITE_CONFIG,
        logLevel: 'warn',
        build: { outDir: dashboardDir, emptyOutDir: true },
      });
      const dataDir = await mkdtemp(join(tmpdir(), `offsync-${options.name}-data-`));
      undo.push(() => rm(dataDir, { recursive: true, force: true }));
      const server = await startServer({
        dataDir,
        port: 0,
        host: '127.0.0.1',
        ...(options.adminKey === undefined ? {} : { adminKey: options.adminKey }),
        dashboardDir,
        log: () => undefined,
        flushIntervalMs: options.flushIntervalMs,
      });
      undo.push(() => server.close());
      const adminKey = options.adminKey ?? server.generatedAdminKey!;
      await mkdir(ARTIFACTS, { recursive: true });
      await mkdir(DOCS_IMAGES, { recursive: true });
      const browser = await launchChromium();
      undo.push(() => browser.close());
      const context = await browser.newContext({ viewport: { ...options.viewport } });
      if (options.permissions)
        await context.grantPermissions([...options.permissions], { origin: server.url });
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      const watch = await watchPage(page, [server.url]);
      return new DashboardBrowser(
        dashboardDir,
        dataDir,
        server,
        adminKey,
        browser,
        context,
        page,
        watch,
      );
    } catch (error) {
      for (const step of undo.reverse()) await step().catch(() => undefined);
      throw error;
    }
  }

  /** Calls the admin API with `key` (the admin key unless told); answers the status and JSON. */
  async admin<T>(
    method: string,
    path: string,
    body?: unknown,
    key = this.adminKey,
  ): Promise<{ status: number; json: T }> {
    const response = await fetch(`${this.server.url}/v1/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as T };
  }

  /** A development token for `sub`, signed with the server's own secret (from server.json). */
  async devToken(sub: string): Promise<string> {
    this.#secret ??= (
      JSON.parse(await readFile(join(this.dataDir, 'server.json'), 'utf8')) as {
        jwt: { hs256Secret: string };
      }
    ).jwt.hs256Secret;
    return issueDevToken({ secret: this.#secret, sub, ttlSeconds: 600 });
  }

  /** Signs in with the admin key and waits for the databases list. */
  async signIn(): Promise<void> {
    await this.page.goto(`${this.server.url}/dashboard/#/databases`);
    await this.page.getByTestId('sign-in-key').fill(this.adminKey);
    await this.page.getByTestId('sign-in-submit').click();
    await this.page.getByTestId('databases-table').waitFor();
  }

  /** The text of the element with `testId` ('' when it has none). */
  async text(testId: string): Promise<string> {
    return (await this.page.getByTestId(testId).textContent()) ?? '';
  }

  /** Saves a full-page screenshot as test-artifacts/dashboard-`name`.png; answers its path. */
  async screenshot(name: string): Promise<string> {
    const path = join(ARTIFACTS, `dashboard-${name}.png`);
    await this.page.screenshot({ path, fullPage: true });
    return path;
  }

  /**
   * Copies a screenshot to docs/images/`name` when it is not there yet, or when
   * OFFSYNC_UPDATE_DOCS_IMAGES=1: every run's pixels differ (clock, site id), and a test run
   * should not leave committed files modified.
   */
  async keepForDocs(screenshotPath: string, name: string): Promise<void> {
    const target = join(DOCS_IMAGES, name);
    const exists = await stat(target).then(
      () => true,
      () => false,
    );
    if (!exists || process.env.OFFSYNC_UPDATE_DOCS_IMAGES === '1')
      await copyFile(screenshotPath, target);
  }

  /** Closes the browser and the server, and removes both temporary folders. */
  async close(): Promise<void> {
    await this.context.close();
    await this.browser.close();
    await this.server.close();
    await rm(this.dashboardDir, { recursive: true, force: true });
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * The page errors a test did not expect. Chromium logs every 4xx answer to fetch as a console
 * error; a test that provokes refusals names their statuses (a regular expression's source, e.g.
 * `'40[01]'`) so that only those are let through.
 *
 * @example
 * ```ts
 * expect(unexpectedErrors(dash.watch.errors, '400'), dash.watch.report()).toEqual([]);
 * ```
 */
export function unexpectedErrors(errors: readonly string[], expectedStatuses: string): string[] {
  const expected = new RegExp(
    `Failed to load resource: the server responded with a status of ${expectedStatuses}`,
  );
  return errors.filter((error) => !expected.test(error));
}
