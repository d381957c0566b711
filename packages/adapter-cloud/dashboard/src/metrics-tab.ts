import type { Metrics } from './api-types.js';
import { chart } from './chart.js';
import { h } from './dom.js';
import { formatBytes, formatCount } from './format.js';
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
        const metrics = await view.api.get<Metrics>(['databases', database, 'metrics'], {
          minutes: range.value,
        });
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
