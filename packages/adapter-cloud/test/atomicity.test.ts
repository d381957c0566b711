import { openReplica } from '@offsync/adapter-node';
import {
  type ClientMessage,
  type ServerMessage,
  type SqliteReplica,
  SyncClient,
  type Transport,
  type TransportEvent,
} from '@offsync/core';
import { afterEach, describe, expect, it } from 'vitest';
import { useSharedServer } from './support/shared-server.js';
import { httpTransport, webSocketTransport } from './support/sync-clients.js';

// Issue 9, item 10: a local transaction larger than a page reaches the server and every other
// device whole or not at all, through the real server on loopback.

const SCHEMA = 'CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, n INTEGER, label TEXT);';
const ROWS = 1_200;
const PAGE = 1_000;

const shared = useSharedServer('atomicity', SCHEMA, ['items']);

// A failing test must not leave a writer held at its gate: the clean-up waits for its cycle.
const gates: (() => void)[] = [];
afterEach(() => {
  for (const release of gates.splice(0)) release();
});

type Via = 'http' | 'websocket';

/** A transport that can hold a request until the test lets it go, and counts what went by. */
class GatedTransport implements Transport {
  readonly #inner: Transport;
  /** Called before each request is sent; a returned promise holds the request until it settles. */
  before: ((message: ClientMessage) => Promise<void> | undefined) | undefined;
  readonly responses: { request: ClientMessage; response: ServerMessage }[] = [];

  constructor(inner: Transport) {
    this.#inner = inner;
  }

  async request(message: ClientMessage): Promise<ServerMessage> {
    await this.before?.(message);
    const response = await this.#inner.request(message);
    this.responses.push({ request: message, response });
    return response;
  }

  subscribe(listener: (event: TransportEvent) => void): () => void {
    return this.#inner.subscribe(listener);
  }

  close(): void {
    this.#inner.close();
  }
}

function transportFor(via: Via, database: string): Transport {
  return via === 'http'
    ? httpTransport(shared.server.url, database, undefined, 10_000)
    : webSocketTransport(shared.server.url, database, 10_000);
}

function device(via: Via, database: string, name: string) {
  const replica = openReplica(':memory:');
  replica.driver.exec(SCHEMA);
  replica.enableSync('items');
  const transport = new GatedTransport(transportFor(via, database));
  const client = new SyncClient(replica, {
    transport,
    token: shared.server.adminKey,
    pollMs: 0,
    pageSize: PAGE,
  });
  shared.track({ name, replica, client });
  // Every state the app can read after a page was applied, as a row count.
  const seen: number[] = [];
  client.on(() => seen.push(count(replica)));
  return { replica, client, transport, seen };
}

function count(replica: SqliteReplica): number {
  return Number(replica.driver.prepare('SELECT count(*) FROM items').all()[0]![0]);
}

/** Every row as quote() of each column: the bytes the replicas must share. */
function quoted(replica: SqliteReplica): string[] {
  return replica.driver
    .prepare("SELECT quote(id) || ',' || quote(n) || ',' || quote(label) FROM items ORDER BY id")
    .all()
    .map((row) => String(row[0]));
}

/** One local transaction of `ROWS` rows. */
function bigTransaction(replica: SqliteReplica, tag: string): void {
  replica.driver.exec(`
    BEGIN;
    WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${ROWS})
    INSERT INTO items(id, n, label) SELECT '${tag}-' || printf('%05d', i), i, 'row ' || i FROM k;
    COMMIT;
  `);
}

/** Holds the writer's first push page that continues a unit until `release` is called. */
function holdAfterFirstPage(transport: GatedTransport) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  gates.push(release);
  let reached!: () => void;
  const atSecondPage = new Promise<void>((resolve) => {
    reached = resolve;
  });
  let pushes = 0;
  transport.before = (message) => {
    if (message.type !== 'push') return undefined;
    pushes++;
    if (pushes !== 2) return undefined;
    reached();
    return released;
  };
  return { atSecondPage, release: () => release() };
}

