import {
  type ClientMessage,
  SchemaError,
  type ServerMessage,
  type SqliteReplica,
  SyncClient,
  type Transport,
  TransportClosedError,
  type TransportEvent,
  type WriteRefusal,
} from '@offsync/core';
import { describe, expect, it } from 'vitest';
import { dumpHex, openClientReplica, query, run } from './support/replicas.js';
import { useSharedServer } from './support/shared-server.js';
import {
  FAST_LOOP,
  httpTransport,
  startLoop,
  syncUntilConverged,
  type TestClient,
  type Via,
  webSocketTransport,
} from './support/sync-clients.js';
import { waitUntil } from './support/wait.js';

// What the client tells the app (issue 9, items 11, 12, 13, 15): lifecycle, refusals, oversized
// rows and schema drift, each through the real server on 127.0.0.1 and real SQLite.
const SCHEMA = 'CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, a TEXT, b BLOB)';
const TABLES = ['items'];

const shared = useSharedServer('feedback', SCHEMA, TABLES);

function transportFor(via: Via, database: string) {
  return via === 'http'
    ? httpTransport(shared.server.url, database)
    : webSocketTransport(shared.server.url, database);
}

async function client(name: string, database: string, via: Via): Promise<TestClient> {
  const replica = await openClientReplica('native', SCHEMA, TABLES);
  const loop = startLoop(replica, transportFor(via, database), shared.server.adminKey);
  return shared.track({ name, replica, client: loop });
}

describe.each(['websocket', 'http'] as const)('client lifecycle over %s', (via) => {
  it('disconnect() then start() resumes syncing on the same transport', async () => {
    const { name, central } = await shared.freshDatabase();
    const device = await client('device', name, via);
    run(device.replica, "INSERT INTO items(id, a) VALUES ('before', 'x')");
    await syncUntilConverged(() => [device], central);

    await device.client.disconnect();
    expect(device.client.status.state).toBe('offline');
    run(device.replica, "INSERT INTO items(id, a) VALUES ('paused', 'y')");

    device.client.start();
    // Before the fix the transport stayed closed and every cycle failed with "transport closed".
    await waitUntil(
      () =>
        device.client.status.state === 'synced' && dumpHex(device.replica) === dumpHex(central()),
      {
        timeoutMs: 10_000,
        message: () =>
          `not resumed: ${device.client.status.state} ${device.client.status.error?.message}`,
      },
    );
    // And again: pause/resume is repeatable.
    await device.client.disconnect();
    device.client.start();
    run(device.replica, "INSERT INTO items(id, a) VALUES ('again', 'z')");
    await syncUntilConverged(() => [device], central);
    expect(dumpHex(device.replica)).toBe(dumpHex(central()));
  });
});

/** Every row of items, each column as SQL text of its exact bytes and storage class. */
function rowBytes(replica: SqliteReplica): unknown[][] {
  return query(replica, 'SELECT quote(id), quote(a), quote(b) FROM items ORDER BY id');
}

/** What the admin API (and so the dashboard) counts of refused rows. */
async function refusalCounts(
  database: string,
  site: string,
): Promise<{ device: number | undefined; total: number }> {
  const devices = (await shared.server.admin('GET', `/databases/${database}/devices`)) as {
    site: string;
    refusals: number;
  }[];
  const metrics = (await shared.server.admin('GET', `/databases/${database}/metrics`)) as {
    totals: { rowsRefused: number };
  };
  return {
    device: devices.find((device) => device.site === site)?.refusals,
    total: metrics.totals.rowsRefused,
  };
}

describe('a transport that cannot reopen', () => {
  it('makes start() after disconnect() throw TransportClosedError instead of looping', async () => {
    const { name } = await shared.freshDatabase();
    const inner = webSocketTransport(shared.server.url, name);
    const once: Transport = {
      request: (message) => inner.request(message),
      subscribe: (listener) => inner.subscribe(listener),
      close: () => inner.close(),
    };
    const replica = await openClientReplica('native', SCHEMA, TABLES);
    const loop = startLoop(replica, once, shared.server.adminKey, { pollMs: 0 });
    const device = shared.track({ name: 'device', replica, client: loop });
    await device.client.syncNow();
    await device.client.disconnect();
    expect(() => device.client.start()).toThrow(TransportClosedError);
  });
});

