/**
 * A refusal from the admin API, with the server's error data (`{ error: { type, code, message,
 * ...facts } }`), or `status: 0` when the server could not be reached.
 *
 * @example
 * ```ts
 * if (error instanceof AdminApiError && error.status === 401) showSignIn(error.message);
 * ```
 */
export class AdminApiError extends Error {
  readonly type = 'AdminApiError';
  /** HTTP status, 0 when there was no answer. */
  readonly status: number;
  /** The server's error code (`no-primary-key`, `invalid-policy`, `unauthorized`, ...). */
  readonly code: string;
  /** Every fact the server sent (e.g. a SchemaError's `table`, `column`, `fix`). */
  readonly data: Readonly<Record<string, unknown>>;

  constructor(status: number, code: string, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = 'AdminApiError';
    this.status = status;
    this.code = code;
    this.data = data;
  }
}

/**
 * The admin API, signed in with one admin key.
 *
 * @example
 * ```ts
 * const tables = await api.get<TableStatus[]>(['databases', 'app', 'tables']);
 * ```
 */
export interface AdminApi {
  /** `GET /v1/admin/<path>`; path segments are URL-encoded here. */
  get<T>(path: readonly string[], query?: Readonly<Record<string, string>>): Promise<T>;
  /** `PUT /v1/admin/<path>` with a JSON body. */
  put<T>(path: readonly string[], body: unknown): Promise<T>;
  /** `POST /v1/admin/<path>` with a JSON body. */
  post<T>(path: readonly string[], body: unknown): Promise<T>;
  /** `DELETE /v1/admin/<path>`. */
  delete<T>(path: readonly string[]): Promise<T>;
  /** `GET /metrics` (outside `/v1/admin`, same key): the Prometheus text. */
  metrics(): Promise<string>;
}

/** Options of {@link adminApi}. */
export interface AdminApiOptions {
  /** The admin API key, sent as `Authorization: Bearer`. */
  readonly key: string;
  /** Aborts every request (the view that made them went away). */
  readonly signal?: AbortSignal;
  /** Called on a 401 before the error is thrown (the key was revoked: sign in again). */
  readonly onUnauthorized?: (error: AdminApiError) => void;
  /** `fetch` (tests). */
  readonly fetch?: typeof fetch;
}

/**
 * An {@link AdminApi} over `fetch`, same origin as the page.
 *
 * @example
 * ```ts
 * const api = adminApi({ key, signal: view.signal, onUnauthorized: signOut });
 * ```
 */
export function adminApi(options: AdminApiOptions): AdminApi {
  const send = async <T>(
    method: string,
    path: readonly string[],
    query: Readonly<Record<string, string>> | undefined,
    body: unknown,
    asText = false,
  ): Promise<T> => {
    const search = query ? `?${new URLSearchParams(query)}` : '';
    const url = asText
      ? '/metrics'
      : `/v1/admin/${path.map(encodeURIComponent).join('/')}${search}`;
    let response: Response;
    try {
      response = await (options.fetch ?? fetch)(url, {
        method,
        headers: {
          authorization: `Bearer ${options.key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(options.signal ? { signal: options.signal } : {}),
        cache: 'no-store',
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new AdminApiError(0, 'unreachable', 'cannot reach the OffSync server');
    }
    if (asText && response.ok) return (await response.text()) as T;
    const json: unknown = await response.json().catch(() => undefined);
    if (response.ok) return json as T;
    const error = refusal(response.status, json);
    if (response.status === 401) options.onUnauthorized?.(error);
    throw error;
  };
  return {
    get: (path, query) => send('GET', path, query, undefined),
    put: (path, body) => send('PUT', path, undefined, body),
    post: (path, body) => send('POST', path, undefined, body),
    delete: (path) => send('DELETE', path, undefined, undefined),
    metrics: () => send<string>('GET', [], undefined, undefined, true),
  };
}

function refusal(status: number, json: unknown): AdminApiError {
  const data =
    typeof json === 'object' && json !== null && 'error' in json
      ? (json as { error: unknown }).error
      : undefined;
  if (typeof data !== 'object' || data === null)
    return new AdminApiError(status, 'http', `the server answered ${status}`);
  const facts = data as Record<string, unknown>;
  const message =
    typeof facts.message === 'string' ? facts.message : `the server answered ${status}`;
  const code = typeof facts.code === 'string' ? facts.code : 'http';
  return new AdminApiError(status, code, message, facts);
}

/**
 * The message to show for a failure: the server's own words for a refusal.
 *
 * @example
 * ```ts
 * status.textContent = errorText(error);
 * ```
 */
export function errorText(error: unknown): string {
  if (error instanceof AdminApiError)
    return error.status === 0 ? error.message : `${error.message} (${error.status})`;
  return error instanceof Error ? error.message : String(error);
}
