// The app's worker script: the replica host, with the cloud client's transport for sync.
import { connect } from '@offsync/adapter-cloud/client';
import { serveReplicaWorker } from '../../../src/worker/index.js';

// A browser without OPFS, simulated in the worker (where the replica opens its storage).
if ((globalThis as { name?: string }).name === 'no-opfs') {
  delete (StorageManager.prototype as { getDirectory?: unknown }).getDirectory;
}

serveReplicaWorker({
  connect: (replica, target) =>
    connect(replica, {
      url: target.url,
      database: target.database,
      token: target.token,
      pollMs: 15,
      debounceMs: 5,
      backoff: { initialMs: 20, maxMs: 200, factor: 2, jitter: 0.5 },
    }),
});
