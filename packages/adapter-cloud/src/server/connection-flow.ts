import type { ServerMessage } from '@offsync/core';
import { encodeMessage } from '@offsync/core/codec';
import type { WebSocket } from 'ws';
import type { ServerLimits } from './limits.js';

/**
 * WebSocket close codes the server uses to end a connection that broke a limit.
 *
 * @example
 * ```ts
 * if (event.code === CLOSE_CODES.timeout) reconnectLater();
 * ```
 */
export const CLOSE_CODES = {
  /** More than `maxQueuedRequests` requests were waiting (the standard policy-violation code). */
  queueFull: 1008,
  /** An unexpected failure on the server (the standard internal-error code). */
  internal: 1011,
  /** No `hello` within `helloTimeoutMs`, or no complete frame within `idleTimeoutMs`. */
  timeout: 4408,
} as const;

/**
 * What {@link ConnectionFlow} reports about one connection, for the server's status.
 *
 * @example
 * ```ts
 * const stats: ConnectionStats = { queued: 0, bufferedBytes: 0, paused: false, answered: 3 };
 * ```
 */
export interface ConnectionStats {
  /** Requests received and not answered yet (the one in progress included). */
  readonly queued: number;
  /** Reply bytes handed to the socket and not yet written to the network. */
  readonly bufferedBytes: number;
  /** Whether the server has stopped reading this socket. */
  readonly paused: boolean;
  /** Requests answered so far. */
  readonly answered: number;
}

/** Waiting a close handshake out would let a peer that never answers hold the socket 30 s. */
const CLOSE_GRACE_MS = 1_000;

/**
 * The flow of one WebSocket connection: its requests are answered one at a time in arrival
 * order; reading stops while a request waits behind the one in progress or while the replies
 * not yet written exceed `maxBufferedBytes` (so a client that does not read makes the server
 * stop answering it, not buffer without bound); past `maxQueuedRequests` waiting requests, a
 * `hello` not completed within `helloTimeoutMs` or `idleTimeoutMs` without a complete frame,
 * the socket is closed.
 *
 * @example
 * ```ts
 * const flow = new ConnectionFlow(ws, limits, async (bytes) => flow.send(await answer(bytes)), log);
 * ws.on('message', (data) => flow.receive(toUint8Array(data)));
 * ```
 */
export class ConnectionFlow {
  readonly #ws: WebSocket;
  readonly #limits: ServerLimits;
  readonly #handle: (bytes: Uint8Array) => Promise<void>;
  readonly #log: (line: string) => void;
  readonly #queue: Uint8Array[] = [];
  #running = false;
  #handling = false;
  #unflushed = 0;
  #answered = 0;
  #flushed: (() => void) | undefined;
  #notifyPending: Uint8Array | undefined;
  #helloTimer: NodeJS.Timeout | undefined;
  readonly #idleTimer: NodeJS.Timeout;
  readonly #pingTimer: NodeJS.Timeout;
  #ended = false;

