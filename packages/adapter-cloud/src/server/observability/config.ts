import { isLogLevel, LOG_LEVELS, type LogLevel } from './logger.js';

/**
 * The `log` and `metrics` sections of `server.json`.
 *
 * @example
 * ```ts
 * const settings: ObservabilityConfig = { log: { level: 'debug' }, metrics: { public: true } };
 * ```
 */
export interface ObservabilityConfig {
  /** Structured logs. */
  readonly log?: {
    /** Lowest level written (default `info`); `--log-level` overrides it. */
    readonly level?: LogLevel;
  };
  /** The Prometheus endpoint `GET /metrics`. */
  readonly metrics?: {
    /**
     * Serve `/metrics` without the admin key (default false), for a scraper on a private
     * network. Its numbers name databases and error codes, never rows or users.
     */
    readonly public?: boolean;
  };
}

/**
 * Reads the `log` and `metrics` sections of a parsed `server.json`, or returns what is wrong
 * with them (the caller wraps it in its `ServerConfigError`).
 *
 * @example
 * ```ts
 * const result = parseObservabilityConfig(JSON.parse(text));
 * if (typeof result === 'string') throw new ServerConfigError(path, result);
 * ```
 */
export function parseObservabilityConfig(parsed: unknown): ObservabilityConfig | string {
  const { log, metrics } = (parsed ?? {}) as { log?: unknown; metrics?: unknown };
  const result: { log?: { level?: LogLevel }; metrics?: { public?: boolean } } = {};
  if (log !== undefined) {
    if (!isPlainObject(log)) return '"log" must be an object';
    for (const [key, value] of Object.entries(log)) {
      if (key !== 'level') return `unknown log setting ${JSON.stringify(key)}`;
      if (!isLogLevel(value)) return `log.level must be one of ${LOG_LEVELS.join(', ')}`;
    }
    result.log = log as { level?: LogLevel };
  }
  if (metrics !== undefined) {
    if (!isPlainObject(metrics)) return '"metrics" must be an object';
    for (const [key, value] of Object.entries(metrics)) {
      if (key !== 'public') return `unknown metrics setting ${JSON.stringify(key)}`;
      if (typeof value !== 'boolean') return 'metrics.public must be true or false';
    }
    result.metrics = metrics as { public?: boolean };
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
