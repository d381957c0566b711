import { OffsyncError } from '@offsync/core';

/**
 * The admin API answered with an error.
 *
 * @example
 * ```ts
 * if (error instanceof AdminApiError) console.error(error.status, error.message);
 * ```
 */
export class AdminApiError extends OffsyncError {
  readonly type = 'AdminApiError';
  /** HTTP status. */
  readonly status: number;
  /** The server's error data. */
  readonly data: Readonly<Record<string, unknown>>;

  constructor(status: number, data: Record<string, unknown>) {
    super(typeof data.message === 'string' ? data.message : `admin API answered ${status}`);
    this.status = status;
    this.data = data;
  }
}

/**
 * A small client of the server's admin API (what the CLI and the demo use).
 *
 * @example
 * ```ts
 * const admin = new AdminClient('http://127.0.0.1:8787', adminKey);
 * await admin.request('GET', '/databases');
 * ```
 */
export class AdminClient {
  constructor(
    readonly url: string,
    readonly key: string,
  ) {}

  /** Sends a request to `/v1/admin<path>` and returns the JSON body; throws {@link AdminApiError}. */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url.replace(/\/$/, '')}/v1/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${this.key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as { error?: Record<string, unknown> };
    if (!response.ok) throw new AdminApiError(response.status, json.error ?? {});
    return json as T;
  }
}
