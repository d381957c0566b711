// The messages between a page's proxy, its dedicated worker, and the other tabs' workers. Plain
// structured-clone data only (bigint and Uint8Array survive it; class instances do not).
import type { QueryOptions, ReplicaChange, SqlValue, SyncState } from '@offsync/core';
import type { BrowserReplicaErrorData } from './errors.js';

/**
 * One request the replica answers. `batch` runs its statements in one transaction.
 *
 * @example
 * ```ts
 * const request: ReplicaRequest = { op: 'run', sql: 'DELETE FROM todos WHERE id = ?', params: ['t1'] };
 * ```
 */
export type ReplicaRequest =
  | { readonly op: 'exec'; readonly sql: string }
  | { readonly op: 'run'; readonly sql: string; readonly params: readonly SqlValue[] }
  | {
      readonly op: 'batch';
      readonly statements: readonly {
        readonly sql: string;
        readonly params: readonly SqlValue[];
      }[];
    }
  | {
      readonly op: 'query';
      readonly sql: string;
      readonly params: readonly SqlValue[];
      readonly options: QueryOptions;
    }
  | {
      readonly op: 'watch';
      readonly watchId: string;
      readonly sql: string;
      readonly params: readonly SqlValue[];
      readonly options: QueryOptions;
    }
  | { readonly op: 'unwatch'; readonly watchId: string }
  | { readonly op: 'enableSync'; readonly table: string }
  | { readonly op: 'merge'; readonly changeset: Uint8Array }
  | { readonly op: 'info' };

/**
 * Where the leader keeps the database: the OPFS SAH pool (durable), or memory (the fallback).
 *
 * @example
 * ```ts
 * if (replica.status.storage === 'memory') showBanner('changes are kept only while a tab is open');
 * ```
 */
export type StorageKind = 'opfs-sahpool' | 'memory';

/**
 * The sync client's status as plain data (its `error` reduced to type and message).
 *
 * @example
 * ```ts
 * const sync: PlainSyncStatus = { state: 'synced', pending: 0, localVersion: 3, serverVersion: 9 };
 * ```
 */
export interface PlainSyncStatus {
  /** `synced | syncing | offline | error`. */
  readonly state: SyncState;
  /** Local changes the server has not acknowledged. */
  readonly pending: number;
  /** The replica's local version. */
  readonly localVersion: number;
  /** The server's version, as last reported. */
  readonly serverVersion: number;
  /** The error behind `offline` or `error`. */
  readonly error?: { readonly type: string; readonly message: string };
}

/**
 * A tab's view of the shared replica.
 *
 * @example
 * ```ts
 * replica.onStatus((status) => console.log(status.role, status.storage, status.sync?.state));
 * ```
 */
export interface BrowserReplicaStatus {
  /** `leader`: this tab's worker holds the database; `follower`: it routes to the leader's. */
  readonly role: 'leader' | 'follower';
  /** The leader's storage, once a leader is known. */
  readonly storage: StorageKind | undefined;
  /** The leader's sync status, when it syncs. */
  readonly sync: PlainSyncStatus | undefined;
}

/**
 * Something the app should know although nothing failed: durable storage is missing and the
 * replica runs in memory (`storage-fallback`).
 *
 * @example
 * ```ts
 * replica.onWarning((warning) => console.warn(warning.type, warning.reason));
 * ```
 */
export interface StorageWarning {
  /** The kind of warning. */
  readonly type: 'storage-fallback';
  /** The storage in use instead of OPFS. */
  readonly storage: StorageKind;
  /** Why OPFS could not be used. */
  readonly reason: string;
}

/**
 * What the replica answers to `info`.
 *
 * @example
 * ```ts
 * const { pending, storage, liveQueries } = await replica.info(); // 3, 'opfs-sahpool', 2
 * ```
 */
export interface ReplicaInfo {
  /** The replica's site id (hex). */
  readonly site: string;
  /** The replica's local version. */
  readonly version: number;
  /** Local changes not yet acknowledged by a server (all of them when it never synced). */
  readonly pending: number;
  /** Where the database lives. */
  readonly storage: StorageKind;
  /**
   * Live queries the leading worker runs, for every tab (its own included). A closed, crashed
   * or reloaded tab's queries stop as soon as the browser releases that tab's worker.
   */
  readonly liveQueries: number;
  /** Other tabs' workers the leader serves, each counted until the browser ends it. */
  readonly followers: number;
}

