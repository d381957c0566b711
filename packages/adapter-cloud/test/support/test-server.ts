import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey, issueDevToken, type RunningServer, startServer } from '../../src/index.js';

/** Limits high enough that retries, duplicates and replays never meet the rate limiter. */
const LOOSE_LIMITS = { requestsPerSecond: 100_000, burst: 100_000 };

/**
 * A sync server on 127.0.0.1 over a temporary data folder, restartable on the same folder and
 * port, with the admin API and development tokens at hand.
 */
export class TestServer {
  readonly dataDir: string;
  readonly adminKey: string;
  #server: RunningServer | undefined;
  #port = 0;

  private constructor(dataDir: string, adminKey: string) {
    this.dataDir = dataDir;
    this.adminKey = adminKey;
  }

  /** Starts a server on a free port over a new temporary folder. */
  static async start(): Promise<TestServer> {
    const dataDir = await mkdtemp(join(tmpdir(), 'offsync-cloud-test-'));
    const test = new TestServer(dataDir, generateApiKey('admin'));
    await test.restart();
    return test;
  }

  /** The running server (throws while stopped). */
  get server(): RunningServer {
    if (!this.#server) throw new Error('the test server is stopped');
    return this.#server;
  }

  /** `http://127.0.0.1:port` (the same across restarts). */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The port (the same across restarts). */
  get port(): number {
    return this.#port;
  }

  /** Whether the server is running. */
  get running(): boolean {
    return this.#server !== undefined;
  }

  /** Graceful shutdown (requests in flight finish, sockets close, files close). */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.close();
  }

  /** Starts the server again on the same data folder and port (stopping it first). */
  async restart(): Promise<void> {
    await this.stop();
    // The port was just released; a client's reconnect may not hold it, but retry briefly in case.
    for (let attempt = 0; ; attempt++) {
      try {
        this.#server = await startServer({
          dataDir: this.dataDir,
          port: this.#port,
          host: '127.0.0.1',
          adminKey: this.adminKey,
          log: () => undefined,
          limits: LOOSE_LIMITS,
          flushIntervalMs: 100,
        });
        break;
      } catch (error) {
        if (attempt >= 50 || (error as { code?: string }).code !== 'EADDRINUSE') throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    this.#port = this.#server.port;
  }

  /** Stops the server and removes its folder. */
  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /** Calls the admin API; throws with the server's error on a non-2xx answer. */
  async admin(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.url}/v1/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${this.adminKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`admin ${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as unknown;
  }

  /**
   * Creates a database from schema SQL through the admin API, switches sync on for `tables`, and
   * with `openTo: 'users'` opens every operation of those tables to user tokens (policy `true`).
   */
  async createDatabase(
    name: string,
    schemaSql: string,
    tables: readonly string[],
    options: { readonly openToUsers?: boolean } = {},
  ): Promise<void> {
    await this.admin('POST', '/databases', { name, schema: schemaSql });
    for (const table of tables) {
      await this.admin('PUT', `/databases/${name}/tables/${table}/sync`, { enabled: true });
      if (options.openToUsers)
        for (const operation of ['select', 'insert', 'update', 'delete'])
          await this.admin('PUT', `/databases/${name}/policies/${table}/${operation}`, {
            expression: 'true',
          });
    }
  }

  /** A development user token signed with the server's HS256 secret. */
  async userToken(sub: string): Promise<string> {
    const config = JSON.parse(await readFile(join(this.dataDir, 'server.json'), 'utf8')) as {
      jwt: { hs256Secret: string };
    };
    return issueDevToken({ secret: config.jwt.hs256Secret, sub, ttlSeconds: 3600 });
  }
}
