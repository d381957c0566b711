import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReplica as openNativeReplica } from '@offsync/adapter-node';
import type { Change, SqliteReplica, Transport } from '@offsync/core';
import { prng } from '@offsync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/index.js';
import { FixtureProcess } from './support/child-process.js';
import { faultyFetch, type HttpFaultStats } from './support/fault-fetch.js';
import { dumpHex, openClientReplica, query, type ReplicaKind, run } from './support/replicas.js';
import {
  AckRecorder,
  httpTransport,
  lostWrites,
  showLost,
  startLoop,
  syncUntilConverged,
  type TestClient,
  webSocketTransport,
} from './support/sync-clients.js';
import { TestServer } from './support/test-server.js';
import { sleep } from './support/wait.js';
import { NO_FAULTS, WsFaultProxy } from './support/ws-fault-proxy.js';

// An append-only ledger (every row a writer commits must reach the server exactly once) and a
// small shared table edited concurrently (updates, deletes, re-inserts).
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS ledger(id TEXT PRIMARY KEY NOT NULL, writer TEXT NOT NULL DEFAULT '', n INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE IF NOT EXISTS items(id TEXT PRIMARY KEY NOT NULL, a TEXT, b INTEGER);
`;
const TABLES = ['ledger', 'items'] as const;
// Small pages: every push and pull takes several requests, so faults land mid-sequence.
const PAGE_SIZE = 4;

/** A client that writes: its acknowledged pushes and how many ledger rows it committed. */
interface Writer extends TestClient {
  readonly acknowledged: Change[];
  written: number;
  wentOffline: boolean;
}

// Each run draws its own seed (reported with every failure) so runs differ over time.
const SEED = Number(process.env.OFFSYNC_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const seeded = (offset: number): (() => number) => prng(SEED + offset);

let test: TestServer;
let databases = 0;

beforeAll(async () => {
  test = await TestServer.start();
});

afterAll(async () => {
  await test?.dispose();
});

async function freshDatabase(
  label: string,
): Promise<{ name: string; central: () => SqliteReplica }> {
  const name = `${label}-${++databases}`;
  await test.createDatabase(name, SCHEMA, TABLES);
  return { name, central: () => test.server.store.open(name).replica };
}

async function openWriter(
  name: string,
  kind: ReplicaKind,
  transport: Transport,
  token = test.adminKey,
): Promise<Writer> {
  const replica = await openClientReplica(kind, SCHEMA, TABLES);
  const acknowledged: Change[] = [];
  const writer: Writer = {
    name,
    replica,
    acknowledged,
    written: 0,
    wentOffline: false,
    client: startLoop(replica, new AckRecorder(transport, acknowledged), token, {
      pageSize: PAGE_SIZE,
    }),
  };
  writer.client.on((status) => {
    if (status.state === 'offline') writer.wentOffline = true;
  });
  return writer;
}

async function closeWriters(writers: readonly Writer[]): Promise<void> {
  for (const writer of writers) {
    await writer.client.disconnect();
    writer.replica.close();
  }
}

/** One local transaction's worth of edits: a ledger row, and now and then a shared-row edit. */
function writeSome(writer: Writer, random: () => number): void {
  run(writer.replica, 'INSERT INTO ledger(id, writer, n) VALUES (?, ?, ?)', [
    `${writer.name}-${writer.written}`,
    writer.name,
    BigInt(writer.written),
  ]);
  writer.written++;
  if (random() < 0.5) return;
  const key = `k${Math.floor(random() * 4)}`;
  const present = query(writer.replica, 'SELECT 1 FROM items WHERE id = ?', [key]).length > 0;
  if (!present) {
    run(writer.replica, 'INSERT INTO items(id, a, b) VALUES (?, ?, ?)', [
      key,
      `${writer.name} ${writer.written}`,
      BigInt(writer.written),
    ]);
  } else if (random() < 0.25) {
    run(writer.replica, 'DELETE FROM items WHERE id = ?', [key]);
  } else if (random() < 0.5) {
    run(writer.replica, 'UPDATE items SET a = ? WHERE id = ?', [
      `${writer.name} ${writer.written}`,
      key,
    ]);
  } else {
    run(writer.replica, 'UPDATE items SET b = ? WHERE id = ?', [BigInt(writer.written), key]);
  }
}

/** Writers edit concurrently for `durationMs`, each at its own random pace. */
async function workload(
  writers: readonly Writer[],
  durationMs: number,
  random: () => number,
): Promise<void> {
  const deadline = Date.now() + durationMs;
  while (Date.now() < deadline) {
    for (const writer of writers) if (random() < 0.7) writeSome(writer, random);
    await sleep(2 + random() * 8);
  }
}

/**
 * Checks, while faults happen, that every write whose push the server acknowledged is in the
 * central database (newly acknowledged writes every few ms; everything on `checkAll`).
 */
function watchAcknowledged(
  writers: readonly Writer[],
  central: () => SqliteReplica | undefined,
): { checkAll(): void; stop(): string[] } {
  const violations: string[] = [];
  const checked = new Map<Writer, number>(writers.map((writer) => [writer, 0]));
  const check = (all: boolean): void => {
    const replica = central();
    if (!replica) return;
    for (const writer of writers) {
      const from = all ? 0 : checked.get(writer)!;
      const lost = lostWrites(replica, writer.acknowledged.slice(from));
      checked.set(writer, writer.acknowledged.length);
      if (lost.length > 0)
        violations.push(`${writer.name} lost acknowledged writes: ${showLost(lost)}`);
    }
  };
  const timer = setInterval(() => check(false), 25);
  return {
    checkAll: () => check(true),
    stop: () => {
      clearInterval(timer);
      check(true);
      return violations;
    },
  };
}

/**
 * After the faults: all converge byte for byte with the central database, then {@link expectComplete}.
 */
async function expectConvergedAndComplete(
  writers: readonly Writer[],
  central: () => SqliteReplica,
): Promise<void> {
  await syncUntilConverged(() => writers, central, 30_000);
  expectComplete(writers, central());
}

/**
 * No acknowledged write is missing from the central database, and each writer's ledger rows are
 * there exactly once (n = 0 … written-1).
 */
function expectComplete(writers: readonly Writer[], central: SqliteReplica): void {
  for (const writer of writers) {
    expect(writer.acknowledged.length, `${writer.name} had pushes acknowledged`).toBeGreaterThan(0);
    expect(
      showLost(lostWrites(central, writer.acknowledged)),
      `${writer.name} (seed ${SEED})`,
    ).toBe('');
    expect(
      query(central, 'SELECT n FROM ledger WHERE writer = ? ORDER BY n', [writer.name]).map((row) =>
        Number(row[0]),
      ),
      `${writer.name}'s ledger rows on the server (seed ${SEED})`,
    ).toEqual(Array.from({ length: writer.written }, (_, n) => n));
  }
}

