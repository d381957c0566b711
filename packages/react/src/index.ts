export { MissingSourceError, RowKeyError } from './errors.js';
export { queryKey } from './params-key.js';
export {
  type OffsyncContextValue,
  OffsyncProvider,
  type OffsyncProviderProps,
  useOffsync,
} from './provider.js';
export { QueryStore } from './query-store.js';
export { REFUSAL_LOG_SIZE, RefusalLog, refusalLog } from './refusal-log.js';
export { primaryKeyColumns, rowQuery } from './row-sql.js';
export { sameRows } from './same-rows.js';
export type { LiveRows, QueryableReplica, RowOptions, SyncSource } from './sources.js';
export { type QueryHookOptions, useQuery } from './use-query.js';
export { type RefusalsOptions, useRefusals } from './use-refusals.js';
export { useRow } from './use-row.js';
export { useSyncStatus } from './use-sync-status.js';
