import {
  type ClientMessage,
  type ServerMessage,
  type Transport,
  TransportError,
  type TransportEvent,
} from '@offsync/core';
import { decodeServerMessage, encodeMessage } from '@offsync/core/codec';

/** Options of {@link HttpTransport}. */
export interface HttpTransportOptions {
  /** Server base URL, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  /** Database name. */
  readonly database: string;
  /** `fetch` to use (default: the global one). */
  readonly fetch?: typeof fetch;
  /** Per-request timeout (ms, default 30,000). */
  readonly timeoutMs?: number;
}

/**
 * Sync over plain HTTP: each request is a POST of one framed message to
 * `/v1/databases/:db/sync`, answered by one framed message. Works where WebSockets do not; the
 * server cannot push notifications, so the client relies on polling and its own commits. The
 * token of the last `hello` is sent as `Authorization: Bearer` with every request.
 *
 * @example
 * ```ts
 * const transport = new HttpTransport({ url: 'http://127.0.0.1:8787', database: 'todos' });
 * ```
 */
export class HttpTransport implements Transport {
  readonly #endpoint: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #controllers = new Set<AbortController>();
  #token: string | undefined;
  #closed = false;

  constructor(options: HttpTransportOptions) {
    this.#endpoint = `${options.url.replace(/\/$/, '')}/v1/databases/${encodeURIComponent(options.database)}/sync`;
    this.#fetch = options.fetch ?? ((...args) => globalThis.fetch(...args));
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async request(message: ClientMessage): Promise<ServerMessage> {
    if (this.#closed) throw new TransportError('transport closed');
    if (message.type === 'hello' && message.token !== undefined) this.#token = message.token;
    const controller = new AbortController();
    this.#controllers.add(controller);
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    try {
      const response = await this.#fetch(this.#endpoint, {
        method: 'POST',
        body: encodeMessage(message) as BodyInit,
        headers: {
          'content-type': 'application/octet-stream',
          ...(this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` }),
        },
        signal: controller.signal,
      });
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (response.headers.get('content-type')?.startsWith('application/json')) {
        const body = JSON.parse(new TextDecoder().decode(bytes)) as {
          error?: { code?: string; message?: string };
        };
        return {
          type: 'error',
          id: message.id,
          code: body.error?.code ?? 'http',
          status: response.status,
          message: body.error?.message ?? response.statusText,
        };
      }
      if (!response.headers.get('content-type')?.startsWith('application/octet-stream')) {
        // Not the sync server answering (a proxy's error page, a captive portal): unreachable.
        throw new TransportError(
          `HTTP ${response.status} from something that is not the sync server`,
        );
      }
      return decodeServerMessage(bytes);
    } catch (error) {
      if (error instanceof TransportError) throw error;
      if (error instanceof Error && error.name === 'ProtocolError') throw error;
      throw new TransportError(
        this.#closed
          ? 'transport closed'
          : controller.signal.aborted
            ? `no response within ${this.#timeoutMs} ms`
            : error instanceof Error
              ? error.message
              : String(error),
      );
    } finally {
      clearTimeout(timer);
      this.#controllers.delete(controller);
    }
  }

  subscribe(_listener: (event: TransportEvent) => void): () => void {
    // HTTP carries no notifications.
    return () => undefined;
  }

  close(): void {
    this.#closed = true;
    for (const controller of this.#controllers) controller.abort();
  }

  reopen(): void {
    // Each request is its own connection: nothing to reopen but the gate.
    this.#closed = false;
  }
}
