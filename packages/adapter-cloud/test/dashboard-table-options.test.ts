// The Tables tab's "Enable anyway…" in real headless Chromium against a real server on loopback:
// a table refused for a rowid INTEGER PRIMARY KEY or a FOREIGN KEY is offered the option that
// waives that check (allowIntegerPrimaryKey / allowForeignKeys), behind a confirmation with one
// checkbox per consequence; Cancel changes nothing, confirming switches sync on with the option,
// and a real Node client then syncs rows of those tables. Screenshot:
// docs/images/dashboard-table-options.png (see keepForDocs).

import { join } from 'node:path';
import { type NodeReplica, openReplica } from '@offsync/adapter-node';
import type { SyncClient } from '@offsync/core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNode, generateApiKey } from '../src/index.js';
import { ARTIFACTS, DashboardBrowser, unexpectedErrors } from './support/dashboard-browser.js';
import { createTodoApp } from './support/todo-app.js';
import { waitUntil } from './support/wait.js';

const SCHEMA = [
  'CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT)',
  'CREATE TABLE counters(id INTEGER PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0)',
  'CREATE TABLE lines(id TEXT PRIMARY KEY NOT NULL, todo TEXT REFERENCES todos(id))',
  // Both at once: both options are offered together, and both must be ticked.
  'CREATE TABLE pairs(id INTEGER PRIMARY KEY, todo TEXT REFERENCES todos(id))',
].join(';\n');

interface Table {
  readonly name: string;
  readonly synced: boolean;
  readonly problem?: string;
  readonly problemCode?: string;
  readonly waivers?: readonly string[];
  readonly options?: {
    readonly allowIntegerPrimaryKey: boolean;
    readonly allowForeignKeys: boolean;
  };
}

interface Refusal {
  readonly error: { readonly code: string; readonly message: string };
}

let dash: DashboardBrowser;
let page: Page;
let client: SyncClient | undefined;
let replica: NodeReplica | undefined;

async function table(name: string): Promise<Table> {
  const { json } = await dash.admin<Table[]>('GET', '/databases/app/tables');
  const found = json.find((each) => each.name === name);
  if (!found) throw new Error(`no table ${name} in ${JSON.stringify(json)}`);
  return found;
}

async function openTables(): Promise<void> {
  await page.goto(`${dash.server.url}/dashboard/#/db/app/tables`);
  await page.getByTestId('tables-table').waitFor();
}

/** Problems that would make the page scroll sideways at the current width. */
function overflow(): Promise<string[]> {
  return page.evaluate(() => {
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
    }
    return problems;
  });
}

beforeAll(async () => {
  dash = await DashboardBrowser.start({
    name: 'dashboard-table-options',
    viewport: { width: 1200, height: 800 },
    flushIntervalMs: 100,
    adminKey: generateApiKey('admin'),
  });
  page = dash.page;
  await createTodoApp((method, path, body) => dash.admin(method, path, body), SCHEMA);
  await dash.signIn();
}, 90_000);

afterAll(async () => {
  await client?.disconnect();
  replica?.close();
  await dash?.close();
});

