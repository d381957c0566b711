import type { LiveQuery, SqlValue } from '@offsync/core';
import { comparePair } from '../harness.js';
import type { BenchResult } from '../result.js';
import { type BenchDb, type Engine, nodeEngine, wasmEngine } from './sqlite-engine.js';
import type { SuiteContext } from './suite.js';

// Floors well under what was measured (docs/live-queries.md), with room for CI noise at the
// quick size. They guard the shape of the cost: one re-run per live query per merge (not one
// per row), a re-run that costs about a plain query, and a look that costs next to nothing when
// nothing changed.
const MERGE_FLOOR = 0.15;
const REQUERY_FLOOR = 0.25;
const IDLE_FLOOR = 0.2;

const TABLE = 'CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, list TEXT, title TEXT, n INTEGER)';
const INSERT = 'INSERT INTO items(id, list, title, n) VALUES (?, ?, ?, ?)';
/** What a UI row watches: its own item. */
const ROW_QUERY = 'SELECT id, title, n FROM items WHERE id = ?';
/** What a UI list watches: one list, in order. */
const LIST_QUERY = 'SELECT id, title, n FROM items WHERE list = ? ORDER BY id';

const itemId = (i: number): string => `item-${String(i).padStart(6, '0')}`;

function itemRows(count: number, from = 0): SqlValue[][] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return [itemId(i), `list-${i % 10}`, `item title number ${i}`, BigInt(i)];
  });
}

async function replicaWith(engine: Engine, rows: readonly SqlValue[][]): Promise<BenchDb> {
  const db = await engine.open('memory', true);
  db.exec(TABLE);
  db.replica!.enableSync('items');
  const insert = db.statement(INSERT);
  db.transaction(() => {
    for (const row of rows) insert(row);
  });
  db.replica!.flush();
  return db;
}

/** A changeset of `count` rows made elsewhere: new items for the receiving replica. */
async function changesetOf(engine: Engine, count: number, from: number): Promise<Uint8Array> {
  const source = await replicaWith(engine, itemRows(count, from));
  const bytes = source.replica!.changesetSince(0).bytes;
  source.close();
  return bytes;
}

interface Watched {
  readonly db: BenchDb;
  readonly watches: LiveQuery<unknown>[];
  calls: number;
}

/**
 * The `watch.*` suite: live queries (`replica.watch`) against the same work without them, on the
 * same rows in the same run.
 *
 * - `watch.merge`: 1,000 live queries (one per row a UI shows) over a table receiving a 1,000-row
 *   merge, vs the merge alone.
 * - `watch.requery`: per local change, the live query's work (look for commits, fold, find the
 *   rows, re-run, compare, call back) vs writing the same row and running the query plainly.
 * - `watch.idle`: `notifyChanges()` with 1,000 live queries and nothing committed, vs running
 *   one of those queries once: a look costs about one point query, whatever the number of live
 *   queries (re-running them all would cost a thousand).
 */
