import type { SyncStatus } from '@offsync/core';
import { useCallback, useSyncExternalStore } from 'react';
import { useClientFor } from './provider.js';
import type { SyncSource } from './sources.js';

/**
 * The sync client's status (`synced | syncing | offline | error`, pending count, versions,
 * refused tables), kept current: the component renders again on every status change.
 *
 * @example
 * ```tsx
 * function SyncBadge() {
 *   const { state, pending } = useSyncStatus();
 *   return <span>{state === 'synced' ? 'saved' : `${pending} to send (${state})`}</span>;
 * }
 * ```
 */
export function useSyncStatus(options: { readonly client?: SyncSource } = {}): SyncStatus {
  const client = useClientFor('useSyncStatus', options.client);
  const subscribe = useCallback(
    (notify: () => void) => {
      const stop = client.on(() => notify());
      return () => {
        stop();
      };
    },
    [client],
  );
  const getSnapshot = useCallback(() => client.status, [client]);
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}
