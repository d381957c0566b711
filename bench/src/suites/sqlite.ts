import { randomUUID } from 'node:crypto';
import type { SqlValue } from '@offsync/core';
import { comparePair } from '../harness.js';
import type { BenchResult } from '../result.js';
import { type BenchDb, type Engine, nodeEngine, type Storage } from './sqlite-engine.js';
import type { SuiteContext } from './suite.js';

type KeyKind = 'int' | 'uuid';

// Floors below the (insert 0.5, update 0.4, merge.fresh 0.3), with room for CI noise at
// the quick size: see docs/benchmarks.md for what was measured and what limits them.
const INSERT_FLOOR = 0.4;
const UPDATE_FLOOR = 0.3;
const MERGE_FRESH_FLOOR = 0.2;
const MERGE_CONFLICT_FLOOR = 0.05;

/** The bytes of the rows' keys and values themselves (UTF-8 text, 8-byte reals, minimal ints). */
function dataBytes(rows: readonly SqlValue[][]): number {
  let total = 0;
  for (const row of rows) {
    for (const value of row) {
      if (typeof value === 'string') total += Buffer.byteLength(value);
      else if (typeof value === 'number') total += 8;
      else if (typeof value === 'bigint')
        total += Math.max(1, Math.ceil((value < 0n ? -value : value).toString(16).length / 2));
      else if (value instanceof Uint8Array) total += value.length;
    }
  }
  return total;
}

const INSERT = 'INSERT INTO items(id, a, b, c) VALUES (?, ?, ?, ?)';
const UPDATE = 'UPDATE items SET b = ? WHERE id = ?';

function tableSql(key: KeyKind): string {
  return key === 'int'
    ? 'CREATE TABLE items(id INTEGER PRIMARY KEY NOT NULL, a TEXT, b INTEGER, c REAL)'
    : 'CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, a TEXT, b INTEGER, c REAL)';
}

function makeRows(key: KeyKind, count: number): SqlValue[][] {
  return Array.from({ length: count }, (_, i) => [
    key === 'int' ? BigInt(i + 1) : randomUUID(),
    `item title number ${i}`,
    BigInt(i * 7),
    i * 0.5 + 0.25,
  ]);
}

async function openTable(
  engine: Engine,
  storage: Storage,
  key: KeyKind,
  synced: boolean,
): Promise<BenchDb> {
  const db = await engine.open(storage, synced);
  db.exec(tableSql(key));
  if (synced) db.replica!.enableSync('items', { allowIntegerPrimaryKey: key === 'int' });
  return db;
}

function insertAll(db: BenchDb, rows: readonly SqlValue[][]): void {
  const insert = db.statement(INSERT);
  db.transaction(() => {
    for (const row of rows) insert(row);
  });
}

function updateAll(
  db: BenchDb,
  rows: readonly SqlValue[][],
  offset: bigint,
  filter: (i: number) => boolean = () => true,
): void {
  const update = db.statement(UPDATE);
  db.transaction(() => {
    rows.forEach((row, i) => {
      if (filter(i)) update([(row[2] as bigint) + offset, row[0]!]);
    });
  });
}

async function populated(
  engine: Engine,
  storage: Storage,
  key: KeyKind,
  synced: boolean,
  rows: readonly SqlValue[][],
): Promise<BenchDb> {
  const db = await openTable(engine, storage, key, synced);
  insertAll(db, rows);
  db.replica?.flush();
  return db;
}

const close = (db: BenchDb): void => db.close();

