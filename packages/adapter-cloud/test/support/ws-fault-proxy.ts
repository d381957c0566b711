import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeMessage } from '@offsync/core/codec';
import { prng } from '@offsync/testkit';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

/**
 * What a {@link WsFaultProxy} does to traffic; chances are per frame, between 0 and 1. Kills
 * apply to the client's requests of `killTypes` and cut the connection abruptly (no close frame).
 */
export interface WsFaults {
  /** The request is dropped with the connection: it never reaches the server. */
  killBeforeRequest: number;
  /** The request reaches the server; the connection drops before its response comes back. */
  killBeforeResponse: number;
  /** The response is delivered, then the connection drops. */
  killAfterResponse: number;
  /** Which requests the kills apply to. */
  killTypes: readonly ('hello' | 'push' | 'pull')[];
  /** A frame (either way) is delivered twice, the copy later, after frames sent after it. */
  duplicate: number;
  /** A frame (either way) is held back and delivered after later frames. */
  reorder: number;
  /** Every frame is delayed by up to this many ms (independently, so frames also reorder). */
  delayMs: number;
}

/** No faults: the proxy forwards every frame at once, in order. */
export const NO_FAULTS: WsFaults = {
  killBeforeRequest: 0,
  killBeforeResponse: 0,
  killAfterResponse: 0,
  killTypes: ['push', 'pull'],
  duplicate: 0,
  reorder: 0,
  delayMs: 0,
};

/** What the proxy injected, to check the faults happened. */
export interface WsFaultStats {
  killBeforeRequest: number;
  killBeforeResponse: number;
  killAfterResponse: number;
  duplicated: number;
  reordered: number;
  delayed: number;
  connections: number;
}

/**
 * A WebSocket-aware proxy on 127.0.0.1 in front of the sync server: it reads each frame's
 * message type and id, so it can drop a connection exactly mid-push or mid-pull (before the
 * request reaches the server, after it did but before the response, or after the response), and
 * duplicate, delay and reorder frames. Decisions come from a seeded generator.
 */
export class WsFaultProxy {
  faults: WsFaults = { ...NO_FAULTS };
  readonly stats: WsFaultStats = {
    killBeforeRequest: 0,
    killBeforeResponse: 0,
    killAfterResponse: 0,
    duplicated: 0,
    reordered: 0,
    delayed: 0,
    connections: 0,
  };
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #target: () => string;
  readonly #random: () => number;
  readonly #open = new Set<WebSocket>();

  private constructor(target: () => string, seed: number) {
    this.#target = target;
    this.#random = prng(seed);
    this.#http = createServer((_request, response) => response.writeHead(404).end());
    this.#wss = new WebSocketServer({ server: this.#http });
    this.#wss.on('connection', (client, request) => this.#relay(client, request));
  }

  /** Starts a proxy to the server at `target()` (`http://127.0.0.1:port`, read per connection). */
  static async start(target: () => string, seed: number): Promise<WsFaultProxy> {
    const proxy = new WsFaultProxy(target, seed);
    await new Promise<void>((resolve) => proxy.#http.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** `http://127.0.0.1:port` of the proxy. */
  get url(): string {
    return `http://127.0.0.1:${(this.#http.address() as AddressInfo).port}`;
  }

  /** Closes the proxy and every connection through it. */
  async close(): Promise<void> {
    for (const socket of this.#open) socket.terminate();
    this.#wss.close();
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #relay(client: WebSocket, request: IncomingMessage): void {
    this.stats.connections++;
    const upstream = new WebSocket(`${this.#target().replace(/^http/, 'ws')}${request.url ?? '/'}`);
    const early: Buffer[] = [];
    // Requests whose response must not arrive (killed instead), or must arrive and then kill.
    const killOnResponse = new Set<number>();
    const killAfterResponse = new Set<number>();
    let dead = false;
    const kill = (): void => {
      dead = true;
      client.terminate();
      upstream.terminate();
    };
    for (const socket of [client, upstream]) {
      this.#open.add(socket);
      socket.on('error', () => kill());
      socket.on('close', () => {
        this.#open.delete(socket);
        kill();
      });
    }
    upstream.on('open', () => {
      for (const frame of early.splice(0)) upstream.send(frame);
    });
    client.on('message', (data) => {
      if (dead) return;
      const frame = toBuffer(data);
      const header = peek(frame);
      if (header && this.faults.killTypes.includes(header.type as 'push')) {
        const roll = this.#random();
        const { killBeforeRequest, killBeforeResponse, killAfterResponse: after } = this.faults;
        if (roll < killBeforeRequest) {
          this.stats.killBeforeRequest++;
          kill();
          return;
        }
        if (roll < killBeforeRequest + killBeforeResponse) killOnResponse.add(header.id);
        else if (roll < killBeforeRequest + killBeforeResponse + after)
          killAfterResponse.add(header.id);
      }
      if (upstream.readyState === WebSocket.CONNECTING) early.push(frame);
      else this.#forward(upstream, frame, () => dead);
    });
    upstream.on('message', (data) => {
      if (dead) return;
      const frame = toBuffer(data);
      const header = peek(frame);
      if (header && killOnResponse.delete(header.id)) {
        this.stats.killBeforeResponse++;
        kill();
        return;
      }
      if (header && killAfterResponse.delete(header.id)) {
        this.stats.killAfterResponse++;
        client.send(frame, () => kill());
        return;
      }
      this.#forward(client, frame, () => dead);
    });
  }

  #forward(to: WebSocket, frame: Buffer, dead: () => boolean): void {
    const send = (): void => {
      if (!dead() && to.readyState === WebSocket.OPEN) to.send(frame);
    };
    const { delayMs, reorder, duplicate } = this.faults;
    let wait = 0;
    if (delayMs > 0) {
      wait = this.#random() * delayMs;
      this.stats.delayed++;
    }
    if (this.#random() < reorder) {
      // Held back long enough for frames sent after it to overtake it.
      wait += 5 + this.#random() * 25;
      this.stats.reordered++;
    }
    if (wait > 0) setTimeout(send, wait);
    else send();
    if (this.#random() < duplicate) {
      this.stats.duplicated++;
      setTimeout(send, wait + 1 + this.#random() * 40);
    }
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** The message type and id of a frame, or undefined for a frame that is not a sync message. */
function peek(frame: Buffer): { type: string; id: number } | undefined {
  try {
    const message = decodeMessage(new Uint8Array(frame));
    return { type: message.type, id: message.id };
  } catch {
    return undefined;
  }
}
