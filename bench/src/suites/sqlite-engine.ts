import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BetterSqliteDriver, openReplica } from '@offsync/adapter-node';
import {
  openSqlJsDriver,
  openReplica as openWasmReplica,
  type SqlJsDriver,
} from '@offsync/adapter-wasm';
import type { SqliteDriver, SqliteReplica, SqlValue } from '@offsync/core';
import Database from 'better-sqlite3';

/** Where a benchmark database lives. */
export type Storage = 'file' | 'memory';

/** One open benchmark database: the app's write path, optionally a replica, and its size. */
export interface BenchDb {
  /** Runs `fn` in one transaction. */
  transaction(fn: () => void): void;
  /** A prepared statement the app would use, run with positional values. */
  statement(sql: string): (values: readonly SqlValue[]) => void;
  /** Executes SQL. */
  exec(sql: string): void;
  /** Reads every row of a query into JavaScript values (the exact values a replica reads). */
  readAll(sql: string): SqlValue[][];
  /** The replica, when the database was opened as one. */
  readonly replica: SqliteReplica | undefined;
  /** Bytes of the database's pages in use (after a WAL checkpoint for files). */
  size(): number;
  /** Closes and deletes the database. */
  close(): void;
}

/** A SQLite binding the benchmarks run on. */
export interface Engine {
  /** Short name used in result ids (`node`, `wasm`). */
  readonly name: string;
  /** The storages it supports. */
  readonly storages: readonly Storage[];
  /**
   * Opens a fresh empty database, as a replica or plain. Asynchronous because WebAssembly
   * bindings load asynchronously; benchmarks open databases in untimed setup only.
   */
  open(storage: Storage, asReplica: boolean): Promise<BenchDb>;
}

/** better-sqlite3: files in WAL mode with temp_store=MEMORY, or :memory:. */
export const nodeEngine: Engine = {
  name: 'node',
  storages: ['file', 'memory'],
  async open(storage, asReplica) {
    const dir = storage === 'file' ? mkdtempSync(join(tmpdir(), 'offsync-bench-')) : undefined;
    const path = dir ? join(dir, 'bench.db') : ':memory:';
    let db: Database.Database;
    let replica: SqliteReplica | undefined;
    if (asReplica) {
      const opened = openReplica(path);
      db = opened.db;
      replica = opened;
    } else {
      db = new Database(path);
      if (dir) db.pragma('journal_mode = WAL');
      if (dir) db.pragma('synchronous = NORMAL');
      db.pragma('temp_store = MEMORY');
    }
    const driver: SqliteDriver = replica?.driver ?? new BetterSqliteDriver(db);
    return {
      replica,
      transaction: (fn) => db.transaction(fn)(),
      statement: (sql) => {
        const statement = db.prepare(sql);
        return (values) => {
          statement.run(...values);
        };
      },
      exec: (sql) => driver.exec(sql),
      readAll: (sql) => driver.prepare(sql).all(),
      size: () => {
        // Pages in use: free pages (left by the folded change log) are reused by later writes.
        if (dir) db.pragma('wal_checkpoint(TRUNCATE)');
        const pages =
          Number(db.pragma('page_count', { simple: true })) -
          Number(db.pragma('freelist_count', { simple: true }));
        return pages * Number(db.pragma('page_size', { simple: true }));
      },
      close: () => {
        db.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/**
 * sql.js (SQLite compiled to WebAssembly) through `SqlJsDriver`, in memory only: sql.js has no
 * file storage (a database is saved whole, as an image). The plain baseline goes through the same
 * driver, so the ratios compare OffSync with the same binding, not WebAssembly with native code.
 */
export const wasmEngine: Engine = {
  name: 'wasm',
  storages: ['memory'],
  async open(storage, asReplica) {
    if (storage !== 'memory') throw new Error(`the wasm engine has no ${storage} storage`);
    let driver: SqlJsDriver;
    let replica: SqliteReplica | undefined;
    if (asReplica) {
      const opened = await openWasmReplica();
      driver = opened.driver;
      replica = opened;
    } else {
      driver = await openSqlJsDriver();
      // What openReplica sets, so both sides run with the same settings.
      driver.exec('PRAGMA temp_store = MEMORY');
    }
    const pragma = (name: string): number => Number(driver.prepare(`PRAGMA ${name}`).all()[0]![0]);
    return {
      replica,
      transaction: (fn) => {
        driver.exec('BEGIN');
        try {
          fn();
          driver.exec('COMMIT');
        } catch (error) {
          driver.exec('ROLLBACK');
          throw error;
        }
      },
      statement: (sql) => {
        const statement = driver.prepare(sql);
        return (values) => statement.run(values);
      },
      exec: (sql) => driver.exec(sql),
      readAll: (sql) => driver.prepare(sql).all(),
      size: () => (pragma('page_count') - pragma('freelist_count')) * pragma('page_size'),
      close: () => driver.close(),
    };
  },
};
