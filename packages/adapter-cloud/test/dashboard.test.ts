// The dashboard in real headless Chromium against a real server on loopback: sign-in (a wrong
// key is refused), the databases list, the sync switch of each table (with the server's schema
// checks), a Node client syncing a row while the Devices tab watches, traffic in Metrics, and
// policy editing with SQLite's validation. Screenshots go to test-artifacts/dashboard-*.png; the
// Tables and Devices ones are also copied to docs/images/ for the documentation.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type NodeReplica, openReplica } from '@offsync/adapter-node';
import type { SyncClient } from '@offsync/core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNode, generateApiKey } from '../src/index.js';
import { DashboardBrowser, DOCS_IMAGES, unexpectedErrors } from './support/dashboard-browser.js';

const TODOS = 'CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT)';
const SCHEMA = [
  TODOS,
  'CREATE TABLE notes(body TEXT)',
  'CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, qty INTEGER NOT NULL)',
].join(';\n');

interface TableJson {
  readonly name: string;
  readonly synced: boolean;
  readonly fingerprint?: string;
  readonly rows?: number;
}

let dash: DashboardBrowser;
let page: Page;
let replica: NodeReplica | undefined;
let client: SyncClient | undefined;

async function apiTable(name: string): Promise<TableJson> {
  const { json } = await dash.admin<TableJson[]>('GET', '/databases/app/tables');
  return json.find((table) => table.name === name)!;
}

beforeAll(async () => {
  dash = await DashboardBrowser.start({
    name: 'dashboard',
    viewport: { width: 1200, height: 760 },
    flushIntervalMs: 200,
  });
  page = dash.page;
  expect((await dash.admin('POST', '/databases', { name: 'app', schema: SCHEMA })).status).toBe(
    200,
  );
  // User tokens need policies; `true` opens todos to the test's user.
  for (const operation of ['select', 'insert', 'update', 'delete'])
    expect(
      (
        await dash.admin('PUT', `/databases/app/policies/todos/${operation}`, {
          expression: 'true',
        })
      ).status,
    ).toBe(200);
}, 60_000);

afterAll(async () => {
  await client?.disconnect();
  replica?.close();
  await dash?.close();
});

