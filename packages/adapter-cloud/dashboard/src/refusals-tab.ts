import type { RefusalInfo } from './api-types.js';
import { h } from './dom.js';
import { formatAgo, formatTime } from './format.js';
import { fill, type View } from './view.js';

/** How often the refusals log refreshes itself. */
export const REFUSALS_REFRESH_MS = 5000;

/** How many refusals the tab asks for (the server keeps the latest 1,000 per database). */
const LIMIT = 100;

/**
 * The refusal log of a database: what the server refused, newest first, with who, which device,
 * which table, the kind and the reason the device was told. Refreshes itself.
 *
 * @example
 * ```ts
 * panel.append(refusalsTab(view, 'app'));
 * ```
 */
export function refusalsTab(view: View, database: string): HTMLElement {
  const body = h('div');
  const load = (refresh: boolean): Promise<void> =>
    fill(
      view,
      body,
      async () => {
        const refusals = await view.api.get<RefusalInfo[]>(['databases', database, 'refusals'], {
          limit: String(LIMIT),
        });
        if (refusals.length === 0)
          return [
            h(
              'p',
              { class: 'empty', testid: 'refusals-empty' },
              'Nothing refused since the server started.',
            ),
          ];
        return [
          h(
            'p',
            { testid: 'refusals-count' },
            `${refusals.length === LIMIT ? `Latest ${LIMIT}` : refusals.length} refusals, newest first`,
          ),
          refusalsTable(refusals, view.now(), 'refusals-table'),
        ];
      },
      { refresh },
    );
  void load(false);
  view.every(REFUSALS_REFRESH_MS, () => load(true));
  return h(
    'div',
    { testid: 'refusals-tab' },
    h(
      'p',
      { class: 'muted' },
      'Kept in the server’s memory: the latest 1,000 per database since it started. ',
      'Counts that last are in ',
      h('code', {}, '/metrics'),
      ' (offsync_refusals_total).',
    ),
    body,
  );
}

/**
 * A table of refusals (the Refusals tab, and the latest few in Metrics).
 *
 * @example
 * ```ts
 * panel.append(refusalsTable(refusals, Date.now(), 'latest-refusals'));
 * ```
 */
export function refusalsTable(
  refusals: readonly RefusalInfo[],
  now: number,
  testid: string,
): HTMLElement {
  return h(
    'table',
    { class: 'grid', testid },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'When'),
        h('th', { scope: 'col' }, 'User'),
        h('th', { scope: 'col' }, 'Device'),
        h('th', { scope: 'col' }, 'Table'),
        h('th', { scope: 'col' }, 'Kind'),
        h('th', { scope: 'col' }, 'Reason'),
      ),
    ),
    h(
      'tbody',
      {},
      ...refusals.map((refusal) =>
        h(
          'tr',
          { testid: 'refusal-row' },
          h('td', { title: formatTime(refusal.at) }, formatAgo(refusal.at, now)),
          h('td', { testid: 'refusal-user' }, refusal.user ?? '—'),
          h(
            'td',
            { testid: 'refusal-site' },
            refusal.site === null ? '—' : h('code', { class: 'site' }, refusal.site),
          ),
          h(
            'td',
            { testid: 'refusal-table' },
            refusal.table === null ? '—' : h('code', {}, refusal.table),
          ),
          h('td', { testid: 'refusal-kind' }, h('span', { class: 'tag' }, refusal.kind)),
          h('td', { class: 'reason', testid: 'refusal-reason' }, refusal.reason),
        ),
      ),
    ),
  );
}