describe('enabling a table with allowIntegerPrimaryKey / allowForeignKeys from the dashboard', () => {
  it('tells which option waives each table’s problem', async () => {
    expect(await table('counters')).toMatchObject({
      synced: false,
      problemCode: 'integer-primary-key',
      waivers: ['allowIntegerPrimaryKey'],
    });
    expect(await table('lines')).toMatchObject({
      synced: false,
      problemCode: 'foreign-key',
      waivers: ['allowForeignKeys'],
    });
    expect(await table('pairs')).toMatchObject({
      synced: false,
      problemCode: 'integer-primary-key',
      waivers: ['allowIntegerPrimaryKey', 'allowForeignKeys'],
    });
    expect(await table('todos')).toMatchObject({
      synced: true,
      options: { allowIntegerPrimaryKey: false, allowForeignKeys: false },
    });
    expect((await table('todos')).waivers).toBeUndefined();
  });

  it('refuses the plain switch with the server’s reason, and offers the option', async () => {
    // What the admin API answers a plain switch-on with: the page must show these words.
    const refused = await dash.admin<Refusal>('PUT', '/databases/app/tables/counters/sync', {
      enabled: true,
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe('integer-primary-key');

    await openTables();
    expect(await dash.text('table-problem-counters')).toBe((await table('counters')).problem);
    await page.getByTestId('sync-switch-counters').click();
    await page.getByTestId('table-error-counters').waitFor();
    expect(await dash.text('table-error-counters')).toBe(`${refused.json.error.message} (400)`);
    expect(await dash.text('table-error-counters')).toMatch(/INTEGER PRIMARY KEY/);
    expect(await page.getByTestId('sync-switch-counters').getAttribute('aria-checked')).toBe(
      'false',
    );
    expect(await page.getByTestId('enable-anyway-counters').isVisible()).toBe(true);
    await dash.screenshot('table-options-refused');
    // A table that passes as it is, or is synced, is offered nothing.
    expect(await page.getByTestId('enable-anyway-todos').count()).toBe(0);
    expect((await table('counters')).synced).toBe(false);
  });

  it('changes nothing on Cancel or Escape', async () => {
    await page.getByTestId('enable-anyway-counters').click();
    const dialog = page.getByTestId('sync-options-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/Enable sync for counters anyway\?/);
    expect(await dialog.textContent()).toMatch(/collide/);
    const checks = dialog.locator('input[type="checkbox"]');
    expect(await checks.count()).toBe(1);
    // Nothing is accepted until the consequence is ticked.
    expect(await page.getByTestId('sync-options-confirm').isDisabled()).toBe(true);
    await page.getByTestId('sync-options-check-allowIntegerPrimaryKey').check();
    expect(await page.getByTestId('sync-options-confirm').isEnabled()).toBe(true);
    await page.getByTestId('sync-options-cancel').click();
    await dialog.waitFor({ state: 'detached' });
    expect(await table('counters')).toMatchObject({ synced: false });

    await page.getByTestId('enable-anyway-counters').click();
    await dialog.waitFor();
    // A fresh dialog: the tick of the cancelled one is not kept.
    expect(await page.getByTestId('sync-options-check-allowIntegerPrimaryKey').isChecked()).toBe(
      false,
    );
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await table('counters')).toMatchObject({ synced: false });
    expect(await page.getByTestId('sync-switch-counters').getAttribute('aria-checked')).toBe(
      'false',
    );
  });

  it('offers both options for a table that needs both, and wants both ticked', async () => {
    await page.getByTestId('enable-anyway-pairs').click();
    const dialog = page.getByTestId('sync-options-dialog');
    await dialog.waitFor();
    expect(await dialog.locator('input[type="checkbox"]').count()).toBe(2);
    expect(await dialog.textContent()).toMatch(/foreign key is refused/);
    await page.getByTestId('sync-options-check-allowForeignKeys').check();
    expect(await page.getByTestId('sync-options-confirm').isDisabled()).toBe(true);
    await page.getByTestId('sync-options-check-allowIntegerPrimaryKey').check();
    expect(await page.getByTestId('sync-options-confirm').isEnabled()).toBe(true);
    await page.getByTestId('sync-options-cancel').click();
    await dialog.waitFor({ state: 'detached' });
    expect(await table('pairs')).toMatchObject({ synced: false });
  });

  it('switches sync on with the option once confirmed', async () => {
    for (const [name, waiver] of [
      ['counters', 'allowIntegerPrimaryKey'],
      ['lines', 'allowForeignKeys'],
    ] as const) {
      await page.getByTestId(`enable-anyway-${name}`).click();
      await page.getByTestId('sync-options-dialog').waitFor();
      await page.getByTestId(`sync-options-check-${waiver}`).check();
      await page.getByTestId('sync-options-confirm').click();
      await page.getByTestId(`table-fingerprint-${name}`).waitFor();
      expect(await page.getByTestId(`sync-switch-${name}`).getAttribute('aria-checked')).toBe(
        'true',
      );
      expect(await page.getByTestId(`table-error-${name}`).count()).toBe(0);
      expect(await page.getByTestId(`enable-anyway-${name}`).count()).toBe(0);
      expect(
        await page
          .getByTestId(`table-options-${name}`)
          .getByTestId(`table-option-${waiver}`)
          .count(),
      ).toBe(1);
      const status = await table(name);
      expect(status).toMatchObject({
        synced: true,
        options: {
          allowIntegerPrimaryKey: waiver === 'allowIntegerPrimaryKey',
          allowForeignKeys: waiver === 'allowForeignKeys',
        },
      });
      expect(status.problem).toBeUndefined();
      expect(status.waivers).toBeUndefined();
    }
    // The rows switched on in place keep their cells' labels (the cards at 390 px show them).
    expect(
      await page.locator('[data-testid="tables-table"] tbody td:not([data-label])').count(),
    ).toBe(0);
  });

  it('syncs rows of those tables from a real Node client', async () => {
    for (const name of ['counters', 'lines'])
      for (const operation of ['select', 'insert', 'update', 'delete'])
        expect(
          (
            await dash.admin('PUT', `/databases/app/policies/${name}/${operation}`, {
              expression: 'true',
            })
          ).status,
        ).toBe(200);
    replica = openReplica(':memory:');
    replica.db.exec(SCHEMA);
    replica.enableSync('todos');
    replica.enableSync('counters', { allowIntegerPrimaryKey: true });
    replica.enableSync('lines', { allowForeignKeys: true });
    replica.db.prepare("INSERT INTO todos VALUES ('t1', 'buy milk')").run();
    replica.db.prepare('INSERT INTO counters VALUES (7, 42)').run();
    replica.db.prepare("INSERT INTO lines VALUES ('l1', 't1')").run();
    const synced = replica;
    client = connectNode(synced, {
      url: dash.server.url,
      database: 'app',
      token: await dash.devToken('alice'),
    });
    const running = client;
    await waitUntil(
      () =>
        running.status.state === 'synced' &&
        running.status.pending === 0 &&
        Object.keys(running.status.refusedTables).length === 0 &&
        running.status.refusedRows.length === 0,
      { timeoutMs: 10_000, message: () => JSON.stringify(running.status) },
    );
    const server = dash.server.store.open('app').replica.driver;
    for (const sql of [
      'SELECT quote(id), quote(n) FROM counters ORDER BY id',
      'SELECT quote(id), quote(todo) FROM lines ORDER BY id',
    ]) {
      const local = synced.db
        .prepare(sql)
        .raw()
        .all()
        .map((row) => (row as unknown[]).map(String));
      expect(local).toHaveLength(1);
      expect(
        server
          .prepare(sql)
          .all()
          .map((row) => row.map(String)),
      ).toEqual(local);
    }
    expect(
      server
        .prepare('SELECT quote(id), quote(n) FROM counters')
        .all()
        .map((row) => row.map(String)),
    ).toEqual([['7', '42']]);
  });

  it('fits 390 x 844, the confirmation included', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await openTables();
    await page.getByTestId('enable-anyway-pairs').waitFor();
    expect(await overflow()).toEqual([]);
    await page.getByTestId('enable-anyway-pairs').click();
    const dialog = page.getByTestId('sync-options-dialog');
    await dialog.waitFor();
    await page.getByTestId('sync-options-check-allowIntegerPrimaryKey').check();
    const box = await dialog.boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    expect(await overflow()).toEqual([]);
    // The viewport, not the full page: the modal and its backdrop are what the picture is of.
    const shot = join(ARTIFACTS, 'dashboard-table-options.png');
    await page.screenshot({ path: shot });
    await dash.keepForDocs(shot, 'dashboard-table-options.png');
    await page.getByTestId('sync-options-cancel').click();
    await dialog.waitFor({ state: 'detached' });
    expect(await table('pairs')).toMatchObject({ synced: false });
  });

  it('made no request beyond its server and raised no page error but the refusal', async () => {
    expect(dash.watch.blockedRequests).toEqual([]);
    expect(unexpectedErrors(dash.watch.errors, '400'), dash.watch.report()).toEqual([]);
  });
});