describe(`faults between clients and a real server on 127.0.0.1 (seed ${SEED})`, () => {
  it('connections dropped mid-push and mid-pull over WebSocket (before the request reaches the server, after it did, after the response): no acknowledged write lost, all converge', async () => {
    const { name, central } = await freshDatabase('ws-drops');
    const proxy = await WsFaultProxy.start(() => test.url, SEED + 1);
    proxy.faults = {
      ...NO_FAULTS,
      killBeforeRequest: 0.07,
      killBeforeResponse: 0.07,
      killAfterResponse: 0.07,
      killTypes: ['hello', 'push', 'pull'],
    };
    const kinds: ReplicaKind[] = ['native', 'native', 'wasm'];
    const writers = await Promise.all(
      kinds.map((kind, i) =>
        openWriter(`w${i}-${kind}`, kind, webSocketTransport(proxy.url, name)),
      ),
    );
    const watch = watchAcknowledged(writers, central);
    try {
      await workload(writers, 1_500, seeded(2));
      proxy.faults = { ...NO_FAULTS };
      expect(watch.stop(), `seed ${SEED}`).toEqual([]);
      expect(proxy.stats.killBeforeRequest, 'requests dropped before the server').toBeGreaterThan(
        0,
      );
      expect(proxy.stats.killBeforeResponse, 'responses dropped').toBeGreaterThan(0);
      expect(proxy.stats.killAfterResponse, 'connections dropped after a response').toBeGreaterThan(
        0,
      );
      await expectConvergedAndComplete(writers, central);
    } finally {
      watch.stop();
      await closeWriters(writers);
      await proxy.close();
    }
  });

  it('requests and responses lost mid-push and mid-pull over HTTP: no acknowledged write lost, all converge', async () => {
    const { name, central } = await freshDatabase('http-drops');
    const faults = {
      loseRequest: 0.1,
      loseResponse: 0.15,
      duplicate: 0,
      replayStale: 0,
      delayMs: 0,
    };
    const stats: HttpFaultStats = { lostRequests: 0, lostResponses: 0, duplicated: 0, replayed: 0 };
    const kinds: ReplicaKind[] = ['native', 'wasm', 'native'];
    const writers = await Promise.all(
      kinds.map((kind, i) =>
        openWriter(
          `h${i}-${kind}`,
          kind,
          httpTransport(test.url, name, faultyFetch(faults, SEED + 10 + i, stats)),
        ),
      ),
    );
    const watch = watchAcknowledged(writers, central);
    try {
      await workload(writers, 1_500, seeded(3));
      faults.loseRequest = faults.loseResponse = 0;
      expect(watch.stop(), `seed ${SEED}`).toEqual([]);
      expect(stats.lostRequests, 'requests lost').toBeGreaterThan(0);
      expect(stats.lostResponses, 'responses lost after the server handled them').toBeGreaterThan(
        0,
      );
      await expectConvergedAndComplete(writers, central);
    } finally {
      watch.stop();
      await closeWriters(writers);
    }
  });

  it('duplicated, delayed and reordered frames over WebSocket, both ways: all converge', async () => {
    const { name, central } = await freshDatabase('ws-dup');
    const proxy = await WsFaultProxy.start(() => test.url, SEED + 20);
    proxy.faults = { ...NO_FAULTS, duplicate: 0.3, reorder: 0.3, delayMs: 8 };
    const kinds: ReplicaKind[] = ['native', 'wasm', 'native'];
    const writers = await Promise.all(
      kinds.map((kind, i) =>
        openWriter(`d${i}-${kind}`, kind, webSocketTransport(proxy.url, name)),
      ),
    );
    const watch = watchAcknowledged(writers, central);
    try {
      await workload(writers, 1_500, seeded(4));
      expect(proxy.stats.duplicated, 'frames duplicated').toBeGreaterThan(0);
      expect(proxy.stats.reordered, 'frames reordered').toBeGreaterThan(0);
      // Convergence with the faults still on: duplicates and reordering alone never stop sync.
      await expectConvergedAndComplete(writers, central);
      expect(watch.stop(), `seed ${SEED}`).toEqual([]);
    } finally {
      watch.stop();
      await closeWriters(writers);
      await proxy.close();
    }
  });

  it('duplicated and stale replayed requests over HTTP (an old push or pull arriving after newer ones): all converge', async () => {
    const { name, central } = await freshDatabase('http-dup');
    const faults = {
      loseRequest: 0,
      loseResponse: 0,
      duplicate: 0.25,
      replayStale: 0.25,
      delayMs: 4,
    };
    const stats: HttpFaultStats = { lostRequests: 0, lostResponses: 0, duplicated: 0, replayed: 0 };
    const kinds: ReplicaKind[] = ['wasm', 'native', 'native'];
    const writers = await Promise.all(
      kinds.map((kind, i) =>
        openWriter(
          `r${i}-${kind}`,
          kind,
          httpTransport(test.url, name, faultyFetch(faults, SEED + 30 + i, stats)),
        ),
      ),
    );
    const watch = watchAcknowledged(writers, central);
    try {
      await workload(writers, 1_500, seeded(5));
      expect(stats.duplicated, 'requests duplicated').toBeGreaterThan(0);
      expect(stats.replayed, 'stale requests replayed').toBeGreaterThan(0);
      await expectConvergedAndComplete(writers, central);
      expect(watch.stop(), `seed ${SEED}`).toEqual([]);
    } finally {
      watch.stop();
      await closeWriters(writers);
    }
  });

  it('server restarted mid-sync on the same data folder and port: clients reconnect with backoff, no acknowledged write lost, all converge', async () => {
    const { name, central } = await freshDatabase('restart');
    const random = seeded(6);
    const writers = await Promise.all([
      openWriter('s0-native-ws', 'native', webSocketTransport(test.url, name)),
      openWriter('s1-native-http', 'native', httpTransport(test.url, name)),
      openWriter('s2-wasm-ws', 'wasm', webSocketTransport(test.url, name)),
      openWriter('s3-wasm-http', 'wasm', httpTransport(test.url, name)),
    ]);
    const watch = watchAcknowledged(writers, () => (test.running ? central() : undefined));
    try {
      const edits = workload(writers, 2_000, random);
      for (let restart = 0; restart < 3; restart++) {
        await sleep(150 + random() * 250);
        await test.stop();
        await sleep(20 + random() * 150);
        await test.restart();
        // The reopened database holds everything acknowledged before the stop.
        watch.checkAll();
      }
      await edits;
      expect(watch.stop(), `seed ${SEED}`).toEqual([]);
      for (const writer of writers)
        expect(writer.wentOffline, `${writer.name} saw the server go away`).toBe(true);
      await expectConvergedAndComplete(writers, central);
    } finally {
      watch.stop();
      await closeWriters(writers);
      if (!test.running) await test.restart();
    }
  });

  it('a client process killed with SIGKILL mid-sync and restarted on its file: every row it committed reaches the server exactly once, all converge', async () => {
    const { name, central } = await freshDatabase('sigkill');
    const random = seeded(7);
    const folder = await mkdtemp(join(tmpdir(), 'offsync-sigkill-'));
    const file = join(folder, 'child.db');
    const TARGET = 300;
    const child = 'child';
    const children: FixtureProcess[] = [];
    const start = (via: 'websocket' | 'http'): FixtureProcess => {
      const started = FixtureProcess.start('sigkill-writer.mjs', [
        file,
        test.url,
        name,
        test.adminKey,
        child,
        String(TARGET),
        via,
      ]);
      children.push(started);
      return started;
    };
    const committedRows = (): string[] => {
      const replica = openNativeReplica(file, { fileMustExist: true });
      try {
        return query(replica, 'SELECT id FROM ledger WHERE writer = ? ORDER BY n', [child]).map(
          (row) => String(row[0]),
        );
      } finally {
        replica.close();
      }
    };
    // Another client edits the shared rows meanwhile.
    const neighbour = await openWriter('neighbour', 'native', webSocketTransport(test.url, name));
    let stopped = false;
    const edits = (async () => {
      while (!stopped) {
        writeSome(neighbour, random);
        await sleep(5 + random() * 10);
      }
    })();
    const committedBeforeKills: string[][] = [];
    let restarted: Writer | undefined;
    try {
      for (let life = 0; life < 3; life++) {
        const writer = start(life % 2 === 0 ? 'websocket' : 'http');
        await writer.line('ready', 20_000);
        await sleep(100 + random() * 300);
        await writer.kill();
        committedBeforeKills.push(committedRows());
      }
      const last = start('http');
      await last.line('done', 60_000);
      expect((await last.exit(15_000)).code, last.errors).toBe(0);
      stopped = true;
      await edits;

      const local = committedRows();
      expect(local, 'the child wrote every row once').toEqual(
        Array.from({ length: TARGET }, (_, n) => `${child}-${n}`),
      );
      for (const [life, rows] of committedBeforeKills.entries())
        expect(
          rows.every((id) => local.includes(id)),
          `rows committed before kill ${life + 1} survive on the child's file`,
        ).toBe(true);
      expect(
        query(central(), 'SELECT id FROM ledger WHERE writer = ? ORDER BY n', [child]).map((row) =>
          String(row[0]),
        ),
        `every row the child committed is on the server, once (seed ${SEED})`,
      ).toEqual(local);

      // The killed client's file, opened again, converges with the others.
      const replica = await openClientReplica('native', SCHEMA, TABLES, file);
      restarted = {
        name: 'child (reopened)',
        replica,
        acknowledged: [],
        written: 0,
        wentOffline: false,
        client: startLoop(replica, webSocketTransport(test.url, name), test.adminKey),
      };
      await syncUntilConverged(() => [neighbour, restarted!], central, 30_000);
      expect(showLost(lostWrites(central(), neighbour.acknowledged))).toBe('');
    } finally {
      stopped = true;
      await edits;
      for (const started of children) await started.kill();
      await closeWriters([neighbour, ...(restarted ? [restarted] : [])]);
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('server process killed with SIGKILL mid-sync and restarted on the same folder: every acknowledged write is on disk, all converge', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'offsync-server-kill-'));
    const adminKey = generateApiKey('admin');
    const random = seeded(8);
    let port = 0;
    const processes: FixtureProcess[] = [];
    const startServerProcess = async (): Promise<FixtureProcess> => {
      const server = FixtureProcess.start('server-process.mjs', [dataDir, String(port), adminKey]);
      processes.push(server);
      port = Number((await server.line('listening ', 20_000)).split(' ')[1]);
      return server;
    };
    let writers: Writer[] = [];
    try {
      let server = await startServerProcess();
      const url = `http://127.0.0.1:${port}`;
      const name = 'crash';
      const response = await fetch(`${url}/v1/admin/databases`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, schema: SCHEMA }),
      });
      expect(response.status, await response.text()).toBe(200);
      for (const table of TABLES) {
        const enabled = await fetch(`${url}/v1/admin/databases/${name}/tables/${table}/sync`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ enabled: true }),
        });
        expect(enabled.status, await enabled.text()).toBe(200);
      }
      const centralFile = join(dataDir, 'databases', `${name}.db`);
      writers = await Promise.all([
        openWriter('k0-native-ws', 'native', webSocketTransport(url, name), adminKey),
        openWriter('k1-wasm-http', 'wasm', httpTransport(url, name), adminKey),
        openWriter('k2-native-http', 'native', httpTransport(url, name), adminKey),
      ]);
      const violations: string[] = [];
      const onDisk = (): SqliteReplica => openNativeReplica(centralFile, { fileMustExist: true });
      const edits = workload(writers, 2_000, random);
      for (let crash = 0; crash < 2; crash++) {
        await sleep(300 + random() * 300);
        await server.kill();
        // What the crashed server acknowledged must be in its file.
        const central = onDisk();
        try {
          for (const writer of writers) {
            const lost = lostWrites(central, writer.acknowledged);
            if (lost.length > 0)
              violations.push(`crash ${crash + 1}, ${writer.name}: ${showLost(lost)}`);
          }
        } finally {
          central.close();
        }
        await sleep(random() * 100);
        server = await startServerProcess();
      }
      await edits;
      expect(violations, `seed ${SEED}`).toEqual([]);
      // Converge among themselves through the restarted server, then compare with its file.
      await syncUntilConverged(
        () => writers,
        () => writers[0]!.replica,
        30_000,
      );
      await server.kill();
      const central = onDisk();
      try {
        const expected = dumpHex(central);
        for (const writer of writers)
          expect(dumpHex(writer.replica), `${writer.name} equals the central file`).toBe(expected);
        expectComplete(writers, central);
      } finally {
        central.close();
      }
    } finally {
      await closeWriters(writers);
      for (const started of processes) await started.kill();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
