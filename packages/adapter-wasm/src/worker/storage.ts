import { SqliteReplica } from '@offsync/core';
import { type SqliteWasmDatabase, SqliteWasmDriver } from '../sqlite-wasm/driver.js';
import { loadSqliteWasm } from '../sqlite-wasm/load.js';
import type { StorageKind, StorageWarning } from './protocol.js';

/**
 * The leader's open database and where it lives.
 *
 * @example
 * ```ts
 * const storage: WorkerStorage = await openWorkerStorage('todos');
 * if (storage.warning) console.warn(storage.warning.reason);
 * ```
 */
export interface WorkerStorage {
  /** Where the database lives. */
  readonly kind: StorageKind;
  /** The replica over it. */
  readonly replica: SqliteReplica;
  /** Set when durable storage was missing and the replica fell back to memory. */
  readonly warning?: StorageWarning;
}

const VFS = 'offsync-sahpool';
// A leader that just died may still hold the pool's sync access handles for a moment (the
// browser releases them when its worker is torn down): its successor retries this long.
const HANDOVER_MS = 10_000;
const RETRY_MS = 100;

function opfsMissing(): string | undefined {
  const g = globalThis as { FileSystemFileHandle?: { prototype?: object } };
  if (typeof navigator.storage?.getDirectory !== 'function') {
    return 'navigator.storage.getDirectory is missing (no OPFS here)';
  }
  if (
    !g.FileSystemFileHandle?.prototype ||
    !('createSyncAccessHandle' in g.FileSystemFileHandle.prototype)
  ) {
    return 'FileSystemFileHandle.createSyncAccessHandle is missing (OPFS sync access needs a worker)';
  }
  return undefined;
}

function replicaOn(driver: SqliteWasmDriver): SqliteReplica {
  try {
    // No WAL on the SAH pool (it has no shared memory); the rollback journal with
    // synchronous=FULL makes each COMMIT durable before the call returns. TRUNCATE keeps the
    // journal's pool slot: DELETE re-creates it at every commit, and a tab killed between
    // makes the pool drop that slot ("bad digest") on the next open, hot journal and all.
    driver.exec(
      'PRAGMA journal_mode = TRUNCATE; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY',
    );
    return SqliteReplica.open(driver);
  } catch (error) {
    driver.close();
    throw error;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens the replica `name` on the OPFS SAH-pool VFS (SQLite's `opfs-sahpool`: synchronous
 * access handles, so every commit is on disk before the call returns), or in memory with a
 * `storage-fallback` warning where OPFS or its synchronous access is missing. Worker only.
 *
 * @example
 * ```ts
 * const { replica, kind } = await openWorkerStorage('todos'); // kind: 'opfs-sahpool'
 * ```
 */
export async function openWorkerStorage(name: string): Promise<WorkerStorage> {
  const sqlite3 = await loadSqliteWasm();
  const missing = opfsMissing();
  if (missing !== undefined) {
    return {
      kind: 'memory',
      replica: replicaOn(
        new SqliteWasmDriver(sqlite3, new sqlite3.oo1.DB(':memory:', 'c') as SqliteWasmDatabase),
      ),
      warning: { type: 'storage-fallback', storage: 'memory', reason: missing },
    };
  }
  const started = Date.now();
  let pool: Awaited<ReturnType<typeof sqlite3.installOpfsSAHPoolVfs>>;
  for (let attempt = 0; ; attempt++) {
    try {
      pool = await sqlite3.installOpfsSAHPoolVfs({
        name: VFS,
        directory: `.offsync/${name}`,
        forceReinitIfPreviouslyFailed: attempt > 0,
      } as Parameters<typeof sqlite3.installOpfsSAHPoolVfs>[0]);
      break;
    } catch (error) {
      if (Date.now() - started > HANDOVER_MS) throw error;
      await sleep(RETRY_MS);
    }
  }
  return {
    kind: 'opfs-sahpool',
    replica: replicaOn(
      new SqliteWasmDriver(
        sqlite3,
        new pool.OpfsSAHPoolDb(`/${name}.sqlite3`) as SqliteWasmDatabase,
      ),
    ),
  };
}
