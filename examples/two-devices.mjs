// Two devices of one user, syncing through the embedded server: `node examples/two-devices.mjs`
// from the checkout, after `npm ci && npm run build`. Nothing to install, nothing left behind.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdminClient,
  connectNode,
  databaseAudience,
  issueDevToken,
  loadServerConfig,
  startServer,
} from '@offsync/adapter-cloud';
import { openReplica } from '@offsync/adapter-node';

const schema = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');

// 1. The server: the embedded one, on a free 127.0.0.1 port, its data in a temporary folder.
const dataDir = mkdtempSync(join(tmpdir(), 'offsync-example-'));
const server = await startServer({ dataDir, port: 0, log: () => {} });

// 2. The database, through the admin API (the CLI's `db create`, `table enable`, `policy set`).
const admin = new AdminClient(server.url, server.generatedAdminKey);
await admin.request('POST', '/databases', { name: 'todo-app', schema });
await admin.request('PUT', '/databases/todo-app/tables/todos/sync', { enabled: true });
for (const operation of ['select', 'insert', 'update', 'delete'])
  await admin.request('PUT', `/databases/todo-app/policies/todos/${operation}`, {
    expression: 'owner = auth.sub',
  });
console.log('server: database todo-app, table todos synced, policy owner = auth.sub');

// 3. Tokens bound to the database, what `offsync token issue --sub alice --db todo-app` prints
// (in production your identity provider signs them).
const tokenFor = (sub) =>
  issueDevToken({
    secret: loadServerConfig(dataDir).jwt.hs256Secret,
    sub,
    ttlSeconds: 3600,
    audience: databaseAudience('todo-app'),
  });
const token = await tokenFor('alice');

// 4. Two devices: a SQLite database each, the same schema, sync on for `todos`.
function device() {
  const replica = openReplica(':memory:');
  replica.db.exec(schema);
  replica.enableSync('todos');
  return replica;
}
const phone = device();
const laptop = device();
// `manual`: this script decides when each device syncs, so its output is the same every run; an
// app leaves it out and the client syncs by itself (see examples/app.mjs).
const connect = (replica, as = token) =>
  connectNode(replica, { url: server.url, database: 'todo-app', token: as, manual: true });
const add = (replica, id, title) =>
  replica.db.prepare("INSERT INTO todos(id, owner, title) VALUES (?, 'alice', ?)").run(id, title);

// 5. A live query on the laptop, as a UI would hold one: called back only when its result changes,
// with plain objects and JSON-safe numbers. A merge is delivered as it commits; the app's own
// writes when the replica next looks (its next sync or poll, or `replica.notifyChanges()`).
const live = laptop.watch(
  'SELECT id, title, done FROM todos ORDER BY id',
  [],
  (todos) => {
    const shown = todos.map((todo) => `${todo.id} ${todo.done ? '[x]' : '[ ]'} ${todo.title}`);
    console.log(`  laptop's live query: ${shown.join(', ')}`);
  },
  { rows: 'object', integers: 'number' },
);

// 6. Offline: each device writes to its own SQLite with plain SQL; nothing is lost.
add(phone, 't1', 'Buy milk');
add(laptop, 't2', 'Book flights');
console.log('offline: phone adds t1, laptop adds t2');

// 7. Online: push and pull. The laptop syncs twice: its second sync brings the phone's t1.
console.log('online: both sync');
const phoneSync = connect(phone);
const laptopSync = connect(laptop);
await laptopSync.syncNow();
await phoneSync.syncNow();
await laptopSync.syncNow();

// 8. Offline again, both edit the same row: per-column last-writer-wins keeps both edits.
phone.db.prepare("UPDATE todos SET title = 'Buy oat milk' WHERE id = 't1'").run();
laptop.db.prepare("UPDATE todos SET done = 1 WHERE id = 't1'").run();
console.log('offline: phone renames t1, laptop ticks t1 done');
console.log('online: both sync');
await phoneSync.syncNow();
await laptopSync.syncNow();
await phoneSync.syncNow();

// 9. Both devices hold the same rows, compared as SQL literals (quote() of every column).
const rows = (replica) =>
  replica.db
    .prepare('SELECT quote(id), quote(owner), quote(title), quote(done) FROM todos ORDER BY id')
    .raw()
    .all()
    .map((row) => row.join(', '));
for (const [name, replica] of [
  ['phone', phone],
  ['laptop', laptop],
]) {
  console.log(`${name}:`);
  for (const row of rows(replica)) console.log(`  ${row}`);
}
const same = rows(phone).join('\n') === rows(laptop).join('\n');
console.log(same ? 'converged: phone and laptop hold the same bytes' : 'NOT converged');

// 10. Another user syncs the same database: the select policy shows bob none of alice's rows.
const bobLaptop = device();
const bobSync = connect(bobLaptop, await tokenFor('bob'));
await bobSync.syncNow();
console.log(`bob's laptop: ${rows(bobLaptop).length} row(s)`);
process.exitCode = same && rows(bobLaptop).length === 0 ? 0 : 1;
await bobSync.disconnect();
bobLaptop.close();

live.stop();
await phoneSync.disconnect();
await laptopSync.disconnect();
phone.close();
laptop.close();
await server.close();
rmSync(dataDir, { recursive: true, force: true });
