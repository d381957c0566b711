import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminClient, connectNode, issueDevToken, startServer } from '@offsync/adapter-cloud';
import { type NodeReplica, openReplica } from '@offsync/adapter-node';
import { openReplica as openWasmReplica } from '@offsync/adapter-wasm';
import type { SqliteReplica, SqlValue, SyncClient } from '@offsync/core';

// The README quickstart: a real sync server on a temporary data folder, a multi-tenant todo
// schema with row-level security, three replicas (two users; one wasm, two native), concurrent
// offline edits, and convergence.
const SCHEMA = `CREATE TABLE todos(
  id TEXT PRIMARY KEY NOT NULL,
  tenant TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL DEFAULT '',
  done INTEGER NOT NULL DEFAULT 0
)`;

const dataDir = mkdtempSync(join(tmpdir(), 'offsync-demo-'));
const bobDir = mkdtempSync(join(tmpdir(), 'offsync-demo-bob-'));
const say = (text: string): void => console.log(text);

function rowsOf(replica: SqliteReplica): Record<string, SqlValue>[] {
  const rows = replica.driver
    .prepare('SELECT id, tenant, title, done FROM todos ORDER BY id')
    .all();
  return rows.map(([id, tenant, title, done]) => ({ id, tenant, title, done }));
}

function show(name: string, replica: SqliteReplica): void {
  say(`\n${name}:`);
  const rows = rowsOf(replica);
  if (rows.length === 0) say('  (no rows)');
  for (const row of rows)
    say(
      `  ${String(row.id).padEnd(6)} ${String(row.tenant).padEnd(7)} done=${row.done}  ${row.title}`,
    );
}

