// An app on one device: its own SQLite file, synced with a running server. Start a server and
// get a token first (examples/cli-flow.sh does both with the `offsync` CLI), then:
//   OFFSYNC_TOKEN=<token> node examples/app.mjs alice.db
import { readFileSync } from 'node:fs';
import { connectNode } from '@offsync/adapter-cloud';
import { openReplica } from '@offsync/adapter-node';

const url = process.env.OFFSYNC_URL ?? 'http://127.0.0.1:8787';
const token = process.env.OFFSYNC_TOKEN; // printed by `npx offsync token issue`
if (!token) throw new Error('set OFFSYNC_TOKEN to a token from `npx offsync token issue`');

// The device's database: plain SQLite, the same schema as the server's.
const replica = openReplica(process.argv[2] ?? 'app.db');
replica.db.exec(readFileSync(new URL('./schema.sql', import.meta.url), 'utf8'));
replica.enableSync('todos');

// Plain SQL, online or offline: every write to `todos` is captured and synced. The row's owner
// is the token's user (`--sub alice`), as the policy `owner = auth.sub` requires; OR IGNORE lets
// the app run again on the same file.
replica.db
  .prepare("INSERT OR IGNORE INTO todos(id, owner, title) VALUES ('t1', 'alice', 'Buy milk')")
  .run();

// The client syncs on start, on every local commit and on every change from the server.
const client = connectNode(replica, { url, database: 'todo-app', token });
const settled = new Promise((resolve) =>
  client.on((status) => {
    if (status.state === 'synced' && status.pending === 0) resolve(status);
    // Unreachable (the client keeps retrying with backoff) or refused (a bad token): say why.
    if (status.state === 'error' || (status.state === 'offline' && status.error)) resolve(status);
  }),
);
const status = await settled;
if (status.error) console.error(`${status.state}: ${status.error.message}`);
// Offline is not a failure: the writes wait in the local database for the next sync.
if (status.state === 'error') process.exitCode = 1;
console.log(`${status.state}, ${status.pending} change(s) pending`);
for (const todo of replica.db.prepare('SELECT id, title, done FROM todos ORDER BY id').all())
  console.log(`${todo.id}  ${todo.done ? '[x]' : '[ ]'} ${todo.title}`);

await client.disconnect();
replica.close();