/** A database whose users may insert anything but a row with `a = 'forbidden'`. */
async function guardedDatabase(): Promise<{ name: string; central: () => SqliteReplica }> {
  const database = await shared.freshDatabase();
  for (const [operation, expression] of [
    ['select', 'true'],
    ['insert', "a IS NOT 'forbidden'"],
    ['update', 'true'],
    ['delete', 'true'],
  ] as const)
    await shared.server.admin('PUT', `/databases/${database.name}/policies/items/${operation}`, {
      expression,
    });
  return database;
}

/** A client that syncs only when asked, recording what it is told about lost writes. */
async function userClient(
  name: string,
  database: string,
  via: Via,
  options: {
    schema?: string;
    tables?: readonly string[];
    before?: (r: SqliteReplica) => void;
  } = {},
): Promise<TestClient & { refusals: WriteRefusal[] }> {
  const replica = await openClientReplica(
    'native',
    options.schema ?? SCHEMA,
    options.tables ?? TABLES,
  );
  options.before?.(replica);
  const refusals: WriteRefusal[] = [];
  const loop = new SyncClient(replica, {
    ...FAST_LOOP,
    pollMs: 0,
    transport: transportFor(via, database),
    token: await shared.server.userToken(`user-${name}`),
  });
  loop.onRefusal((refusal) => refusals.push(refusal));
  return { ...shared.track({ name, replica, client: loop }), refusals };
}

describe.each(['websocket', 'http'] as const)('refused writes over %s', (via) => {
  it('tells the app which row the server refused, with its key, lost values and reason', async () => {
    const { name, central } = await guardedDatabase();
    const device = await userClient('device', name, via);
    run(device.replica, "INSERT INTO items(id, a) VALUES ('ok', 'fine'), ('bad', 'forbidden')");
    await device.client.syncNow();
    // The refused row is rolled back to the server's state (absent); before the fix nothing
    // but `status.refusedRows` (a packed hex key) said so.
    expect(device.refusals).toEqual([
      {
        kind: 'refused',
        table: 'items',
        key: ['bad'],
        values: { a: 'forbidden', b: null },
        deleted: false,
        reason: expect.stringContaining('insert'),
      },
    ]);
    expect(query(device.replica, "SELECT count(*) FROM items WHERE id = 'bad'")).toEqual([[0n]]);
    await device.client.syncNow();
    expect(device.client.status.state).toBe('synced');
    expect(dumpHex(device.replica)).toBe(dumpHex(central()));
    // The dashboard counts it, for the device and in the metrics.
    expect(await refusalCounts(name, device.replica.site)).toEqual({ device: 1, total: 1 });
  });

  it('tells the app when its insert lost to a delete it never saw', async () => {
    const { name, central } = await guardedDatabase();
    const first = await userClient('first', name, via);
    run(first.replica, "INSERT INTO items(id, a) VALUES ('k', 'one')");
    await first.client.syncNow();
    run(first.replica, "DELETE FROM items WHERE id = 'k'");
    await first.client.syncNow();
    // A device that never heard of k writes it: its life 1 loses to the server's life 2.
    const late = await userClient('late', name, via, {
      before: (replica) => run(replica, "INSERT INTO items(id, a) VALUES ('k', 'two')"),
    });
    await late.client.syncNow();
    expect(late.refusals).toEqual([
      {
        kind: 'superseded',
        table: 'items',
        key: ['k'],
        values: { a: 'two', b: null },
        deleted: false,
        reason: expect.stringContaining('deleted on another device'),
      },
    ]);
    // A user's replica holds no tombstones of rows it may not see: compare the rows, by bytes.
    expect(rowBytes(late.replica)).toEqual(rowBytes(central()));
    expect(rowBytes(late.replica)).toEqual([]);
    expect(await refusalCounts(name, late.replica.site)).toEqual({ device: 1, total: 1 });
  });

  it('counts unsent changes of a table the server refuses as pending', async () => {
    const { name } = await guardedDatabase();
    const device = await userClient('device', name, via, {
      schema: `${SCHEMA}; CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, body TEXT)`,
      tables: ['items', 'notes'],
    });
    run(device.replica, "INSERT INTO notes VALUES ('n1', 'kept here'), ('n2', 'and here')");
    run(device.replica, "INSERT INTO items(id, a) VALUES ('i', 'synced')");
    const status = await device.client.syncNow();
    expect(Object.keys(status.refusedTables)).toEqual(['notes']);
    // Two changes per notes row (its sentinel and body): before the fix, 0.
    expect(status.pending).toBe(4);
  });

  it("reports the device's pending count after its push to the server's device list", async () => {
    const { name } = await guardedDatabase();
    const device = await userClient('device', name, via);
    run(device.replica, "INSERT INTO items(id, a) VALUES ('1', 'a'), ('2', 'b'), ('3', 'c')");
    await device.client.syncNow();
    expect(device.client.status.pending).toBe(0);
    const devices = (await shared.server.admin('GET', `/databases/${name}/devices`)) as {
      site: string;
      pending: number;
    }[];
    // Before the fix the pull reported the size of the push's last page.
    expect(devices.find((d) => d.site === device.replica.site)?.pending).toBe(0);
  });
});

