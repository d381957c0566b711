import { OffsyncError } from '@offsync/core';

/**
 * What a failed browser-replica request reports, as plain data so it survives `postMessage` and
 * `BroadcastChannel` intact (class instances lose their fields in a structured clone).
 *
 * - `SqlError`: SQLite or the replica refused the request; `cause` is the original error's type
 *   (`SqliteError`, `NotSyncedError`, ...).
 * - `LeaderLost`: the tab that led closed while this request was with it. A write may or may not
 *   have committed there: it was not acknowledged, so read before retrying.
 * - `Closed`: the replica was closed.
 * - `BadRequest`: the message was not a request this protocol knows (a forged or corrupt message).
 * - `Storage`: the database could not be opened at all.
 *
 * @example
 * ```ts
 * const data: BrowserReplicaErrorData = { type: 'LeaderLost', message: 'the leading tab closed' };
 * ```
 */
export interface BrowserReplicaErrorData {
  /** The kind of failure. */
  readonly type: 'SqlError' | 'LeaderLost' | 'Closed' | 'BadRequest' | 'Storage';
  /** Human-readable detail. */
  readonly message: string;
  /** For `SqlError`: the original error's `type` or class name. */
  readonly cause?: string;
}

/**
 * A browser-replica request failed: `data` says how ({@link BrowserReplicaErrorData}).
 *
 * @example
 * ```ts
 * try {
 *   await replica.run('INSERT INTO todos VALUES (?, ?)', ['t1', 'milk']);
 * } catch (error) {
 *   if (error instanceof BrowserReplicaError && error.data.type === 'LeaderLost') retryLater();
 * }
 * ```
 */
export class BrowserReplicaError extends OffsyncError {
  readonly type = 'BrowserReplicaError';
  /** The failure, as it crossed the worker boundary. */
  readonly data: BrowserReplicaErrorData;

  constructor(data: BrowserReplicaErrorData) {
    super(`${data.type}: ${data.message}`);
    this.data = data;
  }
}

/**
 * Turns anything thrown inside the worker into plain error data.
 *
 * @example
 * ```ts
 * const data = toErrorData(new Error('no such table: x')); // { type: 'SqlError', ... }
 * ```
 */
export function toErrorData(error: unknown): BrowserReplicaErrorData {
  if (error instanceof BrowserReplicaError) return error.data;
  if (error instanceof Error) {
    const cause = (error as { type?: unknown }).type;
    return {
      type: 'SqlError',
      message: error.message,
      cause: typeof cause === 'string' ? cause : error.name,
    };
  }
  return { type: 'SqlError', message: String(error) };
}