export async function watchSuite(
  context: SuiteContext,
  engines: readonly Engine[] = [nodeEngine, wasmEngine],
): Promise<BenchResult[]> {
  const watchCount = 1000;
  const mergeRows = 1000;
  const changes = context.quick ? 200 : 1000;
  const rounds = context.quick ? 5 : 9;
  const results: BenchResult[] = [];
  for (const engine of engines) {
    const variant = `${engine.name}.memory`;
    // The receiving replica holds other rows; the merge brings 1,000 it has not seen, each
    // watched by a UI row that is empty until then (so every live query's result changes).
    const existing = itemRows(mergeRows, mergeRows);
    const incoming = await changesetOf(engine, mergeRows, 0);

    const merge = await comparePair<Watched, BenchDb>(
      {
        setup: async () => {
          const watched: Watched = {
            db: await replicaWith(engine, existing),
            watches: [],
            calls: 0,
          };
          for (let i = 0; i < watchCount; i++) {
            watched.watches.push(
              watched.db.replica!.watch(ROW_QUERY, [itemId(i % mergeRows)], () => {
                watched.calls++;
              }),
            );
          }
          return watched;
        },
        run: (watched) => {
          watched.db.replica!.applyChanges(incoming);
          if (watched.calls !== watchCount)
            throw new Error(`expected ${watchCount} callbacks, got ${watched.calls}`);
        },
        teardown: (watched) => watched.db.close(),
      },
      {
        setup: () => replicaWith(engine, existing),
        run: (db) => db.replica!.applyChanges(incoming),
        teardown: (db) => db.close(),
      },
      { rounds },
    );
    results.push({
      id: `watch.merge.${variant}`,
      value: mergeRows / (merge.oursMs / 1000),
      baseline: mergeRows / (merge.baselineMs / 1000),
      unit: 'rows/s',
      ratio: merge.speedRatio,
      floor: MERGE_FLOOR,
      note: `${mergeRows}-row merge with ${watchCount} live row queries vs the merge alone, ${variant}`,
    });

    const update = 'UPDATE items SET n = n + 1 WHERE id = ?';
    const requery = await comparePair<Watched, BenchDb>(
      {
        setup: async () => {
          const watched: Watched = {
            db: await replicaWith(engine, existing),
            watches: [],
            calls: 0,
          };
          watched.watches.push(
            watched.db.replica!.watch(LIST_QUERY, ['list-3'], () => {
              watched.calls++;
            }),
          );
          return watched;
        },
        run: (watched) => {
          const write = watched.db.statement(update);
          for (let i = 0; i < changes; i++) {
            write([itemId(mergeRows + 3 + 10 * (i % 100))]);
            watched.db.replica!.notifyChanges();
          }
          if (watched.calls !== changes)
            throw new Error(`expected ${changes} callbacks, got ${watched.calls}`);
        },
        teardown: (watched) => watched.db.close(),
      },
      {
        setup: () => replicaWith(engine, existing),
        run: (db) => {
          const write = db.statement(update);
          for (let i = 0; i < changes; i++) {
            write([itemId(mergeRows + 3 + 10 * (i % 100))]);
            db.replica!.query(LIST_QUERY, ['list-3']);
          }
        },
        teardown: (db) => db.close(),
      },
      { rounds },
    );
    results.push({
      id: `watch.requery.${variant}`,
      value: changes / (requery.oursMs / 1000),
      baseline: changes / (requery.baselineMs / 1000),
      unit: 'changes/s',
      ratio: requery.speedRatio,
      floor: REQUERY_FLOOR,
      note: `write + live re-run of a 100-row list query vs write + the same query run plainly, ${variant}`,
    });

    const idle = await comparePair<Watched, BenchDb>(
      {
        setup: async () => {
          const watched: Watched = {
            db: await replicaWith(engine, existing),
            watches: [],
            calls: 0,
          };
          for (let i = 0; i < watchCount; i++)
            watched.watches.push(
              watched.db.replica!.watch(ROW_QUERY, [itemId(mergeRows + i)], () => undefined),
            );
          watched.db.replica!.notifyChanges();
          return watched;
        },
        run: (watched) => {
          for (let i = 0; i < changes; i++) watched.db.replica!.notifyChanges();
        },
        teardown: (watched) => watched.db.close(),
      },
      {
        setup: () => replicaWith(engine, existing),
        run: (db) => {
          const query = db.replica!.driver.prepare(ROW_QUERY);
          for (let i = 0; i < changes; i++) query.all([itemId(mergeRows + i)]);
        },
        teardown: (db) => db.close(),
      },
      { rounds },
    );
    results.push({
      id: `watch.idle.${variant}`,
      value: changes / (idle.oursMs / 1000),
      baseline: changes / (idle.baselineMs / 1000),
      unit: 'looks/s',
      ratio: idle.speedRatio,
      floor: IDLE_FLOOR,
      note: `notifyChanges() with ${watchCount} live queries and nothing committed vs running ONE of the row queries once, ${variant}`,
    });
  }
  return results;
}