/** Passes everything through but the server's `maxMessageBytes`: a server that does not say it. */
class SilentLimit implements Transport {
  readonly #inner: Transport;

  constructor(inner: Transport) {
    this.#inner = inner;
  }

  async request(message: ClientMessage): Promise<ServerMessage> {
    const response = await this.#inner.request(message);
    if (response.type !== 'welcome') return response;
    const { maxMessageBytes: _hidden, ...rest } = response;
    return rest;
  }

  subscribe(listener: (event: TransportEvent) => void): () => void {
    return this.#inner.subscribe(listener);
  }

  close(): void {
    this.#inner.close();
  }

  reopen(): void {
    this.#inner.reopen?.();
  }
}

const BIG = 17 * 1024 * 1024;

describe.each(['websocket', 'http'] as const)('an oversized row over %s', (via) => {
  for (const told of [true, false]) {
    it(`is held back and named while everything else syncs (${told ? 'limit from welcome' : 'limit learned from the refusal'})`, async () => {
      const { name, central } = await shared.freshDatabase();
      const replica = await openClientReplica('native', SCHEMA, TABLES);
      const refusals: WriteRefusal[] = [];
      const inner = transportFor(via, name);
      const loop = new SyncClient(replica, {
        ...FAST_LOOP,
        pollMs: 0,
        transport: told ? inner : new SilentLimit(inner),
        token: shared.server.adminKey,
      });
      loop.onRefusal((refusal) => refusals.push(refusal));
      const device = shared.track({ name: 'device', replica, client: loop });
      run(replica, 'INSERT INTO items(id, a, b) VALUES (?, ?, randomblob(?))', ['big', 'x', BIG]);
      run(replica, "INSERT INTO items(id, a) VALUES ('small', 'fits')");

      // Before the fix every push failed (413 over HTTP; close 1009, reported `offline`, over a
      // WebSocket) and the small row never left the device.
      const status = await device.client.syncNow();
      expect(status.state).toBe('synced');
      expect(refusals.map(({ kind, table, key }) => ({ kind, table, key }))).toEqual([
        { kind: 'too-large', table: 'items', key: ['big'] },
      ]);
      expect(refusals[0]!.reason).toMatch(/message limit of \d+ bytes/);
      expect((refusals[0]!.values.b as Uint8Array).length).toBe(BIG);
      expect(status.oversizedRows).toEqual([{ table: 'items', key: ['big'] }]);
      // Its sentinel and two cells stay pending, visibly.
      expect(status.pending).toBe(3);
      expect(query(central(), "SELECT quote(a) FROM items WHERE id = 'small'")).toEqual([
        ["'fits'"],
      ]);
      expect(query(central(), "SELECT count(*) FROM items WHERE id = 'big'")).toEqual([[0n]]);

      // Once the row changes and fits, it goes like any other.
      run(replica, "UPDATE items SET b = x'00ff' WHERE id = 'big'");
      const after = await device.client.syncNow();
      expect(after.oversizedRows).toEqual([]);
      expect(after.pending).toBe(0);
      expect(dumpHex(replica)).toBe(dumpHex(central()));
    });
  }
});

