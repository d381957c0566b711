import {
  bytesToHex,
  type ClientMessage,
  type DeclaredSchema,
  type ServerMessage,
  type Transport,
  TransportError,
  type TransportEvent,
} from '@offsync/core';
import { decodeChangeset, PROTOCOL_VERSION } from '@offsync/core/codec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { showSqlValue } from './show-value.js';

/**
 * One client as the transport suite drives it: a transport to the server's database, and what
 * speaking the protocol through it takes (site, credential, declared schemas, changes to push).
 *
 * @example
 * ```ts
 * const client: TransportClient = {
 *   transport: new HttpTransport({ url, database: 'todos' }),
 *   site: replica.site,
 *   token,
 *   schemas: { todos: { canonical: info.canonical, fingerprint: info.fingerprint } },
 *   changeset: () => insertRowAndEncode(replica),
 * };
 * ```
 */
export interface TransportClient {
  /** A transport to the server's database, not used yet. The suite closes it. */
  readonly transport: Transport;
  /** The client's site id: the origin of its changesets. */
  readonly site: string;
  /** A credential the server accepts in `hello` (a user's JWT or an API key). */
  readonly token: string;
  /** The client's declared schemas: at least one table the server syncs and opens to `token`. */
  readonly schemas: Readonly<Record<string, DeclaredSchema>>;
  /** An encoded changeset (with fingerprints) of this client's site, new rows on every call. */
  readonly changeset: () => Uint8Array;
}

/**
 * What a transport setup gives the suite: a client connected to a running server's database with
 * an open synced table, a way to make a second client of the same database, and a transport of
 * the same kind to an address where nothing answers.
 *
 * @example
 * ```ts
 * const fixture: TransportFixture = {
 *   ...client('alice'),
 *   peer: () => client('bob'),
 *   unreachable: () => new HttpTransport({ url: 'http://127.0.0.1:9', database: 'todos' }),
 *   notifies: false,
 *   teardown: () => server.close(),
 * };
 * ```
 */
export interface TransportFixture extends TransportClient {
  /** Another client of the same database, with its own site, that sees the rows this one pushes. */
  readonly peer: () => TransportClient | Promise<TransportClient>;
  /** A transport of the same kind to an address where no server listens. */
  readonly unreachable: () => Transport;
  /** The transport delivers `notify` events and `disconnected` (a WebSocket does; HTTP does not). */
  readonly notifies: boolean;
  /** Stops the server (the suite checks a transport meets a server that went away). Optional. */
  readonly stopServer?: () => Promise<void>;
  /** Called after the suite closed every transport it got: stop the server, delete files. */
  readonly teardown?: () => void | Promise<void>;
}

/**
 * Makes a {@link TransportFixture} on every call (once per test).
 *
 * @example
 * ```ts
 * const setup: TransportSetup = async () => fixtureOver(await startServer(...));
 * ```
 */
export type TransportSetup = () => TransportFixture | Promise<TransportFixture>;

/** Options of {@link runTransportConformance}. */
export interface TransportConformanceOptions {
  /** Timeout of each test in milliseconds. Default: 20,000. */
  readonly timeoutMs?: number;
  /** How long to wait for a notification or a refusal that must come. Default: 5,000. */
  readonly waitMs?: number;
}

type Reply<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

function hello(client: TransportClient, id: number, token = client.token): ClientMessage {
  return {
    type: 'hello',
    id,
    protocol: PROTOCOL_VERSION,
    site: client.site,
    token,
    schemas: client.schemas,
  };
}

function pull(client: TransportClient, id: number, cursor: number, limit = 1000): ClientMessage {
  return {
    type: 'pull',
    id,
    site: client.site,
    cursor,
    limit,
    tables: Object.keys(client.schemas),
    pending: 0,
  };
}

function push(client: TransportClient, id: number, upTo: number): ClientMessage {
  return { type: 'push', id, site: client.site, upTo, changeset: client.changeset() };
}

function expectType<T extends ServerMessage['type']>(
  message: ServerMessage,
  type: T,
  id: number,
): Reply<T> {
  expect({ type: message.type, id: message.id }).toEqual({ type, id });
  return message as Reply<T>;
}

async function rejection(promise: Promise<unknown>, waitMs: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    promise.then(
      (value) => ({ resolved: value }),
      (error: unknown) => ({ rejected: error }),
    ),
    new Promise<{ hung: true }>((resolve) => {
      timer = setTimeout(() => resolve({ hung: true }), waitMs);
    }),
  ]);
  clearTimeout(timer);
  if ('rejected' in outcome) return outcome.rejected;
  if ('hung' in outcome) throw new Error(`the request neither settled within ${waitMs} ms`);
  throw new Error(
    `expected a rejection, the request resolved with ${outcome.resolved === undefined ? 'nothing' : (outcome.resolved as ServerMessage).type}`,
  );
}

function expectTransportError(error: unknown): void {
  expect(error).toBeInstanceOf(TransportError);
  expect((error as TransportError).type).toBe('TransportError');
  expect(typeof (error as TransportError).reason).toBe('string');
}

