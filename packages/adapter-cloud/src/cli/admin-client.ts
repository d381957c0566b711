import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { OffsyncError } from '@offsync/core';

/**
 * The admin API answered with an error.
 *
 * @example
 * ```ts
 * if (error instanceof AdminApiError) console.error(error.status, error.code, error.message);
 * ```
 */
export class AdminApiError extends OffsyncError {
  readonly type = 'AdminApiError';
  /** HTTP status. */
  readonly status: number;
  /** The server's error code (`not-found`, `invalid-schema`, ...). */
  readonly code: string;
  /** The server's error data. */
  readonly data: Readonly<Record<string, unknown>>;

  constructor(status: number, data: Record<string, unknown>) {
    super(typeof data.message === 'string' ? data.message : `admin API answered ${status}`);
    this.status = status;
    this.code = typeof data.code === 'string' ? data.code : `http-${status}`;
    this.data = data;
  }
}

/**
 * The server could not be reached at all (refused, unknown host, reset), or what answered is not
 * an OffSync server.
 *
 * @example
 * ```ts
 * if (error instanceof ServerUnreachableError) console.error(`start it: ${error.url}`);
 * ```
 */
export class ServerUnreachableError extends OffsyncError {
  readonly type = 'ServerUnreachableError';
  /** The URL tried. */
  readonly url: string;
  /** What failed (`ECONNREFUSED`, ...). */
  readonly reason: string;

  constructor(url: string, reason: string) {
    super(
      `cannot reach the server at ${url} (${reason}): is offsync serve running? (--url/OFFSYNC_URL)`,
    );
    this.url = url;
    this.reason = reason;
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

  /**
   * Sends a request to `/v1/admin<path>` and returns the JSON body; throws
   * {@link AdminApiError} or {@link ServerUnreachableError}.
   *
   * @example
   * ```ts
   * const keys = await admin.request<{ id: string }[]>('GET', '/keys');
   * ```
   */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.#fetch(method, path, body);
    let json: { error?: Record<string, unknown> };
    try {
      json = (await response.json()) as { error?: Record<string, unknown> };
    } catch {
      throw new ServerUnreachableError(this.url, `HTTP ${response.status} without a JSON body`);
    }
    if (!response.ok) throw new AdminApiError(response.status, json.error ?? {});
    return json as T;
  }

  /**
   * Sends a GET to `/v1/admin<path>` and streams the answer's body into `file`.
   *
   * @example
   * ```ts
   * await admin.download('/databases/todos/backup', 'todos.db');
   * ```
   */
  async download(path: string, file: string): Promise<void> {
    const response = await this.#fetch('GET', path, undefined);
    if (!response.ok) {
      const json = (await response.json().catch(() => ({}))) as { error?: Record<string, unknown> };
      throw new AdminApiError(response.status, json.error ?? {});
    }
    if (!response.body) throw new ServerUnreachableError(this.url, 'the answer has no body');
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      createWriteStream(file, { mode: 0o600 }),
    );
  }

  async #fetch(method: string, path: string, body: unknown): Promise<Response> {
    try {
      return await fetch(`${this.url.replace(/\/$/, '')}/v1/admin${path}`, {
        method,
        headers: { authorization: `Bearer ${this.key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new ServerUnreachableError(this.url, networkReason(error));
    }
  }
}

function networkReason(error: unknown): string {
  // undici wraps the socket's error: `fetch failed` with the errno in `cause`.
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (error instanceof Error && error.cause instanceof Error) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}
