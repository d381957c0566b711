// The worker replica in real headless Chromium: OPFS (opfs-sahpool) persistence across a reload,
// two tabs of one profile sharing one leader and syncing through a real server on 127.0.0.1,
// the leader tab killed mid-write, a forged channel message, and the fallback without OPFS.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchChromium,
  type PageWatch,
  type StaticServer,
  serveDirectory,
  watchPage,
} from '../../../tools/chromium/launch.js';
import { TestServer } from '../../adapter-cloud/test/support/test-server.js';
import { waitUntil } from '../../adapter-cloud/test/support/wait.js';
import { type OpenRequest, TODOS_SQL } from './browser/worker/protocol.js';

const HERE = dirname(fileURLToPath(import.meta.url));

let pageDir: string | undefined;
let statics: StaticServer | undefined;
let browser: Browser | undefined;
let server: TestServer | undefined;

/** The page and its module worker (Vite's default worker format cannot split chunks). */
async function buildWorkerPage(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'offsync-worker-page-'));
  await build({
    root: join(HERE, 'browser', 'worker'),
    configFile: false,
    logLevel: 'warn',
    mode: 'production',
    resolve: { conditions: ['source', 'module', 'browser', 'production'] },
    worker: { format: 'es' },
    build: {
      outDir: dir,
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
      assetsInlineLimit: 0,
      modulePreload: { polyfill: false },
      reportCompressedSize: false,
    },
  });
  return dir;
}

beforeAll(async () => {
  pageDir = await buildWorkerPage();
  statics = await serveDirectory(pageDir);
  browser = await launchChromium();
  server = await TestServer.start();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await statics?.close();
  await server?.dispose();
  if (pageDir) await rm(pageDir, { recursive: true, force: true });
});

interface Tab {
  readonly page: Page;
  readonly watch: PageWatch;
}

async function newTab(context: BrowserContext, acked?: string[]): Promise<Tab> {
  const page = await context.newPage();
  const watch = await watchPage(page, [statics!.url, server!.url]);
  if (acked) await page.exposeFunction('offsyncAck', (id: string) => void acked.push(id));
  await page.goto(`${statics!.url}/index.html`);
  await page.waitForFunction(() => window.offsyncWorkerTest !== undefined);
  return { page, watch };
}

const openIn = (tab: Tab, request: OpenRequest) =>
  tab.page.evaluate((r) => window.offsyncWorkerTest!.open(r), request);
const dump = (tab: Tab) => tab.page.evaluate(() => window.offsyncWorkerTest!.dump());
const info = (tab: Tab) => tab.page.evaluate(() => window.offsyncWorkerTest!.info());
const write = (tab: Tab, prefix: string, from: number, count: number) =>
  tab.page.evaluate(([p, f, c]) => window.offsyncWorkerTest!.writeRows(p, f, c), [
    prefix,
    from,
    count,
  ] as [string, number, number]);

function serverDump(database: string): string[][] {
  const central = server!.server.store.open(database).replica;
  return central.driver
    .prepare('SELECT quote(id), quote(title), quote(n), quote(r), quote(b) FROM todos ORDER BY id')
    .all()
    .map((row) => row.map(String));
}