/** The SQLite suites of DESIGN §8 on every engine, key kind and storage. */
export async function sqliteSuite(
  context: SuiteContext,
  engines: readonly Engine[] = [nodeEngine],
): Promise<BenchResult[]> {
  const count = context.quick ? 20_000 : 100_000;
  const rounds = context.quick ? 3 : 5;
  const results: BenchResult[] = [];
  for (const engine of engines) {
    for (const key of ['int', 'uuid'] as const) {
      const rows = makeRows(key, count);
      for (const storage of engine.storages) {
        const variant = `${engine.name}.${key}.${storage}`;
        const note = `${count} rows, ${variant}`;
        const throughput = (
          id: string,
          timing: { oursMs: number; baselineMs: number; speedRatio: number },
          unit: string,
          per: number,
          floor: number,
          extra = '',
        ): void => {
          results.push({
            id: `${id}.${variant}`,
            value: per / (timing.oursMs / 1000),
            baseline: per / (timing.baselineMs / 1000),
            unit,
            ratio: timing.speedRatio,
            floor,
            note: `${note}${extra}`,
          });
        };

        const insert = await comparePair(
          {
            setup: () => openTable(engine, storage, key, true),
            run: (db) => insertAll(db, rows),
            teardown: close,
          },
          {
            setup: () => openTable(engine, storage, key, false),
            run: (db) => insertAll(db, rows),
            teardown: close,
          },
          // The tightest floor: more rounds, so one noisy round cannot decide it.
          { rounds: rounds + 6 },
        );
        throughput(
          'write.insert',
          insert,
          'rows/s',
          count,
          INSERT_FLOOR,
          '; synced table vs plain table, one transaction',
        );

        const insertFold = await comparePair(
          {
            setup: () => openTable(engine, storage, key, true),
            run: (db) => {
              insertAll(db, rows);
              db.replica!.flush();
            },
            teardown: close,
          },
          {
            setup: () => openTable(engine, storage, key, false),
            run: (db) => insertAll(db, rows),
            teardown: close,
          },
          { rounds },
        );
        throughput(
          'write.insertFold',
          insertFold,
          'rows/s',
          count,
          0.2,
          '; insert plus folding the captured log into sync metadata',
        );

        const update = await comparePair(
          {
            setup: () => populated(engine, storage, key, true, rows),
            run: (db) => updateAll(db, rows, 1n),
            teardown: close,
          },
          {
            setup: () => populated(engine, storage, key, false, rows),
            run: (db) => updateAll(db, rows, 1n),
            teardown: close,
          },
          // Quick runs are short: more rounds, so one noisy round cannot decide the floor.
          { rounds: rounds + 4 },
        );
        throughput(
          'write.update',
          update,
          'rows/s',
          count,
          UPDATE_FLOOR,
          '; UPDATE of one column per row',
        );

        const source = await populated(engine, storage, key, true, rows);
        const changeset = source.replica!.changesetSince(0).bytes;
        source.close();
        const mergeFresh = await comparePair(
          {
            setup: () => openTable(engine, storage, key, true),
            run: (db) => db.replica!.applyChanges(changeset),
            teardown: close,
          },
          {
            setup: () => openTable(engine, storage, key, false),
            run: (db) => insertAll(db, rows),
            teardown: close,
          },
          { rounds: rounds + 2 },
        );
        throughput(
          'merge.fresh',
          mergeFresh,
          'rows/s',
          count,
          MERGE_FRESH_FLOOR,
          `; ${changeset.length} byte changeset into an empty replica vs plain INSERT`,
        );

        const mergeConflict = await comparePair(
          {
            setup: async () => {
              const a = await populated(engine, storage, key, true, rows);
              const b = await openTable(engine, storage, key, true);
              b.replica!.applyChanges(a.replica!.changesetSince(0).bytes);
              const cursor = b.replica!.version;
              updateAll(a, rows, 1n, (i) => i % 2 === 1);
              a.replica!.flush();
              updateAll(b, rows, 2n);
              b.replica!.flush();
              updateAll(a, rows, 3n, (i) => i % 2 === 0);
              a.replica!.flush();
              const incoming = b.replica!.changesetSince(cursor).bytes;
              b.close();
              return { a, incoming };
            },
            run: ({ a, incoming }) => a.replica!.applyChanges(incoming),
            teardown: ({ a }) => a.close(),
          },
          {
            setup: () => populated(engine, storage, key, false, rows),
            run: (db) => updateAll(db, rows, 2n),
            teardown: close,
          },
          { rounds },
        );
        throughput(
          'merge.conflict',
          mergeConflict,
          'rows/s',
          count,
          MERGE_CONFLICT_FLOOR,
          '; both sides updated every row, half the incoming cells win; vs plain UPDATE',
        );

        const since = await comparePair(
          {
            setup: () => populated(engine, storage, key, true, rows),
            run: (db) => db.replica!.changesSince(0),
            teardown: close,
          },
          {
            setup: () => populated(engine, storage, key, false, rows),
            run: (db) => db.readAll('SELECT * FROM items'),
            teardown: close,
          },
          { rounds },
        );
        throughput(
          'changes.since',
          since,
          'cells/s',
          count * 3,
          0.1,
          '; all changes after seq 0 vs SELECT * of the table',
        );

        const synced = await populated(engine, storage, key, true, rows);
        const plain = await populated(engine, storage, key, false, rows);
        const syncedBytes = synced.size();
        const plainBytes = plain.size();
        synced.close();
        plain.close();
        results.push({
          id: `storage.overhead.${variant}`,
          value: syncedBytes,
          baseline: plainBytes,
          unit: 'bytes',
          ratio: syncedBytes / plainBytes,
          ceiling: 2.0,
          note: `${note}; pages in use with sync enabled (log folded) vs without`,
        });
        const cells = count * 3;
        results.push({
          id: `codec.bytesPerCell.${variant}`,
          value: changeset.length / cells,
          baseline: 21,
          unit: 'bytes/cell',
          ratio: changeset.length / cells / 21,
          ceiling: 1.5,
          note: `${note}; whole changeset (keys and values included) over cells; baseline is SQLite Sync's measured 21 bytes/cell`,
        });
        const overhead = (changeset.length - dataBytes(rows)) / cells;
        results.push({
          id: `codec.overheadPerCell.${variant}`,
          value: overhead,
          baseline: 12,
          unit: 'bytes/cell',
          ratio: overhead / 12,
          ceiling: 1,
          note: `${note}; changeset bytes beyond the keys' and values' own bytes, over cells; baseline is our 12 bytes/cell target`,
        });
      }
    }
  }
  return results;
}