const server = await startServer({ dataDir, port: 0, log: () => undefined });
let clients: SyncClient[] = [];
try {
  say(`sync server on ${server.url} (data in ${dataDir})`);
  const admin = new AdminClient(server.url, server.generatedAdminKey!);
  await admin.request('POST', '/databases', { name: 'todo-app', schema: SCHEMA });
  await admin.request('PUT', '/databases/todo-app/tables/todos/sync', { enabled: true });
  for (const operation of ['select', 'insert', 'update', 'delete']) {
    await admin.request('PUT', `/databases/todo-app/policies/todos/${operation}`, {
      expression: 'tenant = auth.tenant',
    });
  }
  say('database todo-app: table todos synced, every operation limited to `tenant = auth.tenant`');

  const secret = JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')).jwt
    .hs256Secret as string;
  const aliceToken = await issueDevToken({
    secret,
    sub: 'alice',
    ttlSeconds: 3600,
    claims: { tenant: 'acme' },
  });
  const bobToken = await issueDevToken({
    secret,
    sub: 'bob',
    ttlSeconds: 3600,
    claims: { tenant: 'globex' },
  });

  const prepare = <R extends SqliteReplica>(replica: R): R => {
    replica.driver.exec(SCHEMA);
    replica.enableSync('todos');
    return replica;
  };
  const alicePhone: NodeReplica = prepare(openReplica(':memory:'));
  const aliceBrowser = prepare(await openWasmReplica());
  const bobLaptop: NodeReplica = prepare(openReplica(join(bobDir, 'bob.db')));
  const devices: [string, SqliteReplica, string][] = [
    ['alice-phone (native)', alicePhone, aliceToken],
    ['alice-browser (wasm)', aliceBrowser, aliceToken],
    ['bob-laptop (native, file)', bobLaptop, bobToken],
  ];
  const online = (): SyncClient[] =>
    devices.map(([, replica, token]) =>
      connectNode(replica, {
        url: server.url,
        database: 'todo-app',
        token,
        debounceMs: 10,
        pollMs: 50,
      }),
    );
  const syncAll = async (): Promise<void> => {
    // Twice: the second round brings each device what the others pushed in the first.
    for (let round = 0; round < 2; round++) for (const client of clients) await client.syncNow();
  };
  const write = (replica: SqliteReplica, sql: string, ...params: SqlValue[]): void => {
    replica.driver.prepare(sql).run(params);
  };

  clients = online();
  write(alicePhone, "INSERT INTO todos(id, tenant, title) VALUES ('a1', 'acme', 'Buy milk')");
  write(alicePhone, "INSERT INTO todos(id, tenant, title) VALUES ('a2', 'acme', 'Write report')");
  write(bobLaptop, "INSERT INTO todos(id, tenant, title) VALUES ('b1', 'globex', 'Call the bank')");
  await syncAll();
  say('\nonline: alice wrote a1, a2 on her phone; bob wrote b1. Everyone synced.');

  for (const client of clients) await client.disconnect();
  say('\nall three devices go offline and edit concurrently:');
  write(alicePhone, "DELETE FROM todos WHERE id = 'a1'");
  say('  alice-phone   deletes a1');
  write(aliceBrowser, "UPDATE todos SET title = 'Buy oat milk' WHERE id = 'a1'");
  say('  alice-browser renames a1            (delete vs update: the delete wins)');
  write(aliceBrowser, "UPDATE todos SET done = 1 WHERE id = 'a2'");
  say('  alice-browser ticks a2 done');
  write(alicePhone, "DELETE FROM todos WHERE id = 'a2'");
  write(
    alicePhone,
    "INSERT INTO todos(id, tenant, title) VALUES ('a2', 'acme', 'Write report, second draft')",
  );
  say('  alice-phone   deletes and re-inserts a2 (the re-insert wins, a fresh row: done=0)');
  write(bobLaptop, "UPDATE todos SET done = 1 WHERE id = 'b1'");
  write(bobLaptop, "INSERT INTO todos(id, tenant, title) VALUES ('b2', 'globex', 'Pay invoice')");
  say('  bob-laptop    ticks b1, adds b2');
  write(
    bobLaptop,
    "INSERT INTO todos(id, tenant, title) VALUES ('x1', 'acme', 'Sneaky row in acme')",
  );
  say("  bob-laptop    tries to write into acme's tenant (row-level security will refuse it)");

  say('\nreconnecting...');
  clients = online();
  // The app is told of every write the server did not keep, with the row's key and values.
  const refused: string[] = [];
  clients[2]!.onRefusal((refusal) =>
    refused.push(
      `${refusal.table} ${refusal.key.join('/')} (${refusal.values.title}): ${refusal.reason}`,
    ),
  );
  await syncAll();

  const central = server.store.open('todo-app').replica;
  for (const [name, replica] of devices) show(name, replica);
  show('central database (server)', central);

  say(`\nrefused for bob: ${refused.length > 0 ? refused.join('; ') : 'none'}`);

  const centralAcme = rowsOf(central).filter((row) => row.tenant === 'acme');
  const same = (a: unknown, b: unknown): boolean =>
    JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)) ===
    JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
  const aliceConverged =
    same(rowsOf(alicePhone), rowsOf(aliceBrowser)) &&
    same(rowsOf(alicePhone), centralAcme) &&
    Buffer.from(alicePhone.dump()).equals(Buffer.from(aliceBrowser.dump()));
  const bobConverged = same(
    rowsOf(bobLaptop),
    rowsOf(central).filter((row) => row.tenant === 'globex'),
  );

  // Proof that bob never received acme's rows: not in his table, not in his sync metadata, not
  // anywhere in his database files (bytes of the file and its WAL).
  for (const client of clients) await client.disconnect();
  clients = [];
  bobLaptop.driver.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  const bobBytes = Buffer.concat(
    readdirSync(bobDir).map((file) => readFileSync(join(bobDir, file))),
  );
  const leaked = ['Buy milk', 'Buy oat milk', 'Write report'].filter((text) =>
    bobBytes.includes(Buffer.from(text)),
  );
  const metaKeys = bobLaptop.driver
    .prepare('SELECT k0 FROM offsync_meta_1')
    .all()
    .map(([key]) => String(key));
  const bobIsolated =
    rowsOf(bobLaptop).every((row) => row.tenant === 'globex') &&
    leaked.length === 0 &&
    !metaKeys.some((key) => key.startsWith('a'));
  say(`\nbob's sync metadata knows rows: ${metaKeys.join(', ')}`);
  say(
    `bob's database files (${bobBytes.length} bytes) contain any of alice's texts: ${leaked.length === 0 ? 'no' : `YES: ${leaked.join(', ')}`}`,
  );

  const converged = aliceConverged && bobConverged && bobIsolated && refused.length > 0;
  say(
    converged
      ? '\nconverged: alice-phone and alice-browser are byte-equal and match the server; bob sees only his tenant'
      : `\nNOT converged (alice ${aliceConverged}, bob ${bobConverged}, isolated ${bobIsolated}, refused ${refused.length})`,
  );
  process.exitCode = converged ? 0 : 1;
  for (const [, replica] of devices) replica.close();
} finally {
  for (const client of clients) await client.disconnect();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(bobDir, { recursive: true, force: true });
}
