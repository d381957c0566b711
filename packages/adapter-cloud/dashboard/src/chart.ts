import { h, svg } from './dom.js';
import { formatClock } from './format.js';

/** One line (or bar set) of a chart. */
export interface ChartSeries {
  /** Legend text. */
  readonly label: string;
  /** One value per time. */
  readonly values: readonly number[];
  /** CSS class giving its colour (`series-up`, `series-down`, `series-merged`). */
  readonly className: string;
}

/** Options of {@link chart}. */
export interface ChartOptions {
  /** Accessible title, also the caption. */
  readonly title: string;
  /** The times of the points (ms since the epoch), oldest first. */
  readonly times: readonly number[];
  /** The series, each with one value per time. */
  readonly series: readonly ChartSeries[];
  /** Lines (traffic) or bars (counts). */
  readonly kind: 'line' | 'bar';
  /** How to print an axis value. */
  readonly format: (value: number) => string;
  /** `data-testid` of the figure. */
  readonly testid: string;
  /** Whole counts: no gridline at a fractional value. */
  readonly integer?: boolean;
}

// Close to the chart's usual on-screen width, so 11px axis labels stay about 11px.
const WIDTH = 1000;
const HEIGHT = 170;
const LEFT = 64;
const RIGHT = 12;
const TOP = 10;
const BOTTOM = 24;

/**
 * The smallest 1, 2 or 5 times a power of ten at or above `value` (axis maxima read well).
 *
 * @example
 * ```ts
 * niceCeil(730); // 1000
 * ```
 */
export function niceCeil(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * A small SVG chart over time with a legend: no charting library, a few dozen elements.
 *
 * @example
 * ```ts
 * chart({ title: 'Traffic', times, series, kind: 'line', format: formatBytes, testid: 'traffic' });
 * ```
 */
export function chart(options: ChartOptions): HTMLElement {
  const { times, series } = options;
  const count = times.length;
  const max = niceCeil(Math.max(0, ...series.flatMap((line) => line.values)));
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const y = (value: number): number => TOP + plotHeight - (value / max) * plotHeight;
  const slot = plotWidth / Math.max(1, count);
  const x = (index: number): number =>
    options.kind === 'bar' || count < 2
      ? LEFT + slot * (index + 0.5)
      : LEFT + (index * plotWidth) / (count - 1);
  const titleId = `${options.testid}-title`;

  const levels = options.integer && max % 2 === 1 ? [0, max] : [0, max / 2, max];
  const grid = levels.map((value) => [
    svg('line', { x1: LEFT, x2: WIDTH - RIGHT, y1: y(value), y2: y(value), class: 'grid' }),
    svg(
      'text',
      { x: LEFT - 6, y: y(value) + 4, 'text-anchor': 'end', class: 'axis' },
      options.format(value),
    ),
  ]);
  const labelAt = [0, Math.floor((count - 1) / 2), count - 1].filter(
    (index, position, all) => index >= 0 && all.indexOf(index) === position,
  );
  const timeLabels = labelAt.map((index) =>
    svg(
      'text',
      {
        x: x(index),
        y: HEIGHT - 6,
        'text-anchor': index === 0 ? 'start' : index === count - 1 ? 'end' : 'middle',
        class: 'axis',
      },
      formatClock(times[index]!),
    ),
  );

  const marks = series.flatMap((line, seriesIndex): (SVGElement | undefined)[] => {
    if (options.kind === 'bar') {
      const width = Math.max(1, (slot * 0.8) / series.length);
      return line.values.map((value, index) =>
        value === 0
          ? undefined
          : svg('rect', {
              x: x(index) - slot * 0.4 + seriesIndex * width,
              y: y(value),
              width,
              height: TOP + plotHeight - y(value),
              class: line.className,
            }),
      );
    }
    const points = line.values.map((value, index) => `${x(index)},${y(value)}`).join(' ');
    // A lone busy minute in an idle hour is a spike one pixel wide; the dots make it findable.
    const dots = line.values.map((value, index) =>
      value === 0
        ? undefined
        : svg('circle', { cx: x(index), cy: y(value), r: 2.5, class: line.className }),
    );
    return [svg('polyline', { points, class: `${line.className} line`, fill: 'none' }), ...dots];
  });

  const figure = svg(
    'svg',
    {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: 'img',
      'aria-labelledby': titleId,
      class: 'chart',
      testid: `${options.testid}-svg`,
    },
    svg('title', { id: titleId }, `${options.title}, axis up to ${options.format(max)}`),
    ...grid.flat(),
    ...timeLabels,
    ...marks,
  );
  return h(
    'figure',
    { class: 'chart-figure', testid: options.testid },
    h('figcaption', {}, options.title),
    figure,
    h(
      'ul',
      { class: 'legend' },
      ...series.map((line) =>
        h(
          'li',
          {},
          h('span', { class: `swatch ${line.className}`, 'aria-hidden': 'true' }),
          line.label,
        ),
      ),
    ),
  );
}
