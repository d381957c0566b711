/// <reference types="vite/client" />
// Runs in Chromium: the same inserts and the same merge on the worker replica (OPFS sahpool,
// durable commits, one postMessage per request) and on sql.js in memory in this page.
import { openBrowserReplica, openReplica } from '@offsync/adapter-wasm';
import type { SqlValue } from '@offsync/core';
import wasmUrl from 'sql.js/dist/sql-wasm-browser.wasm?url';

const SCHEMA =
  'CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, n INTEGER, r REAL, t TEXT, b BLOB)';
const INSERT = 'INSERT INTO items(id, n, r, t, b) VALUES (?, ?, ?, ?, ?)';

/** Figures per operation: rows (or commits) per second, ours (worker) and baseline (sql.js). */
export interface BrowserFigures {
  readonly rows: number;
  readonly commits: number;
  readonly insertBatch: { readonly worker: number; readonly sqljs: number };
  readonly insertSingle: { readonly worker: number; readonly sqljs: number };
  readonly merge: { readonly worker: number; readonly sqljs: number };
}

declare global {
  interface Window {
    offsyncBrowserBench?: (rows: number, commits: number) => Promise<BrowserFigures>;
  }
}

function params(prefix: string, i: number): SqlValue[] {
  return [
    `${prefix}${i}`,
    BigInt(i) * 1_000_003n,
    i / 7,
    `text ${i}`,
    new Uint8Array([i & 255, 1, 2]),
  ];
}

async function perSecond(count: number, body: () => Promise<void> | void): Promise<number> {
  const start = performance.now();
  await body();
  return count / ((performance.now() - start) / 1000);
}

const worker = () =>
  new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module', name: 'bench' });

async function run(rows: number, commits: number): Promise<BrowserFigures> {
  const run = crypto.randomUUID().slice(0, 8);
  const source = await openReplica({ loadOptions: { wasmUrl } });
  source.driver.exec(SCHEMA);
  source.enableSync('items');
  const sqljs = await openReplica({ loadOptions: { wasmUrl } });
  sqljs.driver.exec(SCHEMA);
  sqljs.enableSync('items');
  const inWorker = await openBrowserReplica({ name: `bench-${run}`, worker });
  await inWorker.exec(SCHEMA);
  await inWorker.enableSync('items');

  const statements = Array.from({ length: rows }, (_, i) => ({
    sql: INSERT,
    params: params('a', i),
  }));
  const insertBatchWorker = await perSecond(rows, () => inWorker.batch(statements));
  const insertBatchSqljs = await perSecond(rows, () => {
    sqljs.driver.exec('BEGIN');
    for (const s of statements) sqljs.driver.prepare(s.sql).run(s.params);
    sqljs.driver.exec('COMMIT');
  });

  const insertSingleWorker = await perSecond(commits, async () => {
    for (let i = 0; i < commits; i++) await inWorker.run(INSERT, params('s', i));
  });
  const insertSingleSqljs = await perSecond(commits, () => {
    for (let i = 0; i < commits; i++) sqljs.driver.prepare(INSERT).run(params('s', i));
  });

  source.driver.exec('BEGIN');
  for (let i = 0; i < rows; i++) source.driver.prepare(INSERT).run(params('m', i));
  source.driver.exec('COMMIT');
  const changeset = source.changesetSince(0).bytes;
  const mergeWorker = await perSecond(rows, async () => {
    await inWorker.merge(changeset);
  });
  const mergeSqljs = await perSecond(rows, () => {
    sqljs.applyChanges(changeset);
  });

  inWorker.close();
  source.close();
  sqljs.close();
  return {
    rows,
    commits,
    insertBatch: { worker: insertBatchWorker, sqljs: insertBatchSqljs },
    insertSingle: { worker: insertSingleWorker, sqljs: insertSingleSqljs },
    merge: { worker: mergeWorker, sqljs: mergeSqljs },
  };
}

window.offsyncBrowserBench = run;
document.getElementById('status')!.textContent = 'ready';
