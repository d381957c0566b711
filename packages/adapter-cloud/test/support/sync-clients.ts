import {
  type BackoffPolicy,
  type Change,
  type ClientMessage,
  compareHlc,
  type ServerMessage,
  type SqliteReplica,
  SyncClient,
  type SyncClientOptions,
  type Transport,
  type TransportEvent,
} from '@offsync/core';
import { decodeChangeset } from '@offsync/core/codec';
import { WebSocket } from 'ws';
import {
  HttpTransport,
  type WebSocketConstructor,
  WebSocketTransport,
} from '../../src/client/index.js';
import { dumpHex, showTables, stateDiff } from './replicas.js';
import { waitUntil } from './wait.js';

/** Reconnect quickly: tests inject many faults and must stay fast. */
export const FAST_BACKOFF: BackoffPolicy = { initialMs: 20, maxMs: 200, factor: 2, jitter: 0.5 };

/** Loop timings for tests: short poll and debounce, short backoff. */
export const FAST_LOOP = {
  backoff: FAST_BACKOFF,
  pollMs: 15,
  debounceMs: 5,
} as const satisfies Partial<SyncClientOptions>;

/** How a test client reaches the server. */
export type Via = 'websocket' | 'http';

/** A WebSocket transport on Node's `ws`, with a short request timeout (a lost frame is retried soon). */
export function webSocketTransport(url: string, database: string, timeoutMs = 2_000): Transport {
  return new WebSocketTransport({
    url,
    database,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    timeoutMs,
  });
}

/** An HTTP transport, optionally over an injected `fetch`. */
export function httpTransport(
  url: string,
  database: string,
  fetchImpl?: typeof fetch,
  timeoutMs = 2_000,
): Transport {
  return new HttpTransport({
    url,
    database,
    timeoutMs,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

/**
 * Records the changes of every push the server accepted, as the client saw it: the writes that
 * must never be lost from then on.
 */
export class AckRecorder implements Transport {
  readonly #inner: Transport;
  readonly #acknowledged: Change[];

  constructor(inner: Transport, acknowledged: Change[]) {
    this.#inner = inner;
    this.#acknowledged = acknowledged;
  }

  /** Pages of a multi-page push unit the server staged: acknowledged only with the unit's end. */
  #staged: Change[] = [];

  async request(message: ClientMessage): Promise<ServerMessage> {
    const response = await this.#inner.request(message);
    if (message.type === 'push' && response.type === 'pushResult') {
      const changes = decodeChangeset(message.changeset).changes;
      if ((message.part ?? 0) === 0) this.#staged = [];
      if (response.accepted && response.staged === true) this.#staged.push(...changes);
      else {
        if (response.accepted) this.#acknowledged.push(...this.#staged, ...changes);
        this.#staged = [];
      }
    }
    return response;
  }

  subscribe(listener: (event: TransportEvent) => void): () => void {
    return this.#inner.subscribe(listener);
  }

  close(): void {
    this.#inner.close();
  }
}

/**
 * The acknowledged changes the central replica has lost: those it holds neither in the same row
 * life with an equal or newer stamp, nor superseded by a later life of the row.
 */
export function lostWrites(central: SqliteReplica, acknowledged: readonly Change[]): Change[] {
  const lost: Change[] = [];
  const states = new Map<string, Change[]>();
  for (const change of acknowledged) {
    const id = `${change.table}:${Buffer.from(change.pk).toString('hex')}`;
    let state = states.get(id);
    if (!state) {
      state = central.rowsState(change.table, [change.pk]);
      states.set(id, state);
    }
    const sentinel = state.find((cell) => cell.column === null);
    if (sentinel === undefined) {
      lost.push(change);
      continue;
    }
    if (sentinel.cl > change.cl) continue;
    if (sentinel.cl < change.cl) {
      lost.push(change);
      continue;
    }
    if (change.column === null) continue;
    const cell = state.find((candidate) => candidate.column === change.column);
    if (cell === undefined || compareHlc(cell.stamp, change.stamp) < 0) lost.push(change);
  }
  return lost;
}

/** Describes lost writes for a failure message. */
export function showLost(lost: readonly Change[]): string {
  return lost
    .slice(0, 10)
    .map(
      (change) =>
        `${change.table} ${Buffer.from(change.pk).toString('hex')} ${change.column ?? '(row)'} cl ${change.cl}`,
    )
    .join('; ');
}

/** A client under test: a name, its replica and its sync loop (replaced when it restarts). */
export interface TestClient {
  readonly name: string;
  readonly replica: SqliteReplica;
  client: SyncClient;
}

/** Starts a sync loop with the fast test timings. */
export function startLoop(
  replica: SqliteReplica,
  transport: Transport,
  token: string,
  options: Partial<SyncClientOptions> = {},
): SyncClient {
  const client = new SyncClient(replica, { ...FAST_LOOP, ...options, transport, token });
  client.start();
  return client;
}

/**
 * Runs sync rounds over every client until each one's replicated state (`dump()`) equals the
 * central replica's byte for byte and each reports `synced` with nothing pending; fails after
 * `timeoutMs` naming the clients that differ and how.
 */
export async function syncUntilConverged(
  clients: () => readonly TestClient[],
  central: () => SqliteReplica,
  timeoutMs = 20_000,
): Promise<void> {
  let errors = new Map<string, string>();
  await waitUntil(
    async () => {
      errors = new Map();
      for (const { name, client } of clients()) {
        try {
          await client.syncNow();
        } catch (error) {
          errors.set(name, error instanceof Error ? error.message : String(error));
        }
      }
      const expected = dumpHex(central());
      return clients().every(
        ({ replica, client }) =>
          dumpHex(replica) === expected &&
          client.status.state === 'synced' &&
          client.status.pending === 0,
      );
    },
    {
      timeoutMs,
      intervalMs: 10,
      message: () => {
        const expected = dumpHex(central());
        const lines = clients()
          .filter(
            ({ replica, client }) =>
              dumpHex(replica) !== expected || client.status.state !== 'synced',
          )
          .map(
            ({ name, replica, client }) =>
              `  ${name}: ${client.status.state}, pending ${client.status.pending}${
                errors.has(name) ? `, last error: ${errors.get(name)}` : ''
              }, dump ${dumpHex(replica) === expected ? 'equal' : 'differs'}\n    ${showTables(replica)}\n    state vs central: ${stateDiff(replica, central()).join('\n      ') || 'same changes'}`,
          );
        const sites = clients()
          .map(({ name, replica }) => `${name} ${replica.site.slice(0, 6)}`)
          .join(', ');
        return `clients did not converge with the central database (sites: ${sites})\n  central:\n    ${showTables(central())}\n${lines.join('\n')}`;
      },
    },
  );
}
