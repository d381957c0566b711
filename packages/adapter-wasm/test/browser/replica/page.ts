/// <reference types="vite/client" />
import { defaultEnv, type Env, type SqlValue } from '@offsync/core';
// The WebAssembly file is part of the bundle: Vite copies it and gives its URL. No CDN.
import wasmUrl from 'sql.js/dist/sql-wasm-browser.wasm?url';
import {
  deleteFromIndexedDb,
  openReplica,
  openReplicaFromIndexedDb,
  saveReplicaToIndexedDb,
  type WasmReplica,
} from '../../../src/index.js';
import { encodeValue } from '../samples.js';
import {
  AFTER_RELOAD,
  CELLS_SQL,
  type CellInput,
  type CellRow,
  type Convergence,
  INITIAL_ROWS,
  REBORN_BLOB,
  type ReopenPhaseResult,
  type ReplicaState,
  SAVED_NAME,
  type SyncPhaseResult,
} from './protocol.js';

const loadOptions = { wasmUrl };
const INSERT = 'INSERT INTO cells(id, kind, v, note) VALUES (?, ?, ?, ?)';

/** A clock the page moves by hand, so which concurrent write is later is decided, not raced. */
function manualEnv(): { env: Env; tick: (ms: number) => void } {
  let now = Date.now();
  return {
    env: { ...defaultEnv, now: () => now },
    tick: (ms) => {
      now += ms;
    },
  };
}

function insert(replica: WasmReplica, row: CellInput): void {
  replica.driver.prepare(INSERT).run([row.id, row.kind, row.v, row.note]);
}

function run(replica: WasmReplica, sql: string, params: readonly SqlValue[]): void {
  replica.driver.prepare(sql).run(params);
}

function readRows(replica: WasmReplica): CellRow[] {
  return replica.driver
    .prepare('SELECT id, kind, v, typeof(v), note FROM cells ORDER BY id')
    .all()
    .map(([id, kind, v, sqlType, note]) => ({
      id: id as string,
      kind: kind as string | null,
      v: encodeValue(v as SqlValue),
      sqlType: sqlType as string,
      note: note as string | null,
    }));
}

// Copied: digest() takes only ArrayBuffer-backed views, and the type of a dump allows shared ones.
async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(bytes)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function compare(a: WasmReplica, b: WasmReplica): Promise<Convergence> {
  const dumpA = a.dump();
  const dumpB = b.dump();
  return {
    dumpsEqual: sameBytes(dumpA, dumpB),
    digests: [await sha256(dumpA), await sha256(dumpB)],
    dumpBytes: dumpA.length,
  };
}

async function stateOf(replica: WasmReplica): Promise<ReplicaState> {
  const version = replica.version;
  const { wall, counter } = replica.clock;
  return {
    site: replica.site,
    version,
    clock: `${wall}:${counter}`,
    digest: await sha256(replica.dump()),
    rows: readRows(replica),
  };
}

async function syncedReplica(env: Env): Promise<WasmReplica> {
  const replica = await openReplica({ env, loadOptions });
  replica.driver.exec(CELLS_SQL);
  replica.enableSync('cells');
  return replica;
}

function show(phase: string, rows: readonly CellRow[]): void {
  document.querySelector('#status')!.textContent = `${phase}: ${rows.length} rows`;
  document.querySelector('#rows')!.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement('tr');
      const text = row.v.text ?? 'NULL';
      for (const cell of [
        row.id,
        row.sqlType,
        text.length > 48 ? `${text.slice(0, 48)}…` : text,
        row.note ?? 'NULL',
      ]) {
        const td = document.createElement('td');
        td.textContent = cell;
        tr.append(td);
      }
      return tr;
    }),
  );
}

async function syncPhase(): Promise<SyncPhaseResult> {
  await deleteFromIndexedDb(SAVED_NAME);
  const { env, tick } = manualEnv();
  const a = await syncedReplica(env);
  const b = await syncedReplica(env);
  try {
    a.driver.exec('BEGIN');
    for (const row of INITIAL_ROWS) insert(a, row);
    a.driver.exec('COMMIT');
    b.applyChanges(a.changesetSince(0).bytes);
    const aSince = a.version;
    const bSince = b.version;

    // Concurrent edits: stamps are given when the captured writes are folded, so each side folds
    // at its own time, B after A.
    tick(10);
    run(a, 'UPDATE cells SET note = ? WHERE id = ?', ['from a', 'p-both-columns']);
    run(a, 'UPDATE cells SET note = ? WHERE id = ?', ['from a', 'q-same-column']);
    run(a, 'DELETE FROM cells WHERE id = ?', ['r-delete-vs-update']);
    run(a, 'UPDATE cells SET note = ? WHERE id = ?', ['old life', 's-reinsert']);
    insert(a, { id: 't-both-insert', kind: 'integer', v: 1n, note: 'a' });
    a.flush();
    tick(10);
    run(b, 'UPDATE cells SET v = ? WHERE id = ?', ['from b', 'p-both-columns']);
    run(b, 'UPDATE cells SET note = ? WHERE id = ?', ['from b', 'q-same-column']);
    run(b, 'UPDATE cells SET note = ? WHERE id = ?', ['lost', 'r-delete-vs-update']);
    run(b, 'DELETE FROM cells WHERE id = ?', ['s-reinsert']);
    insert(b, { id: 's-reinsert', kind: 'blob', v: REBORN_BLOB, note: 'reborn' });
    insert(b, { id: 't-both-insert', kind: 'real', v: 2.5, note: 'b' });
    b.flush();
    tick(10);

    // Both changesets are taken before either is applied: a true two-way exchange.
    const toB = a.changesetSince(aSince);
    const toA = b.changesetSince(bSince);
    b.applyChanges(toB.bytes);
    a.applyChanges(toA.bytes);

    const convergence = await compare(a, b);
    const rowsA = readRows(a);
    const rowsB = readRows(b);
    const saved = await stateOf(a);
    await saveReplicaToIndexedDb(a, SAVED_NAME);
    show('synced, A saved to IndexedDB', rowsA);
    return {
      sites: [a.site, b.site],
      rowsA,
      rowsB,
      exchanged: [toB.rows, toA.rows],
      convergence,
      saved,
    };
  } finally {
    a.close();
    b.close();
  }
}

async function reopenPhase(): Promise<ReopenPhaseResult> {
  const { env, tick } = manualEnv();
  const a = await openReplicaFromIndexedDb(SAVED_NAME, { env, loadOptions, mustExist: true });
  let fresh: WasmReplica | undefined;
  try {
    const reopened = await stateOf(a);
    tick(10);
    insert(a, AFTER_RELOAD);
    const newRows = a.changesetSince(reopened.version).rows;
    const versionAfterWrite = a.version;
    fresh = await syncedReplica(env);
    fresh.applyChanges(a.changesetSince(0).bytes);
    const convergence = await compare(a, fresh);
    const rowsA = readRows(a);
    const freshRows = readRows(fresh);
    show('reopened from IndexedDB, synced to a fresh replica', rowsA);
    await deleteFromIndexedDb(SAVED_NAME);
    return {
      reopened,
      newRows,
      versionAfterWrite,
      freshSite: fresh.site,
      freshRows,
      rowsA,
      convergence,
    };
  } finally {
    a.close();
    fresh?.close();
  }
}

window.offsyncReplicaTest = { syncPhase, reopenPhase };
document.querySelector('#status')!.textContent = 'ready';
