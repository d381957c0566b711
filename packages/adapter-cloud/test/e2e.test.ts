import {
  type Change,
  MemoryReplica,
  type SqliteReplica,
  type SqlValue,
  type SyncClient,
} from '@offsync/core';
import { historyValueArbitrary, sqlValueArbitrary, toHex } from '@offsync/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dumpHex,
  openClientReplica,
  query,
  type ReplicaKind,
  run,
  showTables,
  tableRows,
} from './support/replicas.js';
import {
  httpTransport,
  startLoop,
  syncUntilConverged,
  type TestClient,
  type Via,
  webSocketTransport,
} from './support/sync-clients.js';
import { TcpGate } from './support/tcp-gate.js';
import { TestServer } from './support/test-server.js';
import { sleep } from './support/wait.js';

// Two tables: a single TEXT key and a composite INTEGER/TEXT key; columns of every affinity,
// one untyped (`c`, `v`) so all five storage classes travel as written.
const SCHEMA = `
  CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, a TEXT, b INTEGER, c, d REAL);
  CREATE TABLE pairs(g INTEGER NOT NULL, k TEXT NOT NULL, v, PRIMARY KEY (g, k));
`;
const TABLES = ['items', 'pairs'] as const;
type TableName = (typeof TABLES)[number];
const VALUE_COLUMNS: Record<TableName, readonly string[]> = {
  items: ['a', 'b', 'c', 'd'],
  pairs: ['v'],
};
const KEYS: Record<TableName, readonly (readonly SqlValue[])[]> = {
  items: ['k0', 'k1', 'k2', 'k3', 'k4'].map((id) => [id]),
  pairs: [
    [0n, 'x'],
    [0n, 'y'],
    [1n, 'x'],
    [1n, 'y'],
  ],
};
const KEY_WHERE: Record<TableName, string> = { items: 'id = ?', pairs: 'g = ? AND k = ?' };

interface ClientSpec {
  readonly name: string;
  readonly kind: ReplicaKind;
  readonly via: Via;
}

// Native and wasm, over WebSocket and HTTP, with the admin key: no row-level security, so every
// replica holds the whole replicated state and dumps compare byte for byte. (User tokens, even
// under open policies, take the filtered path, where a replica lacks the tombstones of rows it
// never held: user-sync.test.ts covers it.)
const CLIENTS: readonly ClientSpec[] = [
  { name: 'native-ws', kind: 'native', via: 'websocket' },
  { name: 'native-http', kind: 'native', via: 'http' },
  { name: 'wasm-ws', kind: 'wasm', via: 'websocket' },
  { name: 'wasm-http', kind: 'wasm', via: 'http' },
  { name: 'native-ws-2', kind: 'native', via: 'websocket' },
];

type Step =
  | {
      readonly kind: 'write';
      readonly client: number;
      readonly table: TableName;
      readonly key: number;
      readonly values: readonly (SqlValue | undefined)[];
    }
  | {
      readonly kind: 'delete';
      readonly client: number;
      readonly table: TableName;
      readonly key: number;
    }
  | { readonly kind: 'offline' | 'online' | 'restart'; readonly client: number }
  | { readonly kind: 'pause'; readonly ms: number };

const client = fc.nat({ max: CLIENTS.length - 1 });
const table = fc.constantFrom(...TABLES);
// Mostly small colliding values; now and then any value of any storage class.
const value = fc.oneof(
  { arbitrary: historyValueArbitrary(), weight: 4 },
  { arbitrary: sqlValueArbitrary(), weight: 1 },
);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc
      .record({
        client,
        table,
        key: fc.nat({ max: 4 }),
        values: fc.array(fc.option(value, { nil: undefined }), { minLength: 4, maxLength: 4 }),
      })
      .map(({ table, key, ...rest }) => ({
        kind: 'write' as const,
        table,
        key: key % KEYS[table].length,
        ...rest,
      })),
    weight: 10,
  },
  {
    arbitrary: fc
      .record({ client, table, key: fc.nat({ max: 4 }) })
      .map(({ table, key, client }) => ({
        kind: 'delete' as const,
        client,
        table,
        key: key % KEYS[table].length,
      })),
    weight: 4,
  },
  {
    arbitrary: fc.record({ kind: fc.constantFrom('offline', 'online', 'restart'), client }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant('pause'), ms: fc.nat({ max: 40 }) }), weight: 3 },
);
const scenario = fc.record({
  steps: fc.array(step, { minLength: 20, maxLength: 60 }),
  pageSize: fc.constantFrom(2, 3, 1000),
});

interface Running extends TestClient {
  readonly spec: ClientSpec;
  readonly gate: TcpGate;
  client: SyncClient;
}

// OFFSYNC_E2E_RUNS raises the count for a soak (each run takes about a second).
const RUNS = Number(process.env.OFFSYNC_E2E_RUNS ?? 6);

let test: TestServer;

beforeAll(async () => {
  test = await TestServer.start();
});

afterAll(async () => {
  await test?.dispose();
});

