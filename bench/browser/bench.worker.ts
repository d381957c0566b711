// The bench's replica worker: the replica host alone (no sync).
import { serveReplicaWorker } from '@offsync/adapter-wasm';

serveReplicaWorker();
