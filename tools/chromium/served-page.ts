// One built test page served on loopback and one Chromium for a test file's tests, set up before
// them and torn down after, so each browser test file states only what it checks.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { type BuiltPage, buildPage } from './build-page.js';
import { launchChromium, type StaticServer, serveDirectory } from './launch.js';

/**
 * The page's address and the browser, valid inside the file's tests.
 *
 * @example
 * ```ts
 * const served = useServedPage(join(here, 'browser'));
 * it('loads', async () => {
 *   const page = await (await served.browser.newContext()).newPage();
 *   await page.goto(`${served.url}/index.html`);
 * });
 * ```
 */
export interface ServedPage {
  /** `http://127.0.0.1:port` of the built page's folder. */
  readonly url: string;
  /** The headless Chromium. */
  readonly browser: Browser;
}

/**
 * Registers hooks that build the page whose `index.html` is in `root`, serve it on loopback and
 * launch Chromium before the file's tests, and close all three after them.
 */
export function useServedPage(root: string): ServedPage {
  let built: BuiltPage | undefined;
  let server: StaticServer | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    built = await buildPage(root);
    server = await serveDirectory(built.dir);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await built?.remove();
  });

  const notStarted = (): never => {
    throw new Error('the served page is not set up yet (use it inside a test)');
  };
  return {
    get url() {
      return server?.url ?? notStarted();
    },
    get browser() {
      return browser ?? notStarted();
    },
  };
}
