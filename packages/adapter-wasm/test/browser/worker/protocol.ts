// What the test (Node) and the page (Chromium) agree on: the page's window API and the schema.
import type { BrowserReplicaErrorData } from '../../../src/worker/errors.js';
import type {
  BrowserReplicaStatus,
  ReplicaInfo,
  StorageWarning,
} from '../../../src/worker/protocol.js';

export const TODOS_SQL =
  'CREATE TABLE IF NOT EXISTS todos(id TEXT PRIMARY KEY NOT NULL, title TEXT, n INTEGER, r REAL, b BLOB)';

/** How the page opens its replica. */
export interface OpenRequest {
  readonly name: string;
  /** `no-opfs`: the worker removes OPFS before it starts, as in a browser without it. */
  readonly workerName?: string;
  readonly sync?: { readonly url: string; readonly database: string; readonly token: string };
}

/** What the page saw on opening. */
export interface Opened {
  readonly info: ReplicaInfo;
  readonly status: BrowserReplicaStatus;
  readonly warnings: readonly StorageWarning[];
}

/** A write that failed, as the page caught it. */
export interface WriteFailure {
  readonly id: string;
  readonly error: BrowserReplicaErrorData | string;
}

/** The page's API, driven by the test through `page.evaluate`. */
export interface WorkerTestApi {
  open(request: OpenRequest): Promise<Opened>;
  /** Inserts rows `${prefix}${from}` .. one by one; calls `window.offsyncAck(id)` after each. */
  writeRows(prefix: string, from: number, count: number): Promise<WriteFailure[]>;
  /** Every column of todos through quote(), in primary-key order. */
  dump(): Promise<string[][]>;
  info(): Promise<ReplicaInfo>;
  status(): BrowserReplicaStatus;
  /** Live-query results seen for `SELECT count(*) FROM todos`. */
  liveCounts(): readonly number[];
  /**
   * Starts `count` more live queries (`SELECT count(*) FROM todos WHERE id >= ?`); resolves with
   * how many this page now keeps beyond the one `open` starts.
   */
  watchMore(count: number): Promise<number>;
  /** Results delivered to each query of `watchMore`, in the order they were started. */
  moreCalls(): readonly number[];
  /** onChange events seen. */
  changeCount(): number;
  /** Runs SQL expected to fail; returns the error data. */
  failing(sql: string): Promise<BrowserReplicaErrorData | string>;
  /** Merges bytes that are not a changeset; returns the error data. */
  mergeGarbage(): Promise<BrowserReplicaErrorData | string>;
  /** Posts a forged request on the replica's channel and returns the leader's reply. */
  forge(name: string): Promise<unknown>;
}

declare global {
  interface Window {
    offsyncWorkerTest?: WorkerTestApi;
    offsyncAck?: (id: string) => Promise<void>;
  }
}
