export * from './errors.js';
export * from './host.js';
export type {
  BrowserReplicaStatus,
  PlainSyncStatus,
  ReplicaInfo,
  ReplicaRequest,
  StorageKind,
  StorageWarning,
  SyncTarget,
} from './protocol.js';
export { isReplicaRequest } from './protocol.js';
export * from './proxy.js';
export { openWorkerStorage, type WorkerStorage } from './storage.js';
