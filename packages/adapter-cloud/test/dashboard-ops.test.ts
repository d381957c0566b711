// The operator's dashboard screens in real headless Chromium against a real server on loopback,
// with real clients syncing: Devices grouped by user with Revoke (confirmed, then refused from
// then on), the confirmation before switching sync off, the Refusals log, refusals and errors in
// Metrics, the Client integration tab (its snippet is copied and run in Node against the server),
// and every tab at 390 px without horizontal scroll. Screenshots: test-artifacts/dashboard-*.png,
// kept in docs/images/ (see keepForDocs).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NodeReplica, openReplica } from '@offsync/adapter-node';
import type { SyncClient } from '@offsync/core';
import { encodeMessage, PROTOCOL_VERSION } from '@offsync/core/codec';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byLabel, parsePrometheusText } from '../dashboard/src/prometheus-text.js';
import { TABS } from '../dashboard/src/route.js';
import { connectNode, generateApiKey, issueDevToken } from '../src/index.js';
import {
  ARTIFACTS,
  DashboardBrowser,
  DOCS_IMAGES,
  unexpectedErrors,
} from './support/dashboard-browser.js';
import { createTodoApp } from './support/todo-app.js';
import { waitUntil } from './support/wait.js';

const TODOS = 'CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT)';
const SCHEMA = [TODOS, 'CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, body TEXT)'].join(';\n');

let dash: DashboardBrowser;
let page: Page;
const clients: SyncClient[] = [];
const replicas: NodeReplica[] = [];

interface Device {
  readonly site: string;
  readonly user: string;
  readonly revokedAt?: number;
}

interface Refusal {
  readonly user: string | null;
  readonly site: string | null;
  readonly table: string | null;
  readonly kind: string;
}

/** As DashboardBrowser.text, but the first match: a notice may stand in more than one place. */
async function text(testId: string): Promise<string> {
  return (await page.getByTestId(testId).first().textContent()) ?? '';
}

/** A real client for `user` on a fresh in-memory replica, synced once. */
async function device(
  user: string,
  rows: readonly [string, string][],
): Promise<{ replica: NodeReplica; client: SyncClient }> {
  const replica = openReplica(':memory:');
  replica.db.exec(SCHEMA);
  replica.enableSync('todos');
  const insert = replica.db.prepare('INSERT INTO todos VALUES (?, ?)');
  for (const [id, title] of rows) insert.run(id, title);
  const token = await dash.devToken(user);
  const client = connectNode(replica, { url: dash.server.url, database: 'app', token });
  replicas.push(replica);
  clients.push(client);
  await waitUntil(() => client.status.state === 'synced' && client.status.pending === 0, {
    timeoutMs: 10_000,
    message: () => `${user}: ${JSON.stringify(client.status)}`,
  });
  return { replica, client };
}

async function openTab(tab: string): Promise<void> {
  await page.goto(`${dash.server.url}/dashboard/#/db/app/${tab}`);
  await page.getByTestId(`panel-${tab}`).waitFor();
}

