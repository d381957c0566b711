/// <reference types="vite/client" />
import type { SqlValue } from '@offsync/core';
import { BrowserReplicaError } from '../../../src/worker/errors.js';
import { type BrowserReplica, openBrowserReplica } from '../../../src/worker/proxy.js';
import { TODOS_SQL, type WorkerTestApi, type WriteFailure } from './protocol.js';

let replica: BrowserReplica | undefined;
const liveCounts: number[] = [];
const more: { calls: number }[] = [];
let changes = 0;

const open = (): BrowserReplica => {
  if (!replica) throw new Error('open first');
  return replica;
};

const errorData = (error: unknown) =>
  error instanceof BrowserReplicaError ? error.data : String(error);

function row(id: string, i: number): SqlValue[] {
  // Every storage class, with values sql.js-era drivers got wrong: a 64-bit integer, a whole REAL.
  return [id, `title ${i} ✓`, 2n ** 62n + BigInt(i), i + 0.5, new Uint8Array([i & 255, 0, 255])];
}

const api: WorkerTestApi = {
  async open(request) {
    const sync = request.sync;
    replica = await openBrowserReplica({
      name: request.name,
      worker: () =>
        new Worker(new URL('./replica.worker.ts', import.meta.url), {
          type: 'module',
          name: request.workerName ?? 'replica',
        }),
      ...(sync
        ? { sync: { url: sync.url, database: sync.database, token: () => sync.token } }
        : {}),
    });
    await replica.exec(TODOS_SQL);
    await replica.enableSync('todos');
    replica.onChange(() => {
      changes++;
    });
    const live = await replica.watch<[bigint]>('SELECT count(*) FROM todos', [], (rows) => {
      liveCounts.push(Number(rows[0]?.[0]));
    });
    liveCounts.push(Number(live.rows[0]?.[0]));
    document.getElementById('status')!.textContent = `open: ${replica.status.role}`;
    return { info: await replica.info(), status: replica.status, warnings: [...replica.warnings] };
  },
  async writeRows(prefix, from, count) {
    const failures: WriteFailure[] = [];
    for (let i = from; i < from + count; i++) {
      const id = `${prefix}${String(i).padStart(4, '0')}`;
      try {
        await open().run(
          'INSERT INTO todos(id, title, n, r, b) VALUES (?, ?, ?, ?, ?)',
          row(id, i),
        );
        await window.offsyncAck?.(id);
      } catch (error) {
        failures.push({ id, error: errorData(error) });
      }
    }
    return failures;
  },
  async dump() {
    return open().query<string[]>(
      'SELECT quote(id), quote(title), quote(n), quote(r), quote(b) FROM todos ORDER BY id',
    );
  },
  info: () => open().info(),
  status: () => open().status,
  liveCounts: () => liveCounts,
  changeCount: () => changes,
  async watchMore(count) {
    for (let i = 0; i < count; i++) {
      const entry = { calls: 0 };
      await open().watch('SELECT count(*) FROM todos WHERE id >= ?', [String(i)], () => {
        entry.calls++;
      });
      more.push(entry);
    }
    return more.length;
  },
  moreCalls: () => more.map((entry) => entry.calls),
  async failing(sql) {
    try {
      await open().exec(sql);
      return 'no error';
    } catch (error) {
      return errorData(error);
    }
  },
  async mergeGarbage() {
    try {
      await open().merge(new Uint8Array([0x4f, 0x53, 0xff, 0xff, 1, 2, 3]));
      return 'no error';
    } catch (error) {
      return errorData(error);
    }
  },
  forge(name) {
    const channel = new BroadcastChannel(`offsync-replica:${name}`);
    const leader = new Promise<string>((resolve) => {
      channel.onmessage = (event: MessageEvent<{ kind: string; leader?: string }>) => {
        if (event.data.kind === 'leader' && event.data.leader) resolve(event.data.leader);
      };
    });
    channel.postMessage({ kind: 'hello', from: 'forger' });
    return leader.then(
      (to) =>
        new Promise((resolve) => {
          channel.onmessage = (event: MessageEvent<{ kind: string; to?: string }>) => {
            if (event.data.kind === 'reply' && event.data.to === 'forger') {
              channel.close();
              resolve(event.data);
            }
          };
          channel.postMessage({
            kind: 'request',
            from: 'forger',
            to,
            id: 1,
            request: { op: 'run', sql: 'DROP TABLE todos', params: [{ evil: true }] },
          });
        }),
    );
  },
};
window.offsyncWorkerTest = api;
