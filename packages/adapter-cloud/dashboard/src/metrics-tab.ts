import type { Metrics, RefusalInfo } from './api-types.js';
import { chart } from './chart.js';
import { h } from './dom.js';
import { formatBytes, formatCount } from './format.js';
import { byLabel, parsePrometheusText } from './prometheus-text.js';
import { refusalsTable } from './refusals-tab.js';
import { routeHash } from './route.js';
import { fill, type View } from './view.js';

/** How often the metrics refresh themselves. */
export const METRICS_REFRESH_MS = 5000;

const RANGES: readonly { readonly minutes: number; readonly label: string }[] = [
  { minutes: 15, label: 'Last 15 minutes' },
  { minutes: 60, label: 'Last hour' },
  { minutes: 360, label: 'Last 6 hours' },
  { minutes: 1440, label: 'Last 24 hours' },
];

/**
 * A database's traffic: totals of bytes up and down and changes merged, and per-minute charts
 * over a chosen range. Refreshes itself.
 *
 * @example
 * ```ts
 * panel.append(metricsTab(view, 'app'));
 * ```
 */
export function metricsTab(view: View, database: string): HTMLElement {
  const body = h('div');
  const range = h(
    'select',
    { id: 'metrics-range', testid: 'metrics-range' },
    ...RANGES.map((each) =>
      h('option', { value: each.minutes, selected: each.minutes === 60 }, each.label),
    ),
  );
  const load = (refresh: boolean): Promise<void> =>
    fill(
      view,
      body,
      async () => {
        const [metrics, problems] = await Promise.all([
          view.api.get<Metrics>(['databases', database, 'metrics'], { minutes: range.value }),
          problemsSection(view, database),
        ]);
        const times = metrics.series.map((point) => point.minute);
        return [
          h(
            'dl',
            { class: 'totals', testid: 'metrics-totals' },
            total('Bytes up', formatBytes(metrics.totals.bytesUp), 'metric-bytes-up'),
            total('Bytes down', formatBytes(metrics.totals.bytesDown), 'metric-bytes-down'),
            total(
              'Changes merged',
              formatCount(metrics.totals.changesMerged),
              'metric-changes-merged',
            ),
            total('Rows refused', formatCount(metrics.totals.rowsRefused), 'metric-rows-refused'),
          ),
          h('p', { class: 'muted' }, 'Totals since the database was created; charts per minute.'),
          problems,
          chart({
            title: 'Traffic (bytes per minute)',
            times,
            series: [
              {
                label: 'Up (from devices)',
                values: metrics.series.map((p) => p.bytesUp),
                className: 'series-up',
              },
              {
                label: 'Down (to devices)',
                values: metrics.series.map((p) => p.bytesDown),
                className: 'series-down',
              },
            ],
            kind: 'line',
            format: formatBytes,
            testid: 'chart-traffic',
          }),
          chart({
            title: 'Changes merged per minute',
            times,
            series: [
              {
                label: 'Changes merged',
                values: metrics.series.map((p) => p.changesMerged),
                className: 'series-merged',
              },
              {
                label: 'Rows refused',
                values: metrics.series.map((p) => p.rowsRefused),
                className: 'series-refused',
              },
            ],
            kind: 'bar',
            format: formatCount,
            testid: 'chart-merged',
            integer: true,
          }),
        ];
      },
      { refresh },
    );
  range.addEventListener('change', () => void load(false));
  void load(false);
  view.every(METRICS_REFRESH_MS, () => load(true));
  return h(
    'div',
    { testid: 'metrics-tab' },
    h('div', { class: 'toolbar' }, h('label', { for: 'metrics-range' }, 'Range '), range),
    body,
  );
}

function total(label: string, value: string, testid: string): HTMLElement {
  return h('div', { class: 'total' }, h('dt', {}, label), h('dd', { testid }, value));
}

/** How many of the latest refusals the Metrics tab shows (the Refusals tab has the rest). */
const LATEST_REFUSALS = 5;

/**
 * Refusals by kind and errors by code since the server started (from `/metrics`), and the latest
 * refusals. A failure of either source shows in place; the traffic above still renders.
 */
async function problemsSection(view: View, database: string): Promise<HTMLElement> {
  const [text, latest] = await Promise.allSettled([
    view.api.metrics(),
    view.api.get<RefusalInfo[]>(['databases', database, 'refusals'], {
      limit: String(LATEST_REFUSALS),
    }),
  ]);
  const counts =
    text.status === 'fulfilled'
      ? (() => {
          const samples = parsePrometheusText(text.value);
          const where = { database };
          return h(
            'div',
            { class: 'problem-counts' },
            counted(
              'Refusals by kind',
              byLabel(samples, 'offsync_refusals_total', 'kind', where),
              'metrics-refusals',
              'No refusals since the server started.',
            ),
            counted(
              'Errors by code',
              byLabel(samples, 'offsync_errors_total', 'code', where),
              'metrics-errors',
              'No errors since the server started.',
            ),
          );
        })()
      : h('p', { class: 'error', testid: 'metrics-problems-error' }, 'Server metrics unavailable.');
  const recent =
    latest.status === 'fulfilled'
      ? latest.value.length === 0
        ? h('p', { class: 'muted', testid: 'metrics-latest-empty' }, 'Nothing refused yet.')
        : refusalsTable(latest.value, view.now(), 'metrics-latest-refusals')
      : h('p', { class: 'error' }, 'The refusal log is unavailable.');
  return h(
    'section',
    { class: 'problems', testid: 'metrics-problems', 'aria-labelledby': 'problems-title' },
    h('h2', { id: 'problems-title' }, 'Refusals and errors'),
    h('p', { class: 'muted' }, 'Counted since the server started, from /metrics.'),
    counts,
    h(
      'h3',
      {},
      'Latest refusals ',
      h(
        'a',
        {
          href: routeHash({ page: 'database', database, tab: 'refusals' }),
          testid: 'metrics-all-refusals',
        },
        'see all',
      ),
    ),
    recent,
  );
}

function counted(
  title: string,
  rows: readonly (readonly [string, number])[],
  testid: string,
  empty: string,
): HTMLElement {
  return h(
    'div',
    { class: 'counted', testid },
    h('h3', {}, title),
    rows.length === 0
      ? h('p', { class: 'muted', testid: `${testid}-empty` }, empty)
      : h(
          'dl',
          { class: 'totals' },
          ...rows.map(([label, count]) => total(label, formatCount(count), `${testid}-${label}`)),
        ),
  );
}