const TWO_TABLES = `${SCHEMA}; CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, title TEXT)`;

describe('schema changes made without beginAlter', () => {
  it('an added nullable column is taken up and syncs', async () => {
    const replica = await openClientReplica('native', TWO_TABLES, ['items', 'notes']);
    run(replica, "INSERT INTO notes VALUES ('n', 'first')");
    const before = replica.tableInfo('notes').fingerprint;
    replica.driver.exec('ALTER TABLE notes ADD COLUMN body TEXT');
    // Seen at the next read or merge (one PRAGMA schema_version); writes from then on are
    // captured, as after commitAlter.
    replica.flush();
    run(replica, "UPDATE notes SET body = 'later' WHERE id = 'n'");
    // Before the fix the column was never captured: no change named it, the fingerprint stayed.
    const changes = replica.changesSince(0, { tables: ['notes'] }).changes;
    expect(changes.filter((c) => c.column === 'body').map((c) => c.value)).toEqual(['later']);
    expect(replica.tableInfo('notes').fingerprint).not.toBe(before);
    expect(replica.schemaDrift().size).toBe(0);
    replica.close();
  });

  it('a renamed column stops that table with a typed error naming the fix; the others sync', async () => {
    const database = await shared.freshDatabase();
    const replica = await openClientReplica('native', TWO_TABLES, ['items', 'notes']);
    const loop = startLoop(
      replica,
      webSocketTransport(shared.server.url, database.name),
      shared.server.adminKey,
      { pollMs: 0 },
    );
    const device = shared.track({ name: 'device', replica, client: loop });
    run(replica, "INSERT INTO notes VALUES ('n', 'first')");
    await device.client.syncNow();
    replica.driver.exec('ALTER TABLE notes RENAME COLUMN title TO heading');
    run(replica, "INSERT INTO notes VALUES ('n2', 'after the rename')");
    run(replica, "INSERT INTO items(id, a) VALUES ('i', 'still syncs')");
    // Before the fix every sync failed with "no such column" and nothing else went.
    const status = await device.client.syncNow();
    expect(status.state).toBe('synced');
    expect(query(database.central(), "SELECT quote(a) FROM items WHERE id = 'i'")).toEqual([
      ["'still syncs'"],
    ]);
    const drift = replica.schemaDrift().get('notes');
    expect(drift).toBeInstanceOf(SchemaError);
    expect([drift?.table, drift?.problem]).toEqual(['notes', 'schema-drift']);
    expect(drift?.fix).toContain("beginAlter('notes')");
    expect(status.refusedTables.notes?.message).toContain('notes');
    expect(() => replica.changesSince(0, { tables: ['notes'] })).toThrow(SchemaError);

    // The documented fix takes it up again.
    replica.beginAlter('notes');
    replica.commitAlter('notes', { renamed: { title: 'heading' } });
    expect(replica.schemaDrift().size).toBe(0);
    expect(replica.changesSince(0, { tables: ['notes'] }).changes.length).toBeGreaterThan(0);
  });

  it.each(['websocket', 'http'] as const)(
    'a connected client whose server migrated says hello again instead of failing (%s)',
    async (via) => {
      const database = await shared.freshDatabase();
      const device = await client('device', database.name, via);
      run(device.replica, "INSERT INTO items(id, a) VALUES ('1', 'x')");
      await syncUntilConverged(() => [device], database.central);
      const central = database.central();
      central.beginAlter('items');
      central.driver.exec('ALTER TABLE items ADD COLUMN c TEXT');
      central.commitAlter('items');
      run(device.replica, "INSERT INTO items(id, a) VALUES ('2', 'y')");
      // Before the fix every cycle failed with the server's fingerprint error on the old session.
      const status = await device.client.syncNow();
      expect(status.state).toBe('synced');
      expect(status.refusedTables.items?.code).toBe('schema-mismatch');
      expect(status.pending).toBeGreaterThan(0);
    },
  );
});