beforeAll(async () => {
  dash = await DashboardBrowser.start({
    name: 'dashboard-ops',
    viewport: { width: 1200, height: 800 },
    flushIntervalMs: 100,
    adminKey: generateApiKey('admin'),
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  page = dash.page;
  await createTodoApp((method, path, body) => dash.admin(method, path, body), SCHEMA);
  await dash.signIn();
}, 90_000);

afterAll(async () => {
  for (const client of clients) await client.disconnect();
  for (const replica of replicas) replica.close();
  await dash?.close();
});

describe('the operator screens in headless Chromium', () => {
  let bob: { replica: NodeReplica; client: SyncClient };
  let alicePhone: { replica: NodeReplica; client: SyncClient };

  it('groups devices by user, and revokes one only after a confirmation', async () => {
    alicePhone = await device('alice', [['a1', 'milk']]);
    const aliceLaptop = await device('alice', [['a2', 'bread']]);
    bob = await device('bob', [['b1', 'tea']]);

    await openTab('devices');
    await page.getByTestId('device-group-bob').waitFor();
    const alice = page.getByTestId('device-group-alice');
    expect(await alice.getByTestId('device-group-user').textContent()).toBe('alice');
    expect(await alice.locator('tbody tr').count()).toBe(2);
    for (const each of [alicePhone, aliceLaptop])
      expect(await alice.getByTestId(`device-row-${each.replica.site}`).count()).toBe(1);
    expect(await page.getByTestId('device-group-bob').locator('tbody tr').count()).toBe(1);
    expect(await text('devices-count')).toBe('3 connected · 3 known · 2 users');

    // Cancel: nothing happens.
    const revoke = page.getByTestId(`device-revoke-${bob.replica.site}`);
    await revoke.click();
    const dialog = page.getByTestId('revoke-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(bob.replica.site);
    await page.getByTestId('revoke-cancel').click();
    await dialog.waitFor({ state: 'detached' });
    const kept = await dash.admin<Device[]>('GET', '/databases/app/devices');
    expect(kept.json.find((each) => each.site === bob.replica.site)?.revokedAt).toBeUndefined();

    // Confirm: the device's session is closed and it is refused from then on.
    await revoke.click();
    await page.getByTestId('revoke-confirm').click();
    await page.locator('[data-testid="devices-notice"][role="status"]').waitFor();
    expect(await text('devices-notice')).toBe(`Revoked ${bob.replica.site}: 1 session closed.`);
    await page
      .getByTestId(`device-row-${bob.replica.site}`)
      .getByTestId('device-revoked')
      .waitFor();
    const after = await dash.admin<Device[]>('GET', '/databases/app/devices');
    expect(after.json.find((each) => each.site === bob.replica.site)?.revokedAt).toBeGreaterThan(0);
    expect(after.json.filter((each) => each.revokedAt !== undefined)).toHaveLength(1);
    bob.replica.db.prepare("INSERT INTO todos VALUES ('b2', 'cake')").run();
    await expect(bob.client.syncNow()).rejects.toMatchObject({
      code: 'device-revoked',
      status: 403,
    });
    // Its loop would keep retrying (and being refused): stop it, so the log below holds still.
    await bob.client.disconnect();
    // Alice's devices still sync.
    alicePhone.replica.db.prepare("INSERT INTO todos VALUES ('a3', 'eggs')").run();
    expect((await alicePhone.client.syncNow()).pending).toBe(0);
    await dash.keepForDocs(await dash.screenshot('devices'), 'dashboard-devices.png');
  });

  it('asks before switching sync off; Cancel and Escape leave it on', async () => {
    await openTab('tables');
    const todos = page.getByTestId('sync-switch-todos');
    await todos.waitFor();
    expect(await todos.getAttribute('aria-checked')).toBe('true');
    await todos.click();
    await page.getByTestId('sync-off-dialog').waitFor();
    expect(await page.getByTestId('sync-off-dialog').textContent()).toMatch(
      /Switch off sync for todos\?/,
    );
    await page.getByTestId('sync-off-cancel').click();
    await page.getByTestId('sync-off-dialog').waitFor({ state: 'detached' });
    await todos.click();
    await page.getByTestId('sync-off-dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('sync-off-dialog').waitFor({ state: 'detached' });
    expect(await page.getByTestId('sync-switch-todos').getAttribute('aria-checked')).toBe('true');
    const tables = await dash.admin<{ name: string; synced: boolean }[]>(
      'GET',
      '/databases/app/tables',
    );
    expect(tables.json.find((table) => table.name === 'todos')?.synced).toBe(true);
    // The clients did not lose the table either.
    alicePhone.replica.db.prepare("INSERT INTO todos VALUES ('a4', 'jam')").run();
    expect((await alicePhone.client.syncNow()).pending).toBe(0);
  });

  it('shows the refusal log newest first, as the admin API has it', async () => {
    alicePhone.replica.db.prepare("INSERT INTO todos VALUES ('a5', 'forbidden')").run();
    await alicePhone.client.syncNow();
    // A forged request beside it: a hello with a token signed by someone else.
    const forged = await issueDevToken({ secret: 'y'.repeat(32), sub: 'mallory', ttlSeconds: 600 });
    const answer = await fetch(`${dash.server.url}/v1/databases/app/sync`, {
      method: 'POST',
      body: encodeMessage({
        type: 'hello',
        id: 1,
        protocol: PROTOCOL_VERSION,
        site: 'cd'.repeat(16),
        token: forged,
        schemas: {},
      }) as BodyInit,
    });
    expect(answer.status).toBe(401);
    const api = await dash.admin<Refusal[]>('GET', '/databases/app/refusals?limit=100');
    const kinds = api.json.map((each) => each.kind);
    expect(kinds.slice(0, 2)).toEqual(['unauthorized', 'row']);
    // Bob's refused hellos, one per attempt of its loop before it stopped.
    expect(kinds.length).toBeGreaterThanOrEqual(3);
    expect(new Set(kinds.slice(2))).toEqual(new Set(['device-revoked']));

    await openTab('refusals');
    await page.getByTestId('refusals-table').waitFor();
    const rows = page.getByTestId('refusal-row');
    expect(await rows.count()).toBe(kinds.length);
    expect(await rows.getByTestId('refusal-kind').allTextContents()).toEqual(kinds);
    const row = rows.nth(1);
    expect(await row.getByTestId('refusal-user').textContent()).toBe('alice');
    expect(await row.getByTestId('refusal-site').textContent()).toBe(alicePhone.replica.site);
    expect(await row.getByTestId('refusal-table').textContent()).toBe('todos');
    expect(await row.getByTestId('refusal-reason').textContent()).toMatch(/insert/);
    expect(await rows.nth(0).getByTestId('refusal-user').textContent()).toBe('—');
    // Refused at hello, before the session took the token's user: the device names it.
    expect(await rows.nth(2).getByTestId('refusal-user').textContent()).toBe('—');
    expect(await rows.nth(2).getByTestId('refusal-site').textContent()).toBe(bob.replica.site);
    // The forged token is nowhere on the page.
    expect(await page.content()).not.toContain(forged);
    await dash.keepForDocs(await dash.screenshot('refusals'), 'dashboard-refusals.png');
  });

  it('shows refusals by kind and errors by code in Metrics, matching /metrics', async () => {
    const scraped = parsePrometheusText(
      await (
        await fetch(`${dash.server.url}/metrics`, {
          headers: { authorization: `Bearer ${dash.adminKey}` },
        })
      ).text(),
    );
    const refusals = byLabel(scraped, 'offsync_refusals_total', 'kind', { database: 'app' });
    const errors = byLabel(scraped, 'offsync_errors_total', 'code', { database: 'app' });
    expect(Object.fromEntries(refusals)).toMatchObject({ row: 1, unauthorized: 1 });
    expect(Object.fromEntries(errors)).toMatchObject({ unauthorized: 1 });
    expect(Object.fromEntries(errors)['device-revoked']).toBeGreaterThanOrEqual(1);

    await openTab('metrics');
    await page.getByTestId('metrics-problems').waitFor();
    for (const [kind, count] of refusals)
      expect(await text(`metrics-refusals-${kind}`)).toBe(String(count));
    for (const [code, count] of errors)
      expect(await text(`metrics-errors-${code}`)).toBe(String(count));
    const latest = page.getByTestId('metrics-latest-refusals').getByTestId('refusal-kind');
    expect((await latest.allTextContents()).slice(0, 3)).toEqual([
      'unauthorized',
      'row',
      'device-revoked',
    ]);
    await dash.keepForDocs(await dash.screenshot('metrics'), 'dashboard-metrics.png');
    await page.getByTestId('metrics-all-refusals').click();
    await page.getByTestId('refusals-table').waitFor();
  });

  it('gives the client integration: URL, database, the token command, and code that runs as copied', async () => {
    await openTab('integration');
    await page.getByTestId('integration-snippet').waitFor();
    expect(await text('integration-url')).toBe(dash.server.url);
    expect(await text('integration-database')).toBe('app');
    expect(await text('integration-tables')).toBe('todos');
    expect(await text('integration-token-command')).toBe(
      'offsync token issue --sub alice --db app',
    );
    await page.getByTestId('integration-user').fill('carol');
    expect(await text('integration-token-command')).toBe(
      'offsync token issue --sub carol --db app',
    );
    await page.getByTestId('copy-token').click();
    await page.getByText('Copied').first().waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
      'offsync token issue --sub carol --db app',
    );

    await page.getByTestId('copy-snippet').click();
    await page.getByTestId('copy-snippet-status').getByText('Copied').waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(await text('integration-snippet'));
    await dash.keepForDocs(await dash.screenshot('integration'), 'dashboard-integration.png');

    // Run the copied code as it is, in Node, on an app database holding carol's row.
    const appDir = await mkdtemp(join(tmpdir(), 'offsync-integration-app-'));
    const script = join(ARTIFACTS, `integration-snippet-${process.pid}.mjs`);
    const app = openReplica(join(appDir, 'app.db'));
    app.db.exec(TODOS);
    app.db.prepare("INSERT INTO todos VALUES ('c1', 'from the snippet')").run();
    app.close();
    await writeFile(script, copied);
    const token = await dash.devToken('carol');
    const child = spawn(process.execPath, [script], {
      cwd: appDir,
      env: { ...process.env, OFFSYNC_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    try {
      await waitUntil(
        async () => {
          const rows = await dash.admin<{ name: string; rows: number }[]>(
            'GET',
            '/databases/app/tables',
          );
          const devices = await dash.admin<Device[]>('GET', '/databases/app/devices');
          return (
            devices.json.some((each) => each.user === 'carol') &&
            /synced 0/.test(output) &&
            rows.status === 200
          );
        },
        { timeoutMs: 15_000, message: () => `snippet output: ${output}` },
      );
      // The row arrived byte for byte.
      const synced = dash.server.store
        .open('app')
        .replica.driver.prepare("SELECT hex(id), hex(title) FROM todos WHERE id = 'c1'")
        .all();
      expect(synced).toEqual([
        [
          Buffer.from('c1').toString('hex').toUpperCase(),
          Buffer.from('from the snippet').toString('hex').toUpperCase(),
        ],
      ]);
    } finally {
      child.kill();
      await new Promise((resolve) => child.once('exit', resolve));
      await rm(script, { force: true });
      await rm(appDir, { recursive: true, force: true });
    }
  });

  it('fits every page at 390 px: no horizontal scroll, nothing past the right edge', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = (): Promise<string[]> =>
      page.evaluate(() => {
        const problems: string[] = [];
        const root = document.scrollingElement ?? document.documentElement;
        if (root.scrollWidth > root.clientWidth)
          problems.push(`document ${root.scrollWidth} > ${root.clientWidth}`);
        for (const element of Array.from(document.querySelectorAll<HTMLElement>('body *'))) {
          const style = getComputedStyle(element);
          if (style.display === 'none' || style.position === 'absolute') continue;
          const box = element.getBoundingClientRect();
          if (box.width > 0 && box.right > window.innerWidth + 0.5)
            problems.push(
              `${element.tagName.toLowerCase()}[${element.dataset.testid ?? element.className}] right ${box.right}`,
            );
          if (
            (style.overflowX === 'auto' || style.overflowX === 'scroll') &&
            element.scrollWidth > element.clientWidth
          )
            problems.push(`${element.tagName.toLowerCase()} scrolls sideways`);
        }
        return problems;
      });
    await page.goto(`${dash.server.url}/dashboard/#/databases`);
    await page.getByTestId('databases-table').waitFor();
    expect(await overflow(), 'databases').toEqual([]);
    // Every tab there is, including ones added later (Migrations).
    for (const tab of TABS) {
      await openTab(tab);
      await page.waitForFunction((id) => {
        const panel = document.querySelector(`[data-testid="panel-${id}"]`);
        return (
          panel !== null &&
          panel.querySelectorAll('[aria-busy="true"]').length === 0 &&
          !(panel.textContent ?? '').includes('Loading…')
        );
      }, tab);
      expect(await overflow(), tab).toEqual([]);
      if (tab === 'devices')
        await dash.keepForDocs(await dash.screenshot('mobile'), 'dashboard-mobile.png');
    }
    // The confirmation fits too.
    await openTab('tables');
    await page.getByTestId('sync-switch-todos').click();
    await page.getByTestId('sync-off-dialog').waitFor();
    const box = await page.getByTestId('sync-off-dialog').boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    await page.getByTestId('sync-off-cancel').click();
  });

  it('made no request beyond its server and raised no page error', async () => {
    expect(dash.watch.blockedRequests).toEqual([]);
    expect(unexpectedErrors(dash.watch.errors, '4\\d\\d'), dash.watch.report()).toEqual([]);
    for (const image of ['devices', 'integration', 'refusals', 'mobile', 'metrics'])
      expect((await stat(join(DOCS_IMAGES, `dashboard-${image}.png`))).size).toBeLessThan(400_000);
  });
});
