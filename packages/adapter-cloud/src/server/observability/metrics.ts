import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConnectionStats } from '../connection-flow.js';

/**
 * What the metrics read at scrape time from the running server.
 *
 * @example
 * ```ts
 * const sources: MetricsSources = { connections: () => server.connections() };
 * ```
 */
export interface MetricsSources {
  /** The open WebSocket connections' flow counters. */
  readonly connections: () => readonly ConnectionStats[];
}

/**
 * The HTTP routes a request is counted under: a fixed set, so a caller inventing paths cannot
 * grow the number of series.
 *
 * @example
 * ```ts
 * metrics.httpRequest('sync', 200);
 * ```
 */
export type HttpRoute =
  | 'sync'
  | 'admin'
  | 'metrics'
  | 'dashboard'
  | 'health'
  | 'websocket'
  | 'other';

/**
 * The server's Prometheus metrics, in a registry of their own (never prom-client's global one:
 * two servers in one process, as in tests, would otherwise share and double-register them).
 * Labels carry only bounded values: names of databases the server holds (the caller passes `''`
 * for any other), route classes, error codes and refusal kinds the server itself produces.
 *
 * @example
 * ```ts
 * const metrics = new ServerMetrics({ connections: () => server.connections() });
 * metrics.push('app', 'accepted', 0.004);
 * response.end(await metrics.text());
 * ```
 */
export class ServerMetrics {
  /** The registry holding every metric below. */
  readonly registry = new Registry();
  readonly #pushes: Counter<'database' | 'outcome'>;
  readonly #pulls: Counter<'database'>;
  readonly #refusals: Counter<'database' | 'kind'>;
  readonly #errors: Counter<'database' | 'code'>;
  readonly #bytesIn: Counter<'database'>;
  readonly #bytesOut: Counter<'database'>;
  readonly #merge: Histogram<'database'>;
  readonly #http: Counter<'route' | 'status'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    new Gauge({
      name: 'offsync_connections',
      help: 'Open WebSocket sync connections.',
      registers,
      collect() {
        this.set(sources.connections().length);
      },
    });
    new Gauge({
      name: 'offsync_connection_queued_requests',
      help: 'Requests received on WebSocket connections and not answered yet, summed over connections.',
      registers,
      collect() {
        this.set(sources.connections().reduce((sum, each) => sum + each.queued, 0));
      },
    });
    new Gauge({
      name: 'offsync_connection_buffered_bytes',
      help: 'Reply bytes handed to WebSocket connections and not yet written, summed over connections.',
      registers,
      collect() {
        this.set(sources.connections().reduce((sum, each) => sum + each.bufferedBytes, 0));
      },
    });
    new Gauge({
      name: 'offsync_connections_paused',
      help: 'WebSocket connections the server has stopped reading (back-pressure).',
      registers,
      collect() {
        this.set(sources.connections().filter((each) => each.paused).length);
      },
    });
    this.#pushes = new Counter({
      name: 'offsync_pushes_total',
      help: 'Push requests by outcome: accepted, refused (rows refused, nothing applied), staged (a page of a multi-page unit), error.',
      labelNames: ['database', 'outcome'],
      registers,
    });
    this.#pulls = new Counter({
      name: 'offsync_pulls_total',
      help: 'Pull pages served.',
      labelNames: ['database'],
      registers,
    });
    this.#refusals = new Counter({
      name: 'offsync_refusals_total',
      help: 'Refusals by kind: row (a pushed row refused), schema-mismatch / not-enabled (a table refused at hello), or the error code of a refused request.',
      labelNames: ['database', 'kind'],
      registers,
    });
    this.#errors = new Counter({
      name: 'offsync_errors_total',
      help: 'Sync requests answered with an error, by code (4xx refusals and 5xx internal errors).',
      labelNames: ['database', 'code'],
      registers,
    });
    this.#bytesIn = new Counter({
      name: 'offsync_bytes_received_total',
      help: 'Changeset bytes received from devices (pushes).',
      labelNames: ['database'],
      registers,
    });
    this.#bytesOut = new Counter({
      name: 'offsync_bytes_sent_total',
      help: 'Changeset bytes sent to devices (pulls).',
      labelNames: ['database'],
      registers,
    });
    this.#merge = new Histogram({
      name: 'offsync_merge_duration_seconds',
      help: 'Time to check and merge one push into the central database.',
      labelNames: ['database'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#http = new Counter({
      name: 'offsync_http_requests_total',
      help: 'HTTP requests by route class and status.',
      labelNames: ['route', 'status'],
      registers,
    });
  }

  /** Counts a push; `seconds` (its merge time) only for pushes that reached the merge. */
  push(
    database: string,
    outcome: 'accepted' | 'refused' | 'staged' | 'error',
    seconds?: number,
  ): void {
    this.#pushes.inc({ database, outcome });
    if (seconds !== undefined) this.#merge.observe({ database }, seconds);
  }

  /** Counts a pull page. */
  pull(database: string): void {
    this.#pulls.inc({ database });
  }

  /** Counts `count` refusals of one kind. */
  refusal(database: string, kind: string, count = 1): void {
    this.#refusals.inc({ database, kind }, count);
  }

  /** Counts an error answer. */
  error(database: string, code: string): void {
    this.#errors.inc({ database, code });
  }

  /** Counts changeset bytes moved. */
  bytes(database: string, direction: 'in' | 'out', count: number): void {
    if (count > 0) (direction === 'in' ? this.#bytesIn : this.#bytesOut).inc({ database }, count);
  }

  /** Counts an HTTP request. */
  httpRequest(route: HttpRoute, status: number): void {
    this.#http.inc({ route, status: String(status) });
  }

  /** The `Content-Type` of {@link ServerMetrics.text}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
