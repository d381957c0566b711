import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { type PageWatch, watchPage } from '../../../tools/chromium/launch.js';
import { useServedPage } from '../../../tools/chromium/served-page.js';
import { expectedRows, type PhaseResult } from './browser/samples.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = join(HERE, '../../../test-artifacts');

const served = useServedPage(join(HERE, 'browser'));

async function openPage(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/index.html`);
  await page.waitForFunction(() => window.offsyncBrowserTest !== undefined, null, {
    timeout: 10_000,
  });
}

describe('@offsync/adapter-wasm in headless Chromium', () => {
  it('writes every storage class, persists to IndexedDB, and reads it back after a reload', async () => {
    const context: BrowserContext = await served.browser.newContext();
    const page = await context.newPage();
    const watch: PageWatch = await watchPage(page, [served.url]);
    try {
      await openPage(page, served.url);
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
