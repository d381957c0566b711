import { randomUUID } from 'node:crypto';
import { openSqliteWasmReplica, openReplica as openSqlJsReplica } from '@offsync/adapter-wasm';
import type { SqliteReplica, SqlValue } from '@offsync/core';
import { comparePair } from '../harness.js';
import type { BenchResult } from '../result.js';
import type { SuiteContext } from './suite.js';

// sqlite-wasm binds through the C API with no SQL rewriting; sql.js rewrites each typed `?` into
// a CAST and binds through its JS layer. Measured (Node 20, 2 shared cores, load ~8): insert
// 1.53x and merge 1.70x sql.js' throughput at 20k rows, 1.27x and 1.30x at the quick 5k. The
// floors catch sqlite-wasm falling behind the driver it replaces, with room for CI noise.
const INSERT_FLOOR = 0.8;
const MERGE_FLOOR = 0.8;

const TABLE = 'CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, a TEXT, b INTEGER, c REAL)';
const INSERT = 'INSERT INTO items(id, a, b, c) VALUES (?, ?, ?, ?)';

type Open = () => Promise<SqliteReplica>;

const SQLITE_WASM: Open = () => openSqliteWasmReplica();
const SQL_JS: Open = () => openSqlJsReplica();

async function table(open: Open): Promise<SqliteReplica> {
  const replica = await open();
  replica.driver.exec(TABLE);
  replica.enableSync('items');
  return replica;
}

function insertAll(replica: SqliteReplica, rows: readonly SqlValue[][]): void {
  const { driver } = replica;
  const insert = driver.prepare(INSERT);
  driver.exec('BEGIN');
  try {
    for (const row of rows) insert.run(row);
    driver.exec('COMMIT');
  } catch (error) {
    driver.exec('ROLLBACK');
    throw error;
  }
}

const close = (replica: SqliteReplica): void => replica.close();

/**
 * The two WebAssembly drivers side by side, in memory in Node: sqlite-wasm (ours, the official
 * build over its C API) against sql.js (the baseline it may replace), on the same rows. Both run
 * OffSync's replica: insert into a synced table, and merge a changeset into an empty replica.
 */
export async function wasmDriversSuite(context: SuiteContext): Promise<BenchResult[]> {
  const count = context.quick ? 5_000 : 20_000;
  const rounds = context.quick ? 5 : 7;
  const rows: SqlValue[][] = Array.from({ length: count }, (_, i) => [
    randomUUID(),
    `item title number ${i}`,
    BigInt(i * 7),
    i * 0.5 + 0.25,
  ]);
  const results: BenchResult[] = [];
  const push = (
    id: string,
    timing: { oursMs: number; baselineMs: number; speedRatio: number },
    floor: number,
    note: string,
  ): void => {
    results.push({
      id,
      value: count / (timing.oursMs / 1000),
      baseline: count / (timing.baselineMs / 1000),
      unit: 'rows/s',
      ratio: timing.speedRatio,
      floor,
      note: `${count} rows, memory; ${note}`,
    });
  };

  const insert = await comparePair(
    { setup: () => table(SQLITE_WASM), run: (r) => insertAll(r, rows), teardown: close },
    { setup: () => table(SQL_JS), run: (r) => insertAll(r, rows), teardown: close },
    { rounds },
  );
  push(
    'wasmDrivers.insert',
    insert,
    INSERT_FLOOR,
    'synced table, one transaction; sqlite-wasm vs sql.js',
  );

  const source = await table(SQLITE_WASM);
  insertAll(source, rows);
  source.flush();
  const changeset = source.changesetSince(0).bytes;
  source.close();
  const merge = await comparePair(
    { setup: () => table(SQLITE_WASM), run: (r) => r.applyChanges(changeset), teardown: close },
    { setup: () => table(SQL_JS), run: (r) => r.applyChanges(changeset), teardown: close },
    { rounds },
  );
  push(
    'wasmDrivers.merge',
    merge,
    MERGE_FLOOR,
    `${changeset.length} byte changeset into an empty replica; sqlite-wasm vs sql.js`,
  );
  return results;
}
