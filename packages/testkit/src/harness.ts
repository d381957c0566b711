import { type SqliteDriver, SqliteReplica } from '@offsync/core';
import type { DriverFixture, DriverSetup } from './fixture.js';
import { MANUAL_START_MS, manualEnv } from './manual-env.js';
import { makePeer, type Peer } from './peer.js';

/**
 * How to open a {@link Peer}.
 *
 * @example
 * ```ts
 * const options: PeerOptions = { sql: 'CREATE TABLE t(id TEXT PRIMARY KEY NOT NULL, v)', sync: ['t'] };
 * ```
 */
export interface PeerOptions {
  /** Seed of the env (hence the site id). Default: a new one per peer of the harness. */
  readonly seed?: number;
  /** Start of the peer's wall clock. Default: {@link MANUAL_START_MS}. */
  readonly startMs?: number;
  /** Drift bound of the replica. Default: the replica's (5 minutes). */
  readonly maxDriftMs?: number;
  /** SQL run on the new database before the tables are synced (the app's schema). */
  readonly sql?: string;
  /** Tables to enable sync for. */
  readonly sync?: readonly string[];
}

interface Opened {
  readonly fixture: DriverFixture;
  driver: SqliteDriver;
  open: boolean;
}

/**
 * Opens databases through a {@link DriverSetup} and disposes of them: closes every connection it
 * handed out, then runs each fixture's teardown.
 *
 * @example
 * ```ts
 * const harness = new Harness(setup);
 * afterEach(() => harness.dispose());
 * const a = await harness.peer({ sql: TODOS, sync: ['todos'] });
 * ```
 */
export class Harness {
  readonly #setup: DriverSetup;
  readonly #opened: Opened[] = [];
  readonly #byDriver = new Map<SqliteDriver, Opened>();
  #seed = 0;

  constructor(setup: DriverSetup) {
    this.#setup = setup;
  }

  /** A connection to a fresh database, closed by {@link Harness.dispose}. */
  async driver(): Promise<SqliteDriver> {
    const fixture = await this.#setup();
    const opened: Opened = { fixture, driver: fixture.driver, open: true };
    this.#opened.push(opened);
    this.#byDriver.set(fixture.driver, opened);
    return fixture.driver;
  }

  /** A replica over a fresh database, with its own manual clock. */
  async peer(options: PeerOptions = {}): Promise<Peer> {
    const driver = await this.driver();
    const env = manualEnv(options.startMs ?? MANUAL_START_MS, options.seed ?? ++this.#seed);
    if (options.sql !== undefined) driver.exec(options.sql);
    const replica = SqliteReplica.open(driver, {
      env,
      ...(options.maxDriftMs === undefined ? {} : { maxDriftMs: options.maxDriftMs }),
    });
    for (const table of options.sync ?? []) replica.enableSync(table);
    return makePeer(replica, env);
  }

  /** Whether the setup can re-open a database (its fixtures have `reopen`). */
  canReopen(peer: Peer): boolean {
    return this.#byDriver.get(peer.driver)?.fixture.reopen !== undefined;
  }

  /**
   * The peer after an app restart: its connection re-opened when the setup can (otherwise the
   * same connection), and the replica opened again from what the database holds.
   */
  async restart(peer: Peer, options: { readonly maxDriftMs?: number } = {}): Promise<Peer> {
    const opened = this.#byDriver.get(peer.driver);
    if (!opened) throw new Error('restart: this peer was not opened by this harness');
    let driver = peer.driver;
    if (opened.fixture.reopen) {
      opened.open = false;
      this.#byDriver.delete(driver);
      driver = await opened.fixture.reopen(driver);
      opened.driver = driver;
      opened.open = true;
      this.#byDriver.set(driver, opened);
    }
    const replica = SqliteReplica.open(driver, {
      env: peer.env,
      ...(options.maxDriftMs === undefined ? {} : { maxDriftMs: options.maxDriftMs }),
    });
    return makePeer(replica, peer.env);
  }

  /**
   * Another connection to `peer`'s database (closed by {@link Harness.dispose}), or `undefined`
   * when the setup has no `connect`.
   */
  async connection(peer: Peer): Promise<SqliteDriver | undefined> {
    const opened = this.#byDriver.get(peer.driver);
    if (!opened?.fixture.connect) return undefined;
    const driver = await opened.fixture.connect();
    // Closed before the fixtures' teardowns, like every connection handed out.
    this.#opened.push({ fixture: { driver }, driver, open: true });
    return driver;
  }

  /** Closes every connection handed out and tears every fixture down (latest first). */
  async dispose(): Promise<void> {
    const errors: unknown[] = [];
    for (const opened of this.#opened.splice(0).reverse()) {
      try {
        if (opened.open) opened.driver.close();
        opened.open = false;
      } catch (error) {
        errors.push(error);
      }
      try {
        await opened.fixture.teardown?.();
      } catch (error) {
        errors.push(error);
      }
    }
    this.#byDriver.clear();
    this.#seed = 0;
    if (errors.length > 0) throw errors[0];
  }
}
