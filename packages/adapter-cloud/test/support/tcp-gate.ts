import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of the server that can cut a client off: offline, it resets
 * every open connection and every new one, as a lost network does; online, it forwards bytes.
 * One per client, so each has its own network.
 */
export class TcpGate {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #targetPort: () => number;
  #online = true;

  private constructor(server: Server, targetPort: () => number) {
    this.#server = server;
    this.#targetPort = targetPort;
  }

  /** Starts a gate to `127.0.0.1:targetPort()` (read per connection, so a restarted server is found). */
  static async start(targetPort: () => number): Promise<TcpGate> {
    const server = createServer();
    const gate = new TcpGate(server, targetPort);
    server.on('connection', (socket) => gate.#accept(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return gate;
  }

  /** `http://127.0.0.1:port` of the gate. */
  get url(): string {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('gate not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Whether bytes flow. */
  get online(): boolean {
    return this.#online;
  }

  /** Lets bytes flow again. */
  goOnline(): void {
    this.#online = true;
  }

  /** Resets every connection and refuses new ones until {@link TcpGate.goOnline}. */
  goOffline(): void {
    this.#online = false;
    for (const socket of this.#sockets) socket.resetAndDestroy();
    this.#sockets.clear();
  }

  /** Closes the gate. */
  async close(): Promise<void> {
    this.goOffline();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    if (!this.#online) {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: this.#targetPort() });
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.#sockets.delete(socket);
        // A half that ends takes the other with it: the client sees the drop.
        (socket === client ? upstream : client).destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