describe.each<Via>(['http', 'websocket'])(
  'a local transaction is atomic for others (%s)',
  (via) => {
    it('a reader pulling while the pages arrive never sees part of it', async () => {
      const { name, central } = await shared.freshDatabase();
      const writer = device(via, name, 'writer');
      const reader = device(via, name, 'reader');
      await reader.client.syncNow();
      bigTransaction(writer.replica, 'w');

      const gate = holdAfterFirstPage(writer.transport);
      const pushing = writer.client.syncNow();
      await gate.atSecondPage;
      // The first page (1,000 rows) is with the server; the transaction's last 200 are not.
      expect(writer.transport.responses.at(-1)?.response).toMatchObject({
        type: 'pushResult',
        accepted: true,
        staged: true,
      });
      expect(count(central())).toBe(0);
      await reader.client.syncNow();
      expect(count(reader.replica)).toBe(0);
      gate.release();
      await pushing;
      expect(count(central())).toBe(ROWS);

      // The reader pulls the unit in two pages (1,000 + 200) and applies it at once.
      const before = reader.transport.responses.length;
      await reader.client.syncNow();
      const pages = reader.transport.responses
        .slice(before)
        .filter(({ response }) => response.type === 'changes');
      expect(pages.length).toBeGreaterThanOrEqual(2);
      expect(pages[0]?.response).toMatchObject({ type: 'changes', hasMore: true, continues: true });
      expect(new Set(reader.seen)).toEqual(new Set([0, ROWS]));
      expect(quoted(reader.replica)).toEqual(quoted(writer.replica));
      expect(quoted(central())).toEqual(quoted(writer.replica));
    });

    it('a server killed between the pages holds none of it, and a retry delivers all of it', async () => {
      const { name, central } = await shared.freshDatabase();
      const writer = device(via, name, 'writer');
      await writer.client.syncNow();
      bigTransaction(writer.replica, 'k');

      const gate = holdAfterFirstPage(writer.transport);
      const pushing = writer.client.syncNow();
      await gate.atSecondPage;
      await shared.server.restart();
      gate.release();
      // The second page meets a server that never staged the first (HTTP: 409 unit-broken) or a
      // closed socket (WebSocket): the cycle fails, and nothing of the transaction was applied.
      await expect(pushing).rejects.toThrow();
      expect(count(central())).toBe(0);

      writer.transport.before = undefined;
      await writer.client.syncNow();
      expect(count(central())).toBe(ROWS);
      const reader = device(via, name, 'reader');
      await reader.client.syncNow();
      expect(new Set(reader.seen)).toEqual(new Set([0, ROWS]));
      expect(quoted(reader.replica)).toEqual(quoted(writer.replica));
    });
  },
);

describe('a cut connection discards the staged part', () => {
  it('over WebSocket: the socket closes mid-unit, the server applies none, a retry all', async () => {
    const { name, central } = await shared.freshDatabase();
    const writer = device('websocket', name, 'writer');
    await writer.client.syncNow();
    bigTransaction(writer.replica, 'c');
    const gate = holdAfterFirstPage(writer.transport);
    const pushing = writer.client.syncNow();
    await gate.atSecondPage;
    // The cut: the socket closes with page 1 staged on the server's side of it.
    writer.transport.close();
    gate.release();
    await expect(pushing).rejects.toThrow();
    expect(count(central())).toBe(0);
    // The device reconnects (a closed transport stays closed: a new one, same replica).
    const retry = new SyncClient(writer.replica, {
      transport: transportFor('websocket', name),
      token: shared.server.adminKey,
      pollMs: 0,
      pageSize: PAGE,
    });
    await retry.syncNow();
    await retry.disconnect();
    expect(count(central())).toBe(ROWS);
    expect(quoted(central())).toEqual(quoted(writer.replica));
  });

  it('over HTTP: an abandoned unit is never applied; a page out of order is refused', async () => {
    const { name, central } = await shared.freshDatabase();
    const writer = device('http', name, 'writer');
    await writer.client.syncNow();
    bigTransaction(writer.replica, 'h');
    const gate = holdAfterFirstPage(writer.transport);
    const pushing = writer.client.syncNow();
    await gate.atSecondPage;
    // The device goes away for good after its first page: the server applies nothing of it.
    const firstPage = writer.transport.responses.at(-1)?.request;
    expect(firstPage).toMatchObject({ type: 'push', continues: true });
    expect(count(central())).toBe(0);
    writer.transport.before = undefined;
    if (firstPage?.type !== 'push') throw new Error('no first page');
    // A duplicate of the staged page is answered as staged, and applies nothing.
    expect(await writer.transport.request({ ...firstPage, id: 998 })).toMatchObject({
      type: 'pushResult',
      staged: true,
    });
    expect(count(central())).toBe(0);
    // A page 1 without its page 0 staged is refused.
    const stray = await writer.transport.request({
      ...firstPage,
      id: 999,
      part: 3,
      continues: false,
    });
    expect(stray).toMatchObject({ type: 'error', code: 'unit-broken', status: 409 });
    expect(count(central())).toBe(0);
    gate.release();
    await expect(pushing).rejects.toThrow(/unit/);
    await writer.client.syncNow();
    expect(count(central())).toBe(ROWS);
    expect(quoted(central())).toEqual(quoted(writer.replica));
  });
});
