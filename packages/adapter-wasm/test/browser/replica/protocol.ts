// Shared by the replica page (page.ts, in Chromium) and its test (browser-replica.test.ts, in
// Node): the script both replicas follow, the rows it must end with, and the JSON that crosses
// back to Node (bigints as decimal strings, bytes as hex).
import type { SqlValue } from '@offsync/core';
import { type EncodedValue, encodeValue, SAMPLES } from '../samples.js';

/** The synced table: a key, the storage class written, a value of any class, a note. */
export const CELLS_SQL =
  'CREATE TABLE cells(id TEXT PRIMARY KEY NOT NULL, kind TEXT, v, note TEXT)';

/** The IndexedDB record replica A is saved under. */
export const SAVED_NAME = 'replica-a';

/** A row of `cells` as JSON. */
export interface CellRow {
  readonly id: string;
  readonly kind: string | null;
  readonly v: EncodedValue;
  /** SQLite's `typeof(v)`. */
  readonly sqlType: string;
  readonly note: string | null;
}

/** Two replicas compared inside the page. */
export interface Convergence {
  /** The two `dump()`s are equal byte for byte (compared in the page). */
  readonly dumpsEqual: boolean;
  /** SHA-256 of each dump, hex. */
  readonly digests: readonly [string, string];
  /** Length of the first dump. */
  readonly dumpBytes: number;
}

/** What replica A was when saved, or when reopened. */
export interface ReplicaState {
  readonly site: string;
  readonly version: number;
  /** The HLC's last stamp: `wall:counter`. */
  readonly clock: string;
  /** SHA-256 of `dump()`, hex. */
  readonly digest: string;
  readonly rows: readonly CellRow[];
}

/** What the first phase returns: both replicas after the exchange, and A as saved. */
export interface SyncPhaseResult {
  readonly sites: readonly [string, string];
  readonly rowsA: readonly CellRow[];
  readonly rowsB: readonly CellRow[];
  /** Rows in each direction's changeset: A → B, B → A. */
  readonly exchanged: readonly [number, number];
  readonly convergence: Convergence;
  readonly saved: ReplicaState;
}

/** What the second phase (after the reload) returns. */
export interface ReopenPhaseResult {
  /** Replica A as reopened from IndexedDB, before any write. */
  readonly reopened: ReplicaState;
  /** Rows in A's changeset since the saved version, after one more write. */
  readonly newRows: number;
  /** A's version after that write. */
  readonly versionAfterWrite: number;
  /** A fresh replica B, fed A's whole history. */
  readonly freshSite: string;
  readonly freshRows: readonly CellRow[];
  readonly rowsA: readonly CellRow[];
  readonly convergence: Convergence;
}

/** The page's API, set on `window` once the page is ready. */
export interface ReplicaTestApi {
  /** Two replicas, every storage class, concurrent conflicting edits, exchange, save A. */
  syncPhase(): Promise<SyncPhaseResult>;
  /** Reopens A from IndexedDB, writes one more row, syncs it to a fresh B. */
  reopenPhase(): Promise<ReopenPhaseResult>;
}

declare global {
  interface Window {
    offsyncReplicaTest?: ReplicaTestApi;
  }
}

/** A row as the page writes it. */
export interface CellInput {
  readonly id: string;
  readonly kind: string | null;
  readonly v: SqlValue;
  readonly note: string | null;
}

function kindOf(value: SqlValue): string {
  return encodeValue(value).storage;
}

/** Rows A writes first: every sample of samples.ts, and the rows the conflicts play on. */
export const INITIAL_ROWS: readonly CellInput[] = [
  ...SAMPLES.map(({ id, value }) => ({ id, kind: kindOf(value), v: value, note: 'a' })),
  { id: 'p-both-columns', kind: 'text', v: 'base', note: 'base' },
  { id: 'q-same-column', kind: 'integer', v: 1n, note: 'base' },
  { id: 'r-delete-vs-update', kind: 'real', v: 1.5, note: 'base' },
  { id: 's-reinsert', kind: 'null', v: null, note: 'base' },
];

export const REBORN_BLOB = new Uint8Array(1000).map((_, i) => (i * 7 + 3) & 0xff);

/** The row written after the reload. */
export const AFTER_RELOAD: CellInput = {
  id: 'u-after-reload',
  kind: 'blob',
  v: new Uint8Array([0, 1, 2, 0xfe, 0xff]),
  note: 'after reload',
};

/** `cells` on both replicas after the conflicting edits are exchanged (B's edits are later). */
export function expectedAfterSync(): CellInput[] {
  const byId = new Map(INITIAL_ROWS.map((row) => [row.id, row]));
  // Different columns of one row: both edits kept.
  byId.set('p-both-columns', { id: 'p-both-columns', kind: 'text', v: 'from b', note: 'from a' });
  // One column written on both sides: the later stamp (B's) wins.
  byId.set('q-same-column', { id: 'q-same-column', kind: 'integer', v: 1n, note: 'from b' });
  // A delete never loses to a concurrent update of the same life.
  byId.delete('r-delete-vs-update');
  // B deleted and re-inserted: the new life wins over A's update of the old one.
  byId.set('s-reinsert', { id: 's-reinsert', kind: 'blob', v: REBORN_BLOB, note: 'reborn' });
  // Inserted on both sides at once: one life, the later cells (B's) win.
  byId.set('t-both-insert', { id: 't-both-insert', kind: 'real', v: 2.5, note: 'b' });
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A row as the page reads it back. */
export function encodeRow(row: CellInput, sqlType?: string): CellRow {
  const v = encodeValue(row.v);
  return { id: row.id, kind: row.kind, v, sqlType: sqlType ?? v.storage, note: row.note };
}
