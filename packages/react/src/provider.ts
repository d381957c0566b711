import {
  createContext,
  createElement,
  type ReactElement,
  type ReactNode,
  useContext,
  useEffect,
  useMemo,
} from 'react';
import { MissingSourceError } from './errors.js';
import { refusalLog } from './refusal-log.js';
import type { QueryableReplica, SyncSource } from './sources.js';

/**
 * What an {@link OffsyncProvider} gives the hooks below it.
 *
 * @example
 * ```ts
 * const value: OffsyncContextValue = { replica, client };
 * ```
 */
export interface OffsyncContextValue {
  /** The replica the query hooks read. */
  readonly replica: QueryableReplica | undefined;
  /** The sync client the status and refusal hooks follow. */
  readonly client: SyncSource | undefined;
}

const OffsyncContext = createContext<OffsyncContextValue>({
  replica: undefined,
  client: undefined,
});

/**
 * Props of {@link OffsyncProvider}.
 *
 * @example
 * ```ts
 * const props: OffsyncProviderProps = { replica, client, children: 'app' };
 * ```
 */
export interface OffsyncProviderProps {
  /** The replica for `useQuery` and `useRow`. */
  readonly replica?: QueryableReplica;
  /** The sync client for `useSyncStatus` and `useRefusals`. */
  readonly client?: SyncSource;
  /** The app. */
  readonly children?: ReactNode;
}

function ignore(): void {}

/**
 * Gives a replica and a sync client to every hook below it. With a client it also records the
 * client's refusals for as long as it is mounted, so a `useRefusals` list mounted later still
 * shows them.
 *
 * @example
 * ```tsx
 * createRoot(element).render(
 *   <OffsyncProvider replica={replica} client={client}><App /></OffsyncProvider>,
 * );
 * ```
 */
export function OffsyncProvider(props: OffsyncProviderProps): ReactElement {
  const { replica, client, children } = props;
  const value = useMemo(() => ({ replica, client }), [replica, client]);
  useEffect(() => (client ? refusalLog(client).subscribe(ignore) : undefined), [client]);
  return createElement(OffsyncContext.Provider, { value }, children);
}

/**
 * The replica and client of the nearest {@link OffsyncProvider} (both `undefined` without one).
 *
 * @example
 * ```ts
 * const { replica } = useOffsync();
 * ```
 */
export function useOffsync(): OffsyncContextValue {
  return useContext(OffsyncContext);
}

/**
 * The replica a hook reads: the one passed to it, else the provider's; else throws
 * {@link MissingSourceError} naming the hook.
 *
 * @example
 * ```ts
 * const replica = useReplicaFor('useQuery', options.replica);
 * ```
 */
export function useReplicaFor(
  hook: string,
  replica: QueryableReplica | undefined,
): QueryableReplica {
  // Read on every render, a replica passed or not: hooks must run in a fixed order.
  const context = useOffsync();
  const found = replica ?? context.replica;
  if (found === undefined) throw new MissingSourceError(hook, 'replica');
  return found;
}

/**
 * The sync client a hook follows: the one passed to it, else the provider's; else throws
 * {@link MissingSourceError} naming the hook.
 *
 * @example
 * ```ts
 * const client = useClientFor('useSyncStatus', options.client);
 * ```
 */
export function useClientFor(hook: string, client: SyncSource | undefined): SyncSource {
  const context = useOffsync();
  const found = client ?? context.client;
  if (found === undefined) throw new MissingSourceError(hook, 'client');
  return found;
}
