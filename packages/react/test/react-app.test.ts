// The hooks in real headless Chromium: a small React app (test/app/, a development build, so
// StrictMode double-mounts) with two sql.js replicas, each syncing over WebSocket through a real
// server on 127.0.0.1 as its own user. Writes go through the app's forms; the test reads the DOM,
// the replicas' bytes (quote() of every column) and the page's commit and live-query counters.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
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
import { type PanelName, TODOS_SQL } from './app/protocol.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const APP = join(HERE, 'app');
const ARTIFACTS = join(HERE, '../../../test-artifacts');

let appDir: string | undefined;
let server: TestServer | undefined;
let statics: StaticServer | undefined;
let browser: Browser | undefined;
let page: Page;
let watch: PageWatch;

/** The app as a development build: React's StrictMode checks only run there. */
async function buildApp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'offsync-react-app-'));
  await build({
    root: APP,
    configFile: false,
    logLevel: 'error',
    mode: 'development',
    define: { 'process.env.NODE_ENV': JSON.stringify('development') },
    resolve: { conditions: ['source', 'module', 'browser', 'development'] },
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

async function state(panel: PanelName, expected: string): Promise<void> {
  await page.locator(`[data-testid="${panel}-status"][data-state="${expected}"]`).waitFor();
}

async function submit(panel: PanelName, action: 'add' | 'edit', id: string, title: string) {
  await page.getByTestId(`${panel}-${action}-id`).fill(id);
  await page.getByTestId(`${panel}-${action}-title`).fill(title);
  await page.getByTestId(`${panel}-${action}-submit`).click();
}

async function itemText(panel: PanelName, id: string, text: string): Promise<void> {
  await page.getByTestId(`${panel}-item-${id}`).filter({ hasText: text }).waitFor();
}

async function listCount(panel: PanelName, count: number): Promise<void> {
  await page.locator(`[data-testid="${panel}-list"][data-count="${count}"]`).waitFor();
}

const rows = (panel: PanelName) => page.evaluate((p) => window.offsyncReactTest!.rows(p), panel);
const commits = () => page.evaluate(() => window.offsyncReactTest!.commits());
const watches = (panel: PanelName) =>
  page.evaluate((p) => window.offsyncReactTest!.watches(p), panel);

/** Which counters moved between two readings. */
function moved(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.keys(after)
    .filter((name) => after[name] !== (before[name] ?? 0))
    .sort();
}

beforeAll(async () => {
  appDir = await buildApp();
  server = await TestServer.start();
  await server.createDatabase('app', TODOS_SQL, ['todos']);
  // Everyone reads and edits everything, but no title may start with "forbidden".
  const policies = {
    select: 'true',
    insert: "title NOT LIKE 'forbidden%'",
    update: "title NOT LIKE 'forbidden%'",
    delete: 'true',
  };
  for (const [operation, expression] of Object.entries(policies))
    await server.admin('PUT', `/databases/app/policies/todos/${operation}`, { expression });
  statics = await serveDirectory(appDir);
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
  context.setDefaultTimeout(15_000);
  page = await context.newPage();
  watch = await watchPage(page, [statics.url, server.url]);
  await page.goto(`${statics.url}/index.html`);
  await page.waitForFunction(() => window.offsyncReactTest !== undefined);
  const config = {
    serverUrl: server.url,
    database: 'app',
    tokens: { a: await server.userToken('alice'), b: await server.userToken('bob') },
  };
  await page.evaluate((c) => window.offsyncReactTest!.start(c), config);
  await mkdir(ARTIFACTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await page?.evaluate(() => window.offsyncReactTest?.stop()).catch(() => undefined);
  await browser?.close();
  await statics?.close();
  await server?.dispose();
  if (appDir) await rm(appDir, { recursive: true, force: true });
});

describe('@offsync/react in headless Chromium, two replicas through the server', () => {
  it('mounts under StrictMode with one live query per component and both clients synced', async () => {
    await state('a', 'synced');
    await state('b', 'synced');
    for (const panel of ['a', 'b'] as const) {
      const counts = await watches(panel);
      expect(counts.active).toBe(1); // the list; status and refusals need no query
      expect(counts.stopped).toBeGreaterThanOrEqual(1); // StrictMode did mount twice
      expect(counts.started).toBe(counts.stopped + 1); // and its extra mount was undone
      expect(counts.afterStop).toBe(0);
    }
  });

  it("shows a row added through A's form in B's list (useQuery)", async () => {
    await submit('a', 'add', 't1', 'buy milk');
    await itemText('a', 't1', 't1: buy milk'); // A's own write, through its live query
    await itemText('b', 't1', 't1: buy milk'); // pushed, notified, pulled, merged, re-rendered
    await submit('a', 'add', 't2', 'eggs');
    await submit('b', 'add', 't3', 'bread');
    await listCount('a', 3);
    await listCount('b', 3);
    await itemText('a', 't3', 't3: bread');
    expect(await rows('b')).toEqual(await rows('a'));
    expect(await rows('a')).toEqual([
      ["'t1'", "'buy milk'", '0'],
      ["'t2'", "'eggs'", '0'],
      ["'t3'", "'bread'", '0'],
    ]);
    expect((await watches('b')).active).toBe(4); // the list and its three rows
  });

  it('re-renders only the renamed row, on both sides (useRow)', async () => {
    await state('a', 'synced');
    await state('b', 'synced');
    const before = await commits();
    await submit('a', 'edit', 't2', 'eggs, a dozen');
    await itemText('a', 't2', 't2: eggs, a dozen');
    await itemText('b', 't2', 't2: eggs, a dozen');
    expect(moved(before, await commits())).toEqual(['a:item:t2', 'b:item:t2']);
    const after = await commits();
    expect(after['b:item:t2']).toBe(before['b:item:t2']! + 1);
    expect((await rows('b'))[1]).toEqual(["'t2'", "'eggs, a dozen'", '0']);
  });

  it('shows offline while B is disconnected, then pending, then synced (useSyncStatus)', async () => {
    await page.evaluate(() => window.offsyncReactTest!.disconnect('b'));
    await state('b', 'offline');
    const from = (await page.evaluate(() => window.offsyncReactTest!.statusLog('b'))).length;
    await submit('b', 'add', 't4', 'jam');
    await submit('b', 'add', 't5', 'tea');
    await listCount('b', 5); // offline, local writes show at once
    await page.evaluate(() => window.offsyncReactTest!.reconnect('b'));
    await listCount('a', 5);
    await state('b', 'synced');
    await page.getByTestId('b-status').filter({ hasText: 'synced · 0 pending' }).waitFor();
    const log = (await page.evaluate(() => window.offsyncReactTest!.statusLog('b'))).slice(from);
    const pendingAt = log.findIndex((status) => status.pending > 0);
    expect(pendingAt, JSON.stringify(log)).toBeGreaterThanOrEqual(0);
    expect(log[pendingAt]!.state).toBe('syncing');
    expect(log.at(-1)).toEqual({ state: 'synced', pending: 0 });
    expect(await rows('a')).toEqual(await rows('b'));
  });

  it('lists a write the server refused, and the row reverts (useRefusals)', async () => {
    await submit('a', 'add', 'f1', 'forbidden plan');
    const refusal = page.getByTestId('a-refusal');
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/^refused todos f1: .+/);
    await page.getByTestId('a-item-f1').waitFor({ state: 'detached' });
    await listCount('a', 5);
    await state('a', 'synced');
    expect(await page.getByTestId('b-refusals').getAttribute('data-count')).toBe('0');
    expect(await rows('a')).toEqual(await rows('b'));
    expect((await rows('a')).map((row) => row[0])).not.toContain("'f1'");
  });

  it('stops the live queries of an unmounted list: no render and no callback after', async () => {
    await page.getByTestId('b-toggle-list').click();
    await page.getByTestId('b-list-hidden').waitFor();
    const stopped = await watches('b');
    expect(stopped.active).toBe(0);
    const before = await commits();

    await submit('a', 'add', 't6', 'honey');
    await submit('a', 'edit', 't1', 'oat milk');
    await itemText('a', 't1', 't1: oat milk');
    // B's replica takes both changes while nothing of B's list is mounted.
    await page.waitForFunction(() =>
      window.offsyncReactTest!.rows('b').some((row) => row[1] === "'oat milk'"),
    );
    expect(moved(before, await commits()).filter((name) => name.startsWith('b:'))).toEqual([]);
    const after = await watches('b');
    expect(after).toEqual({ ...stopped, afterStop: 0 });

    // Mounted again, it starts from the replica's current rows.
    await page.getByTestId('b-toggle-list').click();
    await listCount('b', 6);
    await itemText('b', 't1', 't1: oat milk');
    expect((await watches('b')).active).toBe(7);
  });

  it('ends with both replicas holding the same bytes, and no page error', async () => {
    await state('a', 'synced');
    await state('b', 'synced');
    const a = await rows('a');
    expect(a).toHaveLength(6);
    expect(await rows('b')).toEqual(a);
    await page.screenshot({ path: join(ARTIFACTS, 'react-two-replicas.png'), fullPage: true });
    expect(watch.blockedRequests).toEqual([]);
    expect(watch.errors, watch.report()).toEqual([]);
  });
});
