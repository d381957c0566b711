import type { DatabaseSummary } from './api-types.js';
import { h } from './dom.js';
import { formatBytes } from './format.js';
import { routeHash } from './route.js';
import { fill, type View } from './view.js';

/**
 * Every database on the server: size, synced tables, devices, and an OffSync button that opens
 * its sync settings.
 *
 * @example
 * ```ts
 * main.replaceChildren(databasesPage(view));
 * ```
 */
export function databasesPage(view: View): HTMLElement {
  const body = h('div', { testid: 'databases' });
  void fill(view, body, async () => {
    const databases = await view.api.get<DatabaseSummary[]>(['databases']);
    if (databases.length === 0)
      return [
        h(
          'p',
          { class: 'empty', testid: 'databases-empty' },
          'No databases yet. Create one with `offsync db create <name> --schema app.sql`.',
        ),
      ];
    return [
      h(
        'table',
        { class: 'grid', testid: 'databases-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Database'),
            h('th', { scope: 'col', class: 'num' }, 'Size'),
            h('th', { scope: 'col', class: 'num' }, 'Synced tables'),
            h('th', { scope: 'col', class: 'num' }, 'Devices connected'),
            h('th', { scope: 'col' }, 'OffSync'),
          ),
        ),
        h('tbody', {}, ...databases.map((database) => row(database))),
      ),
    ];
  });
  return h(
    'section',
    { 'aria-labelledby': 'page-title' },
    h('h1', { id: 'page-title', tabindex: '-1' }, 'Databases'),
    body,
  );
}

function row(database: DatabaseSummary): HTMLElement {
  const enabled = database.syncedTables > 0;
  const settings = routeHash({ page: 'database', database: database.name, tab: 'tables' });
  return h(
    'tr',
    { testid: `database-row-${database.name}` },
    h('th', { scope: 'row' }, h('a', { href: settings }, database.name)),
    h('td', { class: 'num', testid: 'database-size' }, formatBytes(database.sizeBytes)),
    h(
      'td',
      { class: 'num', testid: 'database-synced' },
      `${database.syncedTables} of ${database.tables}`,
    ),
    h(
      'td',
      { class: 'num', testid: 'database-connected' },
      `${database.connectedDevices} of ${database.devices}`,
    ),
    h(
      'td',
      {},
      h(
        'a',
        {
          href: settings,
          class: `button ${enabled ? 'on' : 'off'}`,
          testid: `offsync-button-${database.name}`,
          'aria-label': `OffSync settings of ${database.name}: ${enabled ? 'enabled' : 'not enabled'}`,
        },
        h('span', { class: 'dot', 'aria-hidden': 'true' }),
        h(
          'span',
          { testid: `offsync-state-${database.name}` },
          enabled ? 'Enabled' : 'Not enabled',
        ),
        h('span', { class: 'muted', 'aria-hidden': 'true' }, '· Settings ›'),
      ),
    ),
  );
}
