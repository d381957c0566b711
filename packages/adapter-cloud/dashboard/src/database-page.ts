import { accessTab } from './access-tab.js';
import type { DatabaseSummary } from './api-types.js';
import { devicesTab } from './devices-tab.js';
import { h } from './dom.js';
import { formatBytes } from './format.js';
import { integrationTab } from './integration-tab.js';
import { metricsTab } from './metrics-tab.js';
import { migrationsTab } from './migrations-tab.js';
import { refusalsTab } from './refusals-tab.js';
import { routeHash, type Tab } from './route.js';
import { tablesTab } from './tables-tab.js';
import { fill, type View } from './view.js';

const TAB_TITLES: Readonly<Record<Tab, string>> = {
  tables: 'Tables',
  devices: 'Devices',
  metrics: 'Metrics',
  refusals: 'Refusals',
  migrations: 'Migrations',
  integration: 'Client integration',
  access: 'Access',
};

/**
 * The sync settings of one database: a summary line and the Tables, Devices, Metrics and Access
 * tabs (each its own hash route, so a tab can be linked and reloaded).
 *
 * @example
 * ```ts
 * main.replaceChildren(databasePage(view, 'app', 'tables'));
 * ```
 */
export function databasePage(view: View, database: string, tab: Tab): HTMLElement {
  const summary = h('p', { class: 'summary', testid: 'database-summary' });
  const refreshSummary = (): Promise<void> =>
    fill(
      view,
      summary,
      async () => {
        const info = await view.api.get<DatabaseSummary>(['databases', database]);
        return [
          `${formatBytes(info.sizeBytes)} · `,
          h(
            'span',
            { testid: 'summary-synced' },
            `${info.syncedTables} of ${info.tables} tables synced`,
          ),
          ` · ${info.connectedDevices} of ${info.devices} devices connected · server version ${info.version}`,
        ];
      },
      { refresh: summary.hasChildNodes() },
    );
  void refreshSummary();
  view.every(5000, refreshSummary);

  const content =
    tab === 'tables'
      ? tablesTab(view, database, () => void refreshSummary())
      : tab === 'devices'
        ? devicesTab(view, database)
        : tab === 'metrics'
          ? metricsTab(view, database)
          : tab === 'refusals'
            ? refusalsTab(view, database)
            : tab === 'migrations'
              ? migrationsTab(view, database)
              : tab === 'integration'
                ? integrationTab(view, database)
                : accessTab(view, database);

  return h(
    'section',
    { 'aria-labelledby': 'page-title', testid: 'database-page' },
    h(
      'nav',
      { 'aria-label': 'Breadcrumb', class: 'breadcrumb' },
      h('a', { href: routeHash({ page: 'databases' }) }, 'Databases'),
      ' / ',
    ),
    h(
      'h1',
      { id: 'page-title', tabindex: '-1' },
      database,
      h('span', { class: 'muted' }, ' · sync settings'),
    ),
    summary,
    h(
      'nav',
      { 'aria-label': 'Sync settings', class: 'tabs' },
      ...(Object.keys(TAB_TITLES) as Tab[]).map((each) =>
        h(
          'a',
          {
            href: routeHash({ page: 'database', database, tab: each }),
            testid: `tab-${each}`,
            'aria-current': each === tab ? 'page' : undefined,
          },
          TAB_TITLES[each],
        ),
      ),
    ),
    h('div', { class: 'tab-panel', testid: `panel-${tab}` }, content),
  );
}

/**
 * The document title of a database tab.
 *
 * @example
 * ```ts
 * document.title = databaseTitle('app', 'devices'); // 'app · Devices · OffSync'
 * ```
 */
export function databaseTitle(database: string, tab: Tab): string {
  return `${database} · ${TAB_TITLES[tab]} · OffSync`;
}