async function withReport<T>(tabs: readonly Tab[], body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n${tabs.map((t) => t.watch.report()).join('\n')}`, {
      cause: error,
    });
  }
}

describe('@offsync/adapter-wasm worker replica in headless Chromium', () => {
  it('keeps rows and the pending queue across a reload (OPFS sahpool), with no call from the app', async () => {
    const context = await browser!.newContext();
    const tab = await newTab(context);
    await withReport([tab], async () => {
      const first = await openIn(tab, { name: 'persist' });
      expect(first.status.role).toBe('leader');
      expect(first.info.storage).toBe('opfs-sahpool');
      expect(first.warnings).toEqual([]);
      expect(await write(tab, 'p', 0, 5)).toEqual([]);
      const before = await dump(tab);
      const infoBefore = await info(tab);
      expect(before).toHaveLength(5);
      expect(before[0]).toEqual([
        "'p0000'",
        "'title 0 ✓'",
        '4611686018427387904',
        '0.5',
        "X'0000FF'",
      ]);
      expect(infoBefore.pending).toBeGreaterThan(0);

      await tab.page.reload();
      await tab.page.waitForFunction(() => window.offsyncWorkerTest !== undefined);
      const reopened = await openIn(tab, { name: 'persist' });
      expect(reopened.info).toEqual(infoBefore); // site, version, pending, storage
      expect(await dump(tab)).toEqual(before);
      expect(tab.watch.errors).toEqual([]);
      expect(tab.watch.blockedRequests).toEqual([]);
    }).finally(() => context.close());
  }, 30_000);

  it('routes a second tab through the leader; both write concurrently and end byte-equal with the server', async () => {
    await server!.createDatabase('shared', TODOS_SQL, ['todos'], { openToUsers: true });
    const token = await server!.userToken('alice');
    const sync = { url: server!.url, database: 'shared', token };
    const context = await browser!.newContext();
    const a = await newTab(context);
    const b = await newTab(context);
    await withReport([a, b], async () => {
      const openedA = await openIn(a, { name: 'shared', sync });
      const openedB = await openIn(b, { name: 'shared', sync });
      expect(openedA.status.role).toBe('leader');
      expect(openedB.status.role).toBe('follower');
      expect(openedB.info.site).toBe(openedA.info.site); // one replica, two tabs
      const [failedA, failedB] = await Promise.all([write(a, 'a', 0, 10), write(b, 'b', 0, 10)]);
      expect([...failedA, ...failedB]).toEqual([]);
      await waitUntil(
        async () => {
          const status = await b.page.evaluate(() => window.offsyncWorkerTest!.status());
          return status.sync?.state === 'synced' && status.sync.pending === 0;
        },
        {
          timeoutMs: 15_000,
          message: () => 'the leader never reported synced with nothing pending',
        },
      );
      const rows = await dump(b);
      expect(rows).toHaveLength(20);
      expect(await dump(a)).toEqual(rows);
      await waitUntil(() => serverDump('shared').length === 20, {
        timeoutMs: 15_000,
        message: () => `the server has ${serverDump('shared').length} rows`,
      });
      expect(serverDump('shared')).toEqual(rows);
      // The follower's live query and change feed came from the leader's worker.
      const counts = await b.page.evaluate(() => window.offsyncWorkerTest!.liveCounts());
      expect(counts.at(-1)).toBe(20);
      expect(await b.page.evaluate(() => window.offsyncWorkerTest!.changeCount())).toBeGreaterThan(
        0,
      );
      expect(a.watch.errors).toEqual([]);
      expect(b.watch.errors).toEqual([]);
    }).finally(() => context.close());
  }, 30_000);

  it('refuses a forged channel request and a bad SQL with typed errors, changing nothing', async () => {
    const context = await browser!.newContext();
    const tab = await newTab(context);
    await withReport([tab], async () => {
      await openIn(tab, { name: 'forged' });
      await write(tab, 'f', 0, 2);
      const before = await dump(tab);
      const reply = await tab.page.evaluate(() => window.offsyncWorkerTest!.forge('forged'));
      expect(reply).toMatchObject({ ok: false, error: { type: 'BadRequest' } });
      const bad = await tab.page.evaluate(() =>
        window.offsyncWorkerTest!.failing('INSERT INTO nowhere VALUES (1)'),
      );
      expect(bad).toMatchObject({ type: 'SqlError', cause: 'SqliteError' });
      const garbage = await tab.page.evaluate(() => window.offsyncWorkerTest!.mergeGarbage());
      expect(garbage).toMatchObject({ type: 'SqlError', cause: 'DecodeError' });
      expect(await dump(tab)).toEqual(before);
      const badName = await tab.page.evaluate(() =>
        window.offsyncWorkerTest!.open({ name: '../x' }).then(
          () => 'opened',
          (error: unknown) => String(error),
        ),
      );
      expect(badName).toContain('BadRequest');
    }).finally(() => context.close());
  }, 30_000);

  it('loses no acknowledged write when the leader tab is killed mid-write; the other tab takes over', async () => {
    const context = await browser!.newContext();
    const ackedA: string[] = [];
    const ackedB: string[] = [];
    const a = await newTab(context, ackedA);
    const b = await newTab(context, ackedB);
    await withReport([b], async () => {
      expect((await openIn(a, { name: 'handover' })).status.role).toBe('leader');
      expect((await openIn(b, { name: 'handover' })).status.role).toBe('follower');
      const writingA = write(a, 'a', 0, 2_000).catch(() => undefined);
      const writingB = write(b, 'b', 0, 25);
      await waitUntil(() => ackedA.length >= 10 && ackedB.length >= 3, {
        timeoutMs: 15_000,
        message: () => `acknowledged: ${ackedA.length} in A, ${ackedB.length} in B`,
      });
      void a.page.close(); // no unload handshake: the worker dies with the tab
      const failuresB = await writingB;
      await writingA;
      await b.page.waitForFunction(() => window.offsyncWorkerTest!.status().role === 'leader');
      const ids = new Set((await dump(b)).map((row) => row[0]));
      const missing = [...ackedA, ...ackedB].filter((id) => !ids.has(`'${id}'`));
      expect(missing).toEqual([]);
      // A write in flight at the handover fails as LeaderLost, never silently.
      for (const failure of failuresB) expect(failure.error).toMatchObject({ type: 'LeaderLost' });
      expect(ackedB.length + failuresB.length).toBe(25);
      expect(await write(b, 'after', 0, 3)).toEqual([]);
      expect((await info(b)).storage).toBe('opfs-sahpool');
      expect(b.watch.errors).toEqual([]);
    }).finally(() => context.close());
  }, 30_000);

  it('moves live queries of the remaining tabs to the next leader when the leader tab closes', async () => {
    const context = await browser!.newContext();
    const a = await newTab(context);
    const b = await newTab(context);
    const c = await newTab(context);
    await withReport([b, c], async () => {
      expect((await openIn(a, { name: 'trio' })).status.role).toBe('leader');
      await openIn(b, { name: 'trio' });
      await openIn(c, { name: 'trio' });
      expect(await write(a, 'a', 0, 3)).toEqual([]);
      await a.page.close();
      const roleOf = (tab: Tab) => tab.page.evaluate(() => window.offsyncWorkerTest!.status().role);
      await waitUntil(
        async () => (await roleOf(b)) === 'leader' || (await roleOf(c)) === 'leader',
        {
          timeoutMs: 15_000,
          message: () => 'no tab took the lead',
        },
      );
      const [next, other] = (await roleOf(b)) === 'leader' ? [b, c] : [c, b];
      expect(await roleOf(other)).toBe('follower');
      expect(await write(other, 'o', 0, 2)).toEqual([]); // routed to the new leader
      const lastCount = (tab: Tab) =>
        tab.page.evaluate(() => window.offsyncWorkerTest!.liveCounts().at(-1));
      await waitUntil(async () => (await lastCount(other)) === 5 && (await lastCount(next)) === 5, {
        timeoutMs: 15_000,
        message: () => 'a live query did not follow the new leader',
      });
      expect(await dump(other)).toEqual(await dump(next));
      expect(b.watch.errors).toEqual([]);
      expect(c.watch.errors).toEqual([]);
    }).finally(() => context.close());
  }, 30_000);

  it("stops a follower tab's live queries in the leader when that tab reloads or closes", async () => {
    const context = await browser!.newContext();
    const a = await newTab(context);
    const b = await newTab(context);
    const watchMore = (tab: Tab, count: number) =>
      tab.page.evaluate((n) => window.offsyncWorkerTest!.watchMore(n), count);
    const leaderSees = async (liveQueries: number, followers: number, what: string) => {
      let last: { liveQueries: number; followers: number } | undefined;
      await waitUntil(
        async () => {
          last = await info(a);
          return last.liveQueries === liveQueries && last.followers === followers;
        },
        {
          timeoutMs: 15_000,
          message: () =>
            `${what}: the leader runs ${last?.liveQueries} live queries for ${last?.followers} followers`,
        },
      );
    };
    await withReport([a, b], async () => {
      expect((await openIn(a, { name: 'orphans' })).status.role).toBe('leader');
      expect((await openIn(b, { name: 'orphans' })).status.role).toBe('follower');
      expect(await watchMore(b, 3)).toBe(3);
      // One query of A's page, one of B's `open` and B's three.
      expect(await info(a)).toMatchObject({ liveQueries: 5, followers: 1 });

      await b.page.reload();
      await b.page.waitForFunction(() => window.offsyncWorkerTest !== undefined);
      expect((await openIn(b, { name: 'orphans' })).status.role).toBe('follower');
      expect(await watchMore(b, 3)).toBe(3);
      await leaderSees(5, 1, 'after the follower reloaded'); // the old page's 4 stopped
      expect(await write(a, 'x', 0, 1)).toEqual([]);
      await dump(b); // a round trip behind the rows the leader sent B for that write
      expect(await b.page.evaluate(() => window.offsyncWorkerTest!.moreCalls())).toEqual([1, 1, 1]);
      expect(b.watch.errors).toEqual([]);

      void b.page.close(); // no unload handshake: the worker dies with the tab
      await leaderSees(1, 0, 'after the follower closed');
      expect(await write(a, 'after', 0, 2)).toEqual([]);
      await waitUntil(
        async () =>
          (await a.page.evaluate(() => window.offsyncWorkerTest!.liveCounts().at(-1))) === 3,
        { timeoutMs: 15_000, message: () => "the leader's own live query stopped updating" },
      );
      expect(await info(a)).toMatchObject({ liveQueries: 1, followers: 0 });
      expect(a.watch.errors).toEqual([]);
    }).finally(() => context.close());
  }, 30_000);

  it('falls back to memory with a typed warning where OPFS is missing, and still works', async () => {
    const context = await browser!.newContext();
    const tab = await newTab(context);
    await withReport([tab], async () => {
      const opened = await openIn(tab, { name: 'fallback', workerName: 'no-opfs' });
      expect(opened.info.storage).toBe('memory');
      expect(opened.status.storage).toBe('memory');
      expect(opened.warnings).toEqual([
        {
          type: 'storage-fallback',
          storage: 'memory',
          reason: expect.stringContaining('getDirectory'),
        },
      ]);
      expect(await write(tab, 'm', 0, 3)).toEqual([]);
      expect(await dump(tab)).toHaveLength(3);
      expect(tab.watch.errors).toEqual([]);
    }).finally(() => context.close());
  }, 30_000);
});