function waitFor<T>(
  subscribe: (listener: (event: TransportEvent) => void) => () => void,
  match: (event: TransportEvent) => T | undefined,
  waitMs: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no ${what} within ${waitMs} ms`));
    }, waitMs);
    const unsubscribe = subscribe((event) => {
      const found = match(event);
      if (found === undefined) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(found);
    });
  });
}

/** Every cell (table, key, column → value) of a changeset, to compare what crossed. */
function cells(changeset: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  for (const change of decodeChangeset(changeset).changes) {
    if (change.column === null) continue;
    out.set(
      `${change.table} ${bytesToHex(change.pk)} ${change.column}`,
      showSqlValue(change.value),
    );
  }
  return out;
}

/**
 * Registers the conformance suite of a sync transport with vitest: request and response for each
 * message (`hello` → `welcome`, `push` → `pushResult`, `pull` → `changes`) with ids echoed,
 * payloads that cross intact between two clients, concurrent requests resolved to their own
 * responses, server refusals delivered as `error` messages, a typed {@link TransportError} when
 * the server is unreachable or went away, `close()` rejecting requests in flight, and `notify`
 * events when another client pushed (for transports that carry them).
 *
 * `setup` is called before every test and must give a client of a running server's database
 * with an open synced table; the suite needs nothing else from the server's implementation.
 *
 * @param setup Creates a fixture (a server, or a database of a shared one, and clients of it).
 * @param title Names the transport in test reports.
 * @param options Timeouts.
 * @example
 * ```ts
 * import { runTransportConformance } from '@offsync/testkit';
 *
 * runTransportConformance(() => webSocketFixture(), 'WebSocketTransport (ws)');
 * ```
 */
export function runTransportConformance(
  setup: TransportSetup,
  title: string,
  options: TransportConformanceOptions = {},
): void {
  const timeout = options.timeoutMs ?? 20_000;
  const waitMs = options.waitMs ?? 5_000;

  describe(`Transport conformance: ${title}`, () => {
    let fixture: TransportFixture;
    const transports: Transport[] = [];
    const track = <T extends Transport | TransportClient>(item: T): T => {
      transports.push('transport' in item ? item.transport : item);
      return item;
    };
    const peer = async (): Promise<TransportClient> => track(await fixture.peer());

    beforeEach(async () => {
      fixture = await setup();
      track(fixture);
    }, timeout);

    afterEach(async () => {
      for (const transport of transports.splice(0)) transport.close();
      await fixture?.teardown?.();
    }, timeout);

    it(
      'answers hello with welcome, echoing the request id',
      async () => {
        const welcome = expectType(
          await fixture.transport.request(hello(fixture, 17)),
          'welcome',
          17,
        );
        expect([...welcome.tables].sort()).toEqual(Object.keys(fixture.schemas).sort());
        expect(welcome.refused).toEqual({});
        expect(typeof welcome.serverSite).toBe('string');
        expect(welcome.serverSite).not.toBe('');
      },
      timeout,
    );

    it(
      'answers push with pushResult and pull with changes, echoing ids',
      async () => {
        expectType(await fixture.transport.request(hello(fixture, 1)), 'welcome', 1);
        const result = expectType(
          await fixture.transport.request(push(fixture, 2, 1)),
          'pushResult',
          2,
        );
        expect(result.accepted).toBe(true);
        expect(result.refusals).toEqual([]);
        expect(result.serverVersion).toBeGreaterThan(0);
        const page = expectType(
          await fixture.transport.request(pull(fixture, 1_000_003, 0)),
          'changes',
          1_000_003,
        );
        expect(page.serverVersion).toBeGreaterThanOrEqual(result.serverVersion);
        expect(page.cursor).toBeLessThanOrEqual(page.serverVersion);
        expect(() => decodeChangeset(page.changeset)).not.toThrow();
      },
      timeout,
    );

    it(
      'carries changesets intact: what one client pushes, another pulls',
      async () => {
        const other = await peer();
        expectType(await fixture.transport.request(hello(fixture, 1)), 'welcome', 1);
        expectType(await other.transport.request(hello(other, 1)), 'welcome', 1);
        const sent = fixture.changeset();
        const result = expectType(
          await fixture.transport.request({
            type: 'push',
            id: 2,
            site: fixture.site,
            upTo: 1,
            changeset: sent,
          }),
          'pushResult',
          2,
        );
        expect(result.accepted).toBe(true);
        const received = new Map<string, string>();
        let cursor = 0;
        for (let id = 2; id < 100; id++) {
          const page = expectType(
            await other.transport.request(pull(other, id, cursor, 2)),
            'changes',
            id,
          );
          for (const [key, value] of cells(page.changeset)) received.set(key, value);
          cursor = page.cursor;
          if (!page.hasMore) break;
        }
        const expected = cells(sent);
        expect(expected.size).toBeGreaterThan(0);
        for (const [key, value] of expected) expect([key, received.get(key)]).toEqual([key, value]);
      },
      timeout,
    );

    it(
      'resolves concurrent requests to their own responses',
      async () => {
        expectType(await fixture.transport.request(hello(fixture, 1)), 'welcome', 1);
        const requests: ClientMessage[] = [];
        // Ids out of order and far apart; pushes and pulls of different sizes interleaved.
        const ids = [907, 12, 4_000_001, 33, 500, 2, 71, 88_888, 640, 5];
        ids.forEach((id, i) => {
          requests.push(i % 2 === 0 ? push(fixture, id, i + 1) : pull(fixture, id, 0, i));
        });
        const responses = await Promise.all(
          requests.map((request) => fixture.transport.request(request)),
        );
        responses.forEach((response, i) => {
          const request = requests[i]!;
          const type = request.type === 'push' ? 'pushResult' : 'changes';
          const reply = expectType(response, type, request.id);
          if (reply.type === 'pushResult') expect(reply.accepted).toBe(true);
        });
      },
      timeout,
    );

    it(
      'delivers server refusals as error messages, echoing the id, and stays usable',
      async () => {
        const refused = expectType(
          await fixture.transport.request(hello(fixture, 5, 'not-a-valid-token')),
          'error',
          5,
        );
        expect(refused.status).toBe(401);
        expect(refused.code).not.toBe('');
        expect(refused.message).not.toBe('');
        expectType(await fixture.transport.request(hello(fixture, 6)), 'welcome', 6);

        // A request from a client that never said who it is.
        const stranger = await peer();
        const anonymous = expectType(
          await stranger.transport.request(pull(stranger, 7, 0)),
          'error',
          7,
        );
        expect(anonymous.status).toBe(401);
      },
      timeout,
    );

    it(
      'rejects with a TransportError when the server is unreachable',
      async () => {
        const transport = track(fixture.unreachable());
        expectTransportError(await rejection(transport.request(hello(fixture, 1)), waitMs));
        // Again: a failed connection does not leave the next request hanging.
        expectTransportError(await rejection(transport.request(hello(fixture, 2)), waitMs));
      },
      timeout,
    );

    it(
      'rejects requests in flight and later ones when closed',
      async () => {
        // Before anything is connected.
        const early = fixture.transport.request(hello(fixture, 1));
        fixture.transport.close();
        expectTransportError(await rejection(early, waitMs));
        expectTransportError(await rejection(fixture.transport.request(hello(fixture, 2)), waitMs));

        // Once connected and talking.
        const other = await peer();
        expectType(await other.transport.request(hello(other, 1)), 'welcome', 1);
        const inFlight = [
          other.transport.request(pull(other, 2, 0)),
          other.transport.request(push(other, 3, 1)),
        ];
        other.transport.close();
        for (const request of inFlight) expectTransportError(await rejection(request, waitMs));
        expectTransportError(await rejection(other.transport.request(pull(other, 4, 0)), waitMs));
      },
      timeout,
    );

    it(
      'meets a server that went away with a TransportError',
      async () => {
        if (!fixture.stopServer) return;
        expectType(await fixture.transport.request(hello(fixture, 1)), 'welcome', 1);
        const disconnected = fixture.notifies
          ? waitFor(
              (listener) => fixture.transport.subscribe(listener),
              (event) => (event.type === 'disconnected' ? event : undefined),
              waitMs,
              'disconnected event',
            )
          : undefined;
        await fixture.stopServer();
        if (disconnected) expect((await disconnected).reason).not.toBe('');
        expectTransportError(
          await rejection(fixture.transport.request(pull(fixture, 2, 0)), waitMs),
        );
      },
      timeout,
    );

    it(
      'notifies when another client pushed, if the transport carries notifications',
      async () => {
        const received: TransportEvent[] = [];
        const unsubscribe = fixture.transport.subscribe((event) => received.push(event));
        expect(typeof unsubscribe).toBe('function');
        expectType(await fixture.transport.request(hello(fixture, 1)), 'welcome', 1);
        const other = await peer();
        expectType(await other.transport.request(hello(other, 1)), 'welcome', 1);
        if (!fixture.notifies) {
          expectType(await other.transport.request(push(other, 2, 1)), 'pushResult', 2);
          unsubscribe();
          expect(received.filter((event) => event.type === 'notify')).toEqual([]);
          return;
        }
        const notified = waitFor(
          (listener) => fixture.transport.subscribe(listener),
          (event) => (event.type === 'notify' ? event : undefined),
          waitMs,
          'notify event',
        );
        const result = expectType(
          await other.transport.request(push(other, 2, 1)),
          'pushResult',
          2,
        );
        expect(result.accepted).toBe(true);
        expect((await notified).serverVersion).toBeGreaterThanOrEqual(result.serverVersion);
        // An unsubscribed listener hears nothing more.
        unsubscribe();
        const count = received.length;
        expect(received.some((event) => event.type === 'notify')).toBe(true);
        const again = waitFor(
          (listener) => fixture.transport.subscribe(listener),
          (event) => (event.type === 'notify' ? event : undefined),
          waitMs,
          'second notify event',
        );
        expectType(await other.transport.request(push(other, 3, 2)), 'pushResult', 3);
        await again;
        expect(received.length).toBe(count);
      },
      timeout,
    );
  });
}
