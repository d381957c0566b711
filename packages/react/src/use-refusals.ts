import type { WriteRefusal } from '@offsync/core';
import { useMemo, useSyncExternalStore } from 'react';
import { useClientFor } from './provider.js';
import { REFUSAL_LOG_SIZE, refusalLog } from './refusal-log.js';
import type { SyncSource } from './sources.js';

/**
 * Options of {@link useRefusals}.
 *
 * @example
 * ```ts
 * const options: RefusalsOptions = { limit: 5 };
 * ```
 */
export interface RefusalsOptions {
  /** The client to follow (default: the nearest `OffsyncProvider`'s). */
  readonly client?: SyncSource;
  /** At most this many, the newest (default and maximum: 100). */
  readonly limit?: number;
}

/**
 * The local writes the server did not keep (refused by a policy, superseded by a delete, too
 * large), newest first, with the table, key, lost values and reason: without it a refused write
 * only shows as a row quietly reverting. Refusals are recorded while an `OffsyncProvider` with the
 * client, or a component using this hook, is mounted; `refusalLog(client).clear()` forgets them.
 *
 * @example
 * ```tsx
 * function Refusals() {
 *   const refusals = useRefusals({ limit: 3 });
 *   return <ul>{refusals.map((r, i) => <li key={i}>{r.table} {String(r.key[0])}: {r.reason}</li>)}</ul>;
 * }
 * ```
 */
export function useRefusals(options: RefusalsOptions = {}): readonly WriteRefusal[] {
  const client = useClientFor('useRefusals', options.client);
  const log = refusalLog(client);
  const all = useSyncExternalStore(log.subscribe, log.getSnapshot, log.getSnapshot);
  const limit = Math.max(0, Math.min(options.limit ?? REFUSAL_LOG_SIZE, REFUSAL_LOG_SIZE));
  return useMemo(() => (limit >= all.length ? all : all.slice(0, limit)), [all, limit]);
}