describe('the dashboard in headless Chromium', () => {
  it('refuses a wrong admin key with 401 and stays on the sign-in page, showing nothing', async () => {
    // Well formed, but not a key this server issued.
    const wrongKey = generateApiKey('admin');
    const wrong = await dash.admin('GET', '/databases', undefined, wrongKey);
    expect(wrong.status).toBe(401);

    await page.goto(`${dash.server.url}/dashboard/#/databases`);
    await page.getByTestId('sign-in-page').waitFor();
    await page.getByTestId('sign-in-key').fill(wrongKey);
    await page.getByTestId('sign-in-submit').click();
    const error = page.getByTestId('sign-in-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/refused this key: .*\(401\)/);
    expect(await page.getByTestId('sign-in-page').isVisible()).toBe(true);
    expect(await page.getByTestId('page').count()).toBe(0);
    expect(await page.getByTestId('databases-table').count()).toBe(0);
    expect(await page.getByText('app', { exact: true }).count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await dash.screenshot('sign-in-refused');
  });

  it('signs in with the admin key and lists the databases with their OffSync state', async () => {
    await page.getByTestId('sign-in-key').fill(dash.adminKey);
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('databases-table').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('offsync.adminKey'))).toBe(
      dash.adminKey,
    );
    const row = page.getByTestId('database-row-app');
    expect(await row.getByTestId('database-synced').textContent()).toBe('0 of 3');
    expect(await row.getByTestId('database-connected').textContent()).toBe('0 of 0');
    expect(await row.getByTestId('database-size').textContent()).toMatch(/\d+(\.\d)? kB/);
    expect(await dash.text('offsync-state-app')).toBe('Not enabled');
    await dash.screenshot('databases');

    // The session survives a reload of the tab.
    await page.reload();
    await page.getByTestId('databases-table').waitFor();
  });

  it('opens the database and switches todos on through the admin API', async () => {
    await page.getByTestId('offsync-button-app').click();
    await page.getByTestId('tables-table').waitFor();
    expect(page.url()).toMatch(/#\/db\/app\/tables$/);
    expect(await dash.text('table-pk-todos')).toBe('id');
    expect(await dash.text('table-pk-notes')).toBe('none');
    expect(await dash.text('table-problem-items')).toMatch(/qty: it is NOT NULL without a DEFAULT/);
    expect(await dash.text('schema-note')).toMatch(/Local and cloud schemas must match/);

    const todos = page.getByTestId('sync-switch-todos');
    expect(await todos.getAttribute('role')).toBe('switch');
    expect(await todos.getAttribute('aria-checked')).toBe('false');
    expect((await apiTable('todos')).synced).toBe(false);
    await todos.click();
    await page.locator('[data-testid="sync-switch-todos"][aria-checked="true"]').waitFor();
    const state = await apiTable('todos');
    expect(state.synced).toBe(true);
    expect(await dash.text('table-fingerprint-todos')).toBe(state.fingerprint);
    await page.getByText('1 of 3 tables synced').waitFor();
  });

  it('shows a syncing client in Devices (auto-refreshed) and its traffic in Metrics', async () => {
    await page.getByTestId('tab-devices').click();
    await page.getByTestId('devices-empty').waitFor();

    replica = openReplica(':memory:');
    replica.db.exec(TODOS);
    replica.enableSync('todos');
    expect(replica.tableInfo('todos').fingerprint).toBe((await apiTable('todos')).fingerprint);
    const token = await dash.devToken('alice');
    client = connectNode(replica, { url: dash.server.url, database: 'app', token });
    replica.db.prepare("INSERT INTO todos(id, title) VALUES ('t1', 'buy milk')").run();
    await expect.poll(async () => (await client!.syncNow()).pending, { timeout: 10_000 }).toBe(0);
    expect((await apiTable('todos')).rows).toBe(1);

    // No reload: the Devices tab refreshes itself.
    const device = page.getByTestId(`device-row-${replica.site}`);
    await device.waitFor({ timeout: 10_000 });
    // Devices are grouped by user.
    expect(
      await page
        .getByTestId('device-group-alice')
        .getByTestId(`device-row-${replica.site}`)
        .count(),
    ).toBe(1);
    expect(await device.getByTestId('device-connected').textContent()).toBe('yes');
    expect(await device.getByTestId('device-pending').textContent()).toBe('0');
    expect(await device.getByTestId('device-last-sync').textContent()).not.toBe('never');
    expect(await device.getByTestId('device-bytes-up').textContent()).toMatch(/^[1-9][\d.]* k?B$/);
    expect(await device.getByTestId('device-bytes-down').textContent()).toMatch(
      /^[1-9][\d.]* k?B$/,
    );
    // The page's summary line refreshes itself too.
    await page.getByText('1 of 1 devices connected', { exact: false }).waitFor();
    await dash.keepForDocs(await dash.screenshot('devices'), 'dashboard-devices.png');

    await page.getByTestId('tab-metrics').click();
    await page.getByTestId('metrics-totals').waitFor();
    expect(Number(await dash.text('metric-changes-merged'))).toBeGreaterThanOrEqual(1);
    expect(await dash.text('metric-bytes-up')).not.toBe('0 B');
    expect(await dash.text('metric-bytes-down')).not.toBe('0 B');
    expect(await page.locator('[data-testid="chart-traffic-svg"] polyline').count()).toBe(2);
    expect(await page.locator('[data-testid="chart-traffic-svg"] circle').count()).toBeGreaterThan(
      0,
    );
    expect(await page.locator('[data-testid="chart-merged-svg"] rect').count()).toBeGreaterThan(0);
    await dash.screenshot('metrics');
  });

  it('shows the synced row, and refuses a table without a primary key, leaving it off', async () => {
    await page.getByTestId('tab-tables').click();
    await page.getByTestId('tables-table').waitFor();
    expect(await dash.text('table-rows-todos')).toBe('1');

    const notes = page.getByTestId('sync-switch-notes');
    expect(await notes.getAttribute('aria-checked')).toBe('false');
    await notes.click();
    const refusal = page.getByTestId('table-error-notes');
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/it has no primary key.*\(400\)/);
    expect(await refusal.getAttribute('role')).toBe('alert');
    expect(await page.getByTestId('sync-switch-notes').getAttribute('aria-checked')).toBe('false');
    expect((await apiTable('notes')).synced).toBe(false);
    await dash.keepForDocs(await dash.screenshot('tables'), 'dashboard-tables.png');
  });

  it('switches todos off', async () => {
    await page.getByTestId('sync-switch-todos').click();
    // Switching off asks first (dashboard-ops.test.ts covers Cancel).
    await page.getByTestId('sync-off-confirm').click();
    await page.locator('[data-testid="sync-switch-todos"][aria-checked="false"]').waitFor();
    expect((await apiTable('todos')).synced).toBe(false);
    await page.getByText('0 of 3 tables synced').waitFor();
    await page.getByTestId('tables-refresh').click();
    expect(await page.getByTestId('sync-switch-todos').getAttribute('aria-checked')).toBe('false');
  });

  it("refuses an invalid policy with SQLite's message, keeps the old one, and saves a valid one", async () => {
    await page.getByTestId('tab-access').click();
    await page.getByTestId('policies-todos').waitFor();
    expect(await dash.text('policy-current-todos-select')).toBe('true');
    expect(await dash.text('policy-current-notes-select')).toMatch(/closed to user tokens/);
    expect(await page.getByTestId('policy-input-todos-select').inputValue()).toBe('true');

    await page.getByTestId('policy-input-todos-select').fill('ownr = auth.sub');
    await page.getByTestId('policy-save-todos-select').click();
    const message = page.getByTestId('policy-message-todos-select');
    await message.waitFor();
    expect(await message.textContent()).toMatch(/does not compile: no such column: ownr/);
    expect(await message.getAttribute('role')).toBe('alert');
    expect(await dash.text('policy-current-todos-select')).toBe('true');
    const kept = await dash.admin<Record<string, Record<string, string>>>(
      'GET',
      '/databases/app/policies',
    );
    expect(kept.json.todos?.select).toBe('true');
    await dash.screenshot('access-refused');

    await page.getByTestId('policy-input-todos-select').fill('title IS NOT NULL');
    await page.getByTestId('policy-save-todos-select').click();
    await page.locator('[data-testid="policy-message-todos-select"][role="status"]').waitFor();
    expect(await dash.text('policy-current-todos-select')).toBe('title IS NOT NULL');
    const saved = await dash.admin<Record<string, Record<string, string>>>(
      'GET',
      '/databases/app/policies',
    );
    expect(saved.json.todos?.select).toBe('title IS NOT NULL');
    await dash.screenshot('access');
  });

  it('made no request beyond its server and raised no page error', async () => {
    expect(dash.watch.blockedRequests).toEqual([]);
    expect(unexpectedErrors(dash.watch.errors, '40[01]'), dash.watch.report()).toEqual([]);
    for (const image of ['dashboard-tables.png', 'dashboard-devices.png'])
      expect((await stat(join(DOCS_IMAGES, image))).size).toBeLessThan(200_000);
  });
});