  constructor(
    ws: WebSocket,
    limits: ServerLimits,
    handle: (bytes: Uint8Array) => Promise<void>,
    log: (line: string) => void,
  ) {
    this.#ws = ws;
    this.#limits = limits;
    this.#handle = handle;
    this.#log = log;
    this.#helloTimer = setTimeout(
      () => this.end(CLOSE_CODES.timeout, `no hello within ${limits.helloTimeoutMs} ms`),
      limits.helloTimeoutMs,
    );
    this.#idleTimer = setTimeout(
      () => this.end(CLOSE_CODES.timeout, `no complete frame within ${limits.idleTimeoutMs} ms`),
      limits.idleTimeoutMs,
    );
    // A connected client that waits for notifications sends nothing: pings give it a frame to
    // answer (browsers and `ws` answer pings on their own), so only a silent peer times out.
    this.#pingTimer = setInterval(
      () => {
        if (this.#ws.readyState === 1) this.#ws.ping();
      },
      Math.max(1, Math.floor(limits.idleTimeoutMs / 2)),
    );
    for (const timer of [this.#helloTimer, this.#idleTimer, this.#pingTimer]) timer.unref();
    ws.on('pong', () => this.#idleTimer.refresh());
    ws.on('close', () => this.dispose());
  }

  /** The connection's counters. */
  get stats(): ConnectionStats {
    return {
      queued: this.#queue.length + (this.#handling ? 1 : 0),
      bufferedBytes: this.#unflushed,
      paused: this.#ws.isPaused,
      answered: this.#answered,
    };
  }

  /** Takes one request frame; answers it after those before it. */
  receive(bytes: Uint8Array): void {
    if (this.#ended) return;
    this.#idleTimer.refresh();
    if (this.#queue.length >= this.#limits.maxQueuedRequests) {
      this.end(
        CLOSE_CODES.queueFull,
        `too many requests queued (more than ${this.#limits.maxQueuedRequests})`,
      );
      return;
    }
    this.#queue.push(bytes);
    // An idle flow takes the request off the queue at once: adjust after, so it does not pause.
    void this.#drain();
    this.#adjust();
  }

  /** The session completed `hello`: the hello deadline no longer applies. */
  helloDone(): void {
    if (this.#helloTimer) clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
  }

  /** Sends a reply, counting its bytes until they are written. */
  send(message: ServerMessage): void {
    this.#write(encodeMessage(message));
  }

  /**
   * Sends a notification frame, unless replies are already backed up: then it waits for them to
   * be written (a notification only says "pull"; the latest one stands for all).
   */
  notify(frame: Uint8Array): void {
    if (this.#unflushed > this.#limits.maxBufferedBytes) this.#notifyPending = frame;
    else this.#write(frame);
  }

  /** Stops the timers (the socket closed). */
  dispose(): void {
    this.#ended = true;
    this.#queue.length = 0;
    if (this.#helloTimer) clearTimeout(this.#helloTimer);
    clearTimeout(this.#idleTimer);
    clearInterval(this.#pingTimer);
    this.#flushed?.();
  }

  #write(frame: Uint8Array): void {
    if (this.#ws.readyState !== 1) return;
    this.#unflushed += frame.length;
    this.#ws.send(frame, () => {
      this.#unflushed -= frame.length;
      if (this.#unflushed <= this.#limits.maxBufferedBytes) {
        const pending = this.#notifyPending;
        this.#notifyPending = undefined;
        if (pending) this.#write(pending);
        this.#flushed?.();
        this.#adjust();
      }
    });
    this.#adjust();
  }

  /** Reads only when nothing waits and replies are written: the peer's sends then back up in TCP. */
  #adjust(): void {
    if (this.#ended || this.#ws.readyState !== 1) return;
    const hold = this.#queue.length > 0 || this.#unflushed > this.#limits.maxBufferedBytes;
    if (hold && !this.#ws.isPaused) this.#ws.pause();
    else if (!hold && this.#ws.isPaused) this.#ws.resume();
  }

  async #drain(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (!this.#ended && this.#queue.length > 0) {
        if (this.#unflushed > this.#limits.maxBufferedBytes) {
          await new Promise<void>((resolve) => (this.#flushed = resolve));
          this.#flushed = undefined;
          continue;
        }
        const bytes = this.#queue.shift()!;
        this.#adjust();
        // The handler answers through send() (zero, one or more frames per request).
        this.#handling = true;
        try {
          await this.#handle(bytes);
        } finally {
          this.#handling = false;
        }
        this.#answered++;
      }
    } catch (error) {
      // The handler answers every failure it knows; anything else ends only this connection.
      this.#log(
        `offsync: WebSocket request failed: ${error instanceof Error ? error.stack : String(error)}`,
      );
      this.end(CLOSE_CODES.internal, 'internal server error');
    } finally {
      this.#running = false;
      this.#adjust();
    }
  }

  /**
   * Closes the connection with `code`, and drops it a moment later if the peer does not answer
   * the close (one that does not read never would, and would hold the socket for 30 s).
   */
  end(code: number, reason: string): void {
    if (this.#ended) return;
    this.dispose();
    if (this.#ws.readyState === 0 || this.#ws.readyState === 1) this.#ws.close(code, reason);
    // A peer that does not read cannot answer the close frame: do not wait for it.
    setTimeout(() => {
      if (this.#ws.readyState !== 3) this.#ws.terminate();
    }, CLOSE_GRACE_MS).unref();
  }
}
