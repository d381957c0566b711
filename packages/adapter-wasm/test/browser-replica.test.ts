import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { type PageWatch, watchPage } from '../../../tools/chromium/launch.js';
import { useServedPage } from '../../../tools/chromium/served-page.js';
import {
  AFTER_RELOAD,
  encodeRow,
  expectedAfterSync,
  type ReopenPhaseResult,
  type SyncPhaseResult,
} from './browser/replica/protocol.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = join(HERE, '../../../test-artifacts');
const SITE = /^[0-9a-f]{32}$/;

const served = useServedPage(join(HERE, 'browser', 'replica'));

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => window.offsyncReplicaTest !== undefined, null, {
    timeout: 10_000,
  });
}

describe('@offsync/adapter-wasm replicas in headless Chromium', () => {
  it('converge after concurrent conflicting edits, survive a reload through IndexedDB, and keep syncing', async () => {
    const context: BrowserContext = await served.browser.newContext();
    const page = await context.newPage();
    const watch: PageWatch = await watchPage(page, [served.url]);
    try {
      await page.goto(`${served.url}/index.html`);
      await ready(page);
      const synced: SyncPhaseResult = await page.evaluate(() =>
        window.offsyncReplicaTest!.syncPhase(),
      );
      const expected = expectedAfterSync().map((row) => encodeRow(row));
      expect(synced.sites[0]).toMatch(SITE);
      expect(synced.sites[1]).toMatch(SITE);
      expect(synced.sites[0]).not.toBe(synced.sites[1]);
      expect(synced.exchanged).toEqual([5, 5]);
      expect(synced.rowsA).toEqual(expected);
      expect(synced.rowsB).toEqual(expected);
      expect(synced.convergence.dumpsEqual).toBe(true);
      expect(synced.convergence.digests[0]).toBe(synced.convergence.digests[1]);
      expect(synced.convergence.dumpBytes).toBeGreaterThan(100 * 1024); // the 100 kB BLOB
      expect(synced.saved.site).toBe(synced.sites[0]);
      expect(synced.saved.digest).toBe(synced.convergence.digests[0]);
      expect(synced.saved.rows).toEqual(expected);
      expect(synced.saved.version).toBeGreaterThan(0);

      await page.reload();
      await ready(page);
      const reopened: ReopenPhaseResult = await page.evaluate(() =>
        window.offsyncReplicaTest!.reopenPhase(),
      );
      expect(reopened.reopened).toEqual(synced.saved); // site, version, clock, dump, rows
      expect(reopened.newRows).toBe(1);
      expect(reopened.versionAfterWrite).toBeGreaterThan(synced.saved.version);
      expect(reopened.freshSite).toMatch(SITE);
      expect(reopened.freshSite).not.toBe(synced.saved.site);
      const expectedAfterReload = [...expected, encodeRow(AFTER_RELOAD)];
      expect(reopened.rowsA).toEqual(expectedAfterReload);
      expect(reopened.freshRows).toEqual(expectedAfterReload);
      expect(reopened.convergence.dumpsEqual).toBe(true);
      expect(reopened.convergence.digests[0]).toBe(reopened.convergence.digests[1]);

      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({
        path: join(ARTIFACTS, 'adapter-wasm-replica-browser.png'),
        fullPage: true,
      });
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
