// The dashboard's Migrations view in real headless Chromium against a real server on loopback:
// an empty history, a refused migration shown with the server's reason (and nothing applied),
// Cancel in the confirmation applying nothing, and an applied migration listed with what it did
// to each synced table, while a real client at the older schema keeps syncing. The screenshot is
// kept in docs/images/dashboard-migrations.png.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type NodeReplica, openReplica } from '@offsync/adapter-node';
import type { SyncClient } from '@offsync/core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNode } from '../src/index.js';
import { DashboardBrowser, unexpectedErrors } from './support/dashboard-browser.js';

const MIGRATIONS = join(import.meta.dirname, '../../../docs/migrations');
const V1 = join(MIGRATIONS, '0001-todos.sql');
const V2 = join(MIGRATIONS, '0002-due-dates.sql');

let dash: DashboardBrowser;
let page: Page;
let replica: NodeReplica | undefined;
let client: SyncClient | undefined;

/** The admin API's answer, or a throw: this test's set-up and checks expect success. */
async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const { status, json } = await dash.admin<T>(method, path, body);
  if (status < 200 || status > 299) throw new Error(`${method} ${path}: ${status}`);
  return json;
}

beforeAll(async () => {
  dash = await DashboardBrowser.start({
    name: 'dashboard-migrations',
    viewport: { width: 1200, height: 900 },
    flushIntervalMs: 200,
  });
  page = dash.page;
  const schema = await readFile(V1, 'utf8');
  await admin('POST', '/databases', { name: 'app', schema });
  for (const table of ['todos', 'notes']) {
    await admin('PUT', `/databases/app/tables/${table}/sync`, { enabled: true });
    for (const operation of ['select', 'insert', 'update', 'delete'])
      await admin('PUT', `/databases/app/policies/${table}/${operation}`, { expression: 'true' });
  }
}, 60_000);

afterAll(async () => {
  await client?.disconnect();
  replica?.close();
  await dash?.close();
});

describe('the Migrations view in headless Chromium', () => {
  it('lists migrations, refuses a bad one with the reason, and applies one after confirmation', async () => {
    // A device at the first schema, syncing over WebSocket while the server migrates.
    replica = openReplica(':memory:');
    replica.db.exec(await readFile(V1, 'utf8'));
    replica.enableSync('todos');
    replica.enableSync('notes');
    replica.db.prepare("INSERT INTO todos(id, title) VALUES ('t1', 'milk')").run();
    client = connectNode(replica, {
      url: dash.server.url,
      database: 'app',
      token: await dash.devToken('ada'),
    });
    client.start();

    await dash.signIn();
    await page.goto(`${dash.server.url}/dashboard/#/db/app/migrations`);
    await page.getByTestId('migrations-empty').waitFor();
    expect(await page.getByTestId('tab-migrations').getAttribute('aria-current')).toBe('page');

    // A statement a migration may not hold: refused with the server's reason, nothing applied.
    await page.getByTestId('migration-sql').fill("UPDATE todos SET title = 'x'");
    await page.getByTestId('migration-apply').click();
    await page.getByTestId('migration-confirm-confirm').click();
    await page
      .getByTestId('migration-status')
      .getByText(/Not applied/)
      .waitFor();
    expect(await dash.text('migration-status')).toMatch(
      /^Not applied: migration refused at statement 1: "UPDATE todos SET …" is not a schema migration statement.*nothing was applied \(400\)$/,
    );
    expect(await admin<unknown[]>('GET', '/databases/app/migrations')).toEqual([]);

    // Cancel in the confirmation applies nothing.
    const sql = await readFile(V2, 'utf8');
    await page.getByTestId('migration-name').fill('0002-due-dates.sql');
    await page.getByTestId('migration-sql').fill(sql);
    await page.getByTestId('migration-apply').click();
    await page.getByTestId('migration-confirm-dialog').waitFor();
    expect(await dash.text('migration-confirm-dialog')).toMatch(/additive change/);
    await page.getByTestId('migration-confirm-cancel').click();
    expect(await admin<unknown[]>('GET', '/databases/app/migrations')).toEqual([]);

    await page.getByTestId('migration-apply').click();
    await page.getByTestId('migration-confirm-confirm').click();
    await page
      .getByTestId('migration-status')
      .getByText(/applied/)
      .waitFor();
    expect(await dash.text('migration-status')).toBe('Migration 1 applied: todos additive.');
    await page.getByTestId('migrations-table').waitFor();
    const rows = page.getByTestId('migration-row');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().getByTestId('migration-version').textContent()).toBe('1');
    expect(await rows.first().getByTestId('migration-row-name').textContent()).toBe(
      '0002-due-dates.sql',
    );
    expect(await rows.first().getByTestId('migration-kind').textContent()).toBe('additive');
    expect(await rows.first().getByTestId('migration-sql-text').textContent()).toBe(sql.trim());
    expect(await page.getByTestId('migration-sql').inputValue()).toBe('');

    // The device at the older schema hears of it and keeps syncing todos.
    const deadline = Date.now() + 10_000;
    while (client.status.upgrades.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(client.status.upgrades.map(({ table, kind }) => ({ table, kind }))).toEqual([
      { table: 'todos', kind: 'additive' },
    ]);
    expect(client.status.refusedTables).toEqual({});

    await dash.keepForDocs(await dash.screenshot('migrations'), 'dashboard-migrations.png');

    // Readable on a phone: nothing wider than a 390 px screen.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      390,
    );
    await dash.screenshot('migrations-390');

    expect(dash.watch.blockedRequests).toEqual([]);
    expect(unexpectedErrors(dash.watch.errors, '400'), dash.watch.report()).toEqual([]);
  });
});