describe('end to end through a real server on 127.0.0.1', () => {
  it(
    'native and wasm clients over WebSocket and HTTP with random offline edits converge with the central database',
    async () => {
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(scenario, async ({ steps, pageSize }) => {
          const database = `e2e-${++runs}`;
          await test.createDatabase(database, SCHEMA, TABLES);
          const central = (): SqliteReplica => test.server.store.open(database).replica;
          const connectLoop = (
            spec: ClientSpec,
            replica: SqliteReplica,
            gate: TcpGate,
          ): SyncClient =>
            startLoop(
              replica,
              spec.via === 'websocket'
                ? webSocketTransport(gate.url, database)
                : httpTransport(gate.url, database),
              test.adminKey,
              { pageSize },
            );
          const clients: Running[] = [];
          // Every write each client makes, as stamped: merged in memory they are the expected state.
          const produced: Change[] = [];
          try {
            for (const spec of CLIENTS) {
              const replica = await openClientReplica(spec.kind, SCHEMA, TABLES);
              const gate = await TcpGate.start(() => test.port);
              clients.push({
                name: spec.name,
                spec,
                replica,
                gate,
                client: connectLoop(spec, replica, gate),
              });
            }
            for (const action of steps) {
              if (action.kind === 'pause') {
                await sleep(action.ms);
                continue;
              }
              const target = clients[action.client]!;
              switch (action.kind) {
                case 'offline':
                  target.gate.goOffline();
                  break;
                case 'online':
                  target.gate.goOnline();
                  break;
                case 'restart':
                  // The app closes and opens again: a new loop on the same replica and saved cursors.
                  await target.client.disconnect();
                  target.client = connectLoop(target.spec, target.replica, target.gate);
                  break;
                default:
                  produced.push(...write(target.replica, action));
              }
              // Let the loops interleave with the edits.
              await sleep(0);
            }
            for (const running of clients) running.gate.goOnline();
            await syncUntilConverged(() => clients, central, 30_000);

            const expected = dumpHex(central());
            for (const running of clients) {
              expect(dumpHex(running.replica), `${running.name} dump`).toBe(expected);
              for (const name of TABLES) {
                // The app's tables too, value by value with storage classes (the dump reads them
                // through the metadata; this reads them as the app does).
                expect(tableRows(running.replica, name), `${running.name} ${name}`).toEqual(
                  tableRows(central(), name),
                );
              }
            }
            // Nothing written anywhere was lost or merged differently: the central state is the
            // in-memory merge of every stamped write.
            const model = new MemoryReplica();
            model.createTable({
              name: 'items',
              columns: ['id', 'a', 'b', 'c', 'd'],
              primaryKey: ['id'],
            });
            model.createTable({ name: 'pairs', columns: ['g', 'k', 'v'], primaryKey: ['g', 'k'] });
            model.apply(produced);
            expect(
              toHex(model.dump()),
              `central state vs the merge of all writes\n    central: ${showTables(central())}`,
            ).toBe(expected);
          } finally {
            for (const running of clients) {
              await running.client.disconnect();
              await running.gate.close();
              running.replica.close();
            }
          }
        }),
        {
          numRuns: RUNS,
          endOnFailure: true,
          // FC_SEED / FC_PATH replay a reported failure's scenario (timing still varies).
          ...(process.env.FC_SEED
            ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH }
            : {}),
        },
      );
    },
    RUNS * 15_000,
  );
});

/** Applies a write or delete on the replica's connection and returns the changes it stamped. */
function write(
  replica: SqliteReplica,
  action: Extract<Step, { kind: 'write' | 'delete' }>,
): Change[] {
  const before = replica.version;
  const key = KEYS[action.table][action.key]!;
  const where = KEY_WHERE[action.table];
  if (action.kind === 'delete') {
    run(replica, `DELETE FROM ${action.table} WHERE ${where}`, key);
  } else {
    const columns = VALUE_COLUMNS[action.table];
    const chosen = columns
      .map((column, i) => [column, action.values[i]] as const)
      .filter((entry): entry is readonly [string, SqlValue] => entry[1] !== undefined);
    const present = query(replica, `SELECT 1 FROM ${action.table} WHERE ${where}`, key).length > 0;
    if (present) {
      // An update of random columns (at least one).
      const set = chosen.length > 0 ? chosen : [[columns[0]!, null] as const];
      run(
        replica,
        `UPDATE ${action.table} SET ${set.map(([column]) => `${column} = ?`).join(', ')} WHERE ${where}`,
        [...set.map(([, v]) => v), ...key],
      );
    } else {
      // An insert, or a re-insert of a deleted row.
      const keyColumns = action.table === 'items' ? ['id'] : ['g', 'k'];
      const names = [...keyColumns, ...chosen.map(([column]) => column)];
      run(
        replica,
        `INSERT INTO ${action.table}(${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`,
        [...key, ...chosen.map(([, v]) => v)],
      );
    }
  }
  return replica.changesSince(before, { onlySite: replica.site }).changes;
}
