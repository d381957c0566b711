import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltPage, buildPage } from '../../../tools/chromium/build-page.js';
import {
  launchChromium,
  type PageWatch,
  type StaticServer,
  serveDirectory,
  watchPage,
} from '../../../tools/chromium/launch.js';
import { expectedRows, type PhaseResult } from './browser/samples.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = join(HERE, '../../../test-artifacts');

let built: BuiltPage | undefined;
let server: StaticServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  built = await buildPage(join(HERE, 'browser'));
  server = await serveDirectory(built.dir);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await built?.remove();
});

async function openPage(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/index.html`);
  await page.waitForFunction(() => window.offsyncBrowserTest !== undefined, null, {
    timeout: 10_000,
  });
}

describe('@offsync/adapter-wasm in headless Chromium', () => {
  it('writes every storage class, persists to IndexedDB, and reads it back after a reload', async () => {
    const context: BrowserContext = await browser!.newContext();
    const page = await context.newPage();
    const watch: PageWatch = await watchPage(page, [server!.url]);
    try {
      await openPage(page, server!.url);
      const written = await page.evaluate(() => window.offsyncBrowserTest!.writePhase());
      expect(written.rows).toEqual(expectedRows());
      expect(written.countAfterExport).toBe(String(expectedRows().length));
      expect(written.exportedBytes).toBeGreaterThan(100 * 1024);

      await page.reload();
      await page.waitForFunction(() => window.offsyncBrowserTest !== undefined);
      const reopened: PhaseResult = await page.evaluate(() =>
        window.offsyncBrowserTest!.readPhase(),
      );
      expect(reopened.rows).toEqual(expectedRows());

      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'adapter-wasm-browser.png'), fullPage: true });
      expect(watch.errors).toEqual([]);
      expect(watch.blockedRequests).toEqual([]);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message}\n${watch.report()}`, { cause: error });
    } finally {
      await context.close();
    }
  }, 30_000);
});
