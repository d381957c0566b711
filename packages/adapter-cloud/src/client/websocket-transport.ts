import {
  type ClientMessage,
  type ServerMessage,
  type Transport,
  TransportError,
  type TransportEvent,
} from '@offsync/core';
import { decodeServerMessage, encodeMessage } from '@offsync/core/codec';

/**
 * The part of the WebSocket API the transport uses: the browser's `WebSocket` and Node's `ws`
 * both provide it.
 *
 * @example
 * ```ts
 * import { WebSocket } from 'ws';
 * const Socket: WebSocketConstructor = WebSocket;
 * ```
 */
export interface WebSocketConstructor {
  new (url: string): WebSocketLike;
}

/**
 * A WebSocket as the transport uses it.
 *
 * @example
 * ```ts
 * const socket: WebSocketLike = new WebSocket(url);
 * ```
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** `'arraybuffer'` so binary frames arrive as ArrayBuffer. */
  binaryType: string;
  /** Sends a frame. */
  send(data: Uint8Array): void;
  /** Closes. */
  close(code?: number, reason?: string): void;
  /** Listens. */
  addEventListener(
    type: 'open' | 'close' | 'error' | 'message',
    listener: (event: { data?: unknown; reason?: string; code?: number }) => void,
  ): void;
}

/** Options of {@link WebSocketTransport}. */
export interface WebSocketTransportOptions {
  /** Server base URL, `http://…` or `ws://…`. */
  readonly url: string;
  /** Database name. */
  readonly database: string;
  /** The WebSocket implementation (default: the global `WebSocket`). */
  readonly WebSocket?: WebSocketConstructor;
  /** Per-request timeout (ms, default 30,000). */
  readonly timeoutMs?: number;
}

interface Pending {
  readonly resolve: (message: ServerMessage) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * Sync over one WebSocket to `/v1/databases/:db/ws`: requests and responses are multiplexed by
 * id, and the server pushes `notify` when another client changed the database. The socket opens
 * on the first request and again on the first request after it dropped.
 *
 * @example
 * ```ts
 * const transport = new WebSocketTransport({ url: 'http://127.0.0.1:8787', database: 'todos', WebSocket });
 * ```
 */
export class WebSocketTransport implements Transport {
  readonly #url: string;
  readonly #Socket: WebSocketConstructor;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(event: TransportEvent) => void>();
  #socket: WebSocketLike | undefined;
  #opening: Promise<WebSocketLike> | undefined;
  #abortOpening: ((error: TransportError) => void) | undefined;
  #closed = false;
  /** Counts close() calls: a socket opened before the latest one belongs to a closed past. */
  #generation = 0;

  constructor(options: WebSocketTransportOptions) {
    const base = options.url.replace(/\/$/, '').replace(/^http/, 'ws');
    this.#url = `${base}/v1/databases/${encodeURIComponent(options.database)}/ws`;
    const Socket =
      options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Socket)
      throw new TransportError(
        'no WebSocket implementation: pass one (in Node 20, the ws package)',
      );
    this.#Socket = Socket;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async request(message: ClientMessage): Promise<ServerMessage> {
    const socket = await this.#open();
    // close() may have run while this request waited for the socket.
    if (this.#closed) throw new TransportError('transport closed');
    return new Promise<ServerMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(message.id);
        reject(new TransportError(`no response within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(message.id, { resolve, reject, timer });
      try {
        socket.send(encodeMessage(message));
      } catch (error) {
        clearTimeout(timer);
        this.#pending.delete(message.id);
        reject(new TransportError(error instanceof Error ? error.message : String(error)));
      }
    });
  }

  subscribe(listener: (event: TransportEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#closed = true;
    this.#generation++;
    this.#socket?.close(1000, 'client closed');
    this.#socket = undefined;
    this.#opening = undefined;
    // A socket still connecting is closed when it opens; requests waiting for it fail now.
    this.#abortOpening?.(new TransportError('transport closed'));
    this.#drop('transport closed');
  }

  reopen(): void {
    // The old socket and its requests were settled by close(); the next request opens a new one.
    this.#closed = false;
  }

  #open(): Promise<WebSocketLike> {
    if (this.#closed) return Promise.reject(new TransportError('transport closed'));
    if (this.#socket && this.#socket.readyState === 1) return Promise.resolve(this.#socket);
    const generation = this.#generation;
    this.#opening ??= new Promise<WebSocketLike>((resolve, reject) => {
      let socket: WebSocketLike;
      try {
        socket = new this.#Socket(this.#url);
      } catch (error) {
        this.#opening = undefined;
        reject(new TransportError(error instanceof Error ? error.message : String(error)));
        return;
      }
      socket.binaryType = 'arraybuffer';
      let opened = false;
      this.#abortOpening = reject;
      socket.addEventListener('open', () => {
        opened = true;
        if (generation !== this.#generation) {
          // Closed (and perhaps reopened) while connecting: this socket is not ours any more.
          socket.close(1000, 'client closed');
          reject(new TransportError('transport closed'));
          return;
        }
        this.#opening = undefined;
        this.#abortOpening = undefined;
        if (this.#closed) {
          socket.close(1000, 'client closed');
          reject(new TransportError('transport closed'));
          return;
        }
        this.#socket = socket;
        resolve(socket);
      });
      socket.addEventListener('message', (event) => this.#receive(event.data));
      const closed = (reason: string): void => {
        if (generation !== this.#generation) return;
        if (this.#socket === socket) this.#socket = undefined;
        if (!opened) {
          this.#opening = undefined;
          this.#abortOpening = undefined;
          reject(new TransportError(reason));
          return;
        }
        this.#drop(reason);
      };
      socket.addEventListener('close', (event) => {
        if (event.code === 1009 && opened && generation === this.#generation) {
          // The server is up and refused a frame over its message limit: answer like HTTP's 413
          // so the client sees a refusal it can act on, not `offline` and endless retries.
          if (this.#socket === socket) this.#socket = undefined;
          this.#refuseTooLarge(event.reason);
          return;
        }
        closed(
          `connection closed${event.code ? ` (${event.code}${event.reason ? `: ${event.reason}` : ''})` : ''}`,
        );
      });
      socket.addEventListener('error', () => closed('connection failed'));
    });
    return this.#opening;
  }

  #receive(data: unknown): void {
    let message: ServerMessage;
    try {
      const bytes =
        data instanceof ArrayBuffer
          ? new Uint8Array(data)
          : data instanceof Uint8Array
            ? data
            : new Uint8Array(0);
      message = decodeServerMessage(bytes);
    } catch {
      this.#socket?.close(1002, 'malformed frame');
      return;
    }
    if (message.type === 'notify') {
      for (const listener of this.#listeners)
        listener({ type: 'notify', serverVersion: message.serverVersion });
      return;
    }
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    clearTimeout(pending.timer);
    pending.resolve(message);
  }

  #refuseTooLarge(reason: string | undefined): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.resolve({
        type: 'error',
        id,
        code: 'too-large',
        status: 413,
        message: `the server closed the connection (1009): a frame exceeded its message limit${reason ? ` (${reason})` : ''}`,
      });
    }
  }

  #drop(reason: string): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new TransportError(reason));
      this.#pending.delete(id);
    }
    if (!this.#closed)
      for (const listener of this.#listeners) listener({ type: 'disconnected', reason });
  }
}