/**
 * Where a worker's sync client connects; the token comes from the page on demand.
 *
 * @example
 * ```ts
 * const target: SyncTarget = { url: 'https://sync.example.com', database: 'todos' };
 * ```
 */
export interface SyncTarget {
  /** Server base URL. */
  readonly url: string;
  /** Database name on the server. */
  readonly database: string;
}

/** @internal A reply to one request. */
export type Reply =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: BrowserReplicaErrorData };

/** @internal Page to its worker. */
export type PageMessage =
  | {
      readonly kind: 'open';
      readonly name: string;
      readonly sync: SyncTarget | undefined;
    }
  | { readonly kind: 'request'; readonly id: number; readonly request: ReplicaRequest }
  | { readonly kind: 'token'; readonly id: number; readonly token: string | undefined };

/** @internal Worker to its page. */
export type WorkerMessage =
  | ({ readonly kind: 'reply'; readonly id: number } & Reply)
  | { readonly kind: 'change'; readonly change: ReplicaChange }
  | { readonly kind: 'rows'; readonly watchId: string; readonly rows: readonly unknown[] }
  | { readonly kind: 'status'; readonly status: BrowserReplicaStatus }
  | { readonly kind: 'warning'; readonly warning: StorageWarning }
  | { readonly kind: 'token-request'; readonly id: number };

/** @internal Worker to worker, over the replica's BroadcastChannel. */
export type ChannelMessage =
  | { readonly kind: 'hello'; readonly from: string }
  | {
      readonly kind: 'leader';
      readonly leader: string;
      readonly storage: StorageKind;
      readonly sync: PlainSyncStatus | undefined;
    }
  | {
      readonly kind: 'request';
      readonly from: string;
      readonly to: string;
      readonly id: number;
      readonly request: ReplicaRequest;
    }
  | ({ readonly kind: 'reply'; readonly to: string; readonly id: number } & Reply)
  | { readonly kind: 'change'; readonly change: ReplicaChange }
  | {
      readonly kind: 'rows';
      readonly to: string;
      readonly watchId: string;
      readonly rows: readonly unknown[];
    }
  | { readonly kind: 'status'; readonly sync: PlainSyncStatus | undefined };

const OPS = new Set([
  'exec',
  'run',
  'batch',
  'query',
  'watch',
  'unwatch',
  'enableSync',
  'merge',
  'info',
]);

function isParams(value: unknown): value is readonly SqlValue[] {
  return (
    Array.isArray(value) &&
    value.every(
      (item) =>
        item === null ||
        typeof item === 'string' ||
        typeof item === 'number' ||
        typeof item === 'bigint' ||
        item instanceof Uint8Array,
    )
  );
}

/**
 * Checks that a message from another realm is a request this protocol knows: a tab of the same
 * origin can post anything on the channel, so nothing is trusted by shape alone.
 *
 * @example
 * ```ts
 * isReplicaRequest({ op: 'exec', sql: 'SELECT 1' }); // true
 * isReplicaRequest({ op: 'drop' }); // false
 * ```
 */
export function isReplicaRequest(value: unknown): value is ReplicaRequest {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  if (typeof r.op !== 'string' || !OPS.has(r.op)) return false;
  switch (r.op) {
    case 'exec':
      return typeof r.sql === 'string';
    case 'run':
      return typeof r.sql === 'string' && isParams(r.params);
    case 'batch':
      return (
        Array.isArray(r.statements) &&
        r.statements.every(
          (s: unknown) =>
            typeof s === 'object' &&
            s !== null &&
            typeof (s as { sql?: unknown }).sql === 'string' &&
            isParams((s as { params?: unknown }).params),
        )
      );
    case 'query':
    case 'watch':
      return (
        typeof r.sql === 'string' &&
        isParams(r.params) &&
        typeof r.options === 'object' &&
        r.options !== null &&
        (r.op === 'query' || typeof r.watchId === 'string')
      );
    case 'unwatch':
      return typeof r.watchId === 'string';
    case 'enableSync':
      return typeof r.table === 'string';
    case 'merge':
      return r.changeset instanceof Uint8Array;
    default:
      return true;
  }
}
