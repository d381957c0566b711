import type { SqlValue } from '../changes/value.js';
import { isLive } from '../crdt/causal-length.js';
import type { Hlc } from '../hlc/hlc.js';
import type { ReplicaContext } from './context.js';
import {
  decodeRowClocks,
  encodeRowClocks,
  LIFE_SLOT,
  NO_CLOCK,
  type SlotClock,
  type StoredRowClocks,
  uniformRowClocks,
} from './row-clocks.js';
import { LogOp, MASK_BITS } from './shadow-tables.js';
import { keyIdentity, type MetaRow, type SyncedTable, toMetaRow } from './synced-table.js';

/**
 * The stamps one flush has issued, by the physical time they stand for: every write made in the
 * same millisecond (one bulk statement, a quick transaction) shares one stamp, across tables, so
 * `offsync_stamps` stays small. Make one per flush with {@link newFlushStamps}.
 */
export interface FlushStamps {
  /** The local physical time of the flush (ms), read once on first use. */
  now: number | undefined;
  /** Stamp id by the physical time it was issued for. */
  readonly byTime: Map<number, number>;
  /** Stamps issued ahead by {@link planFlushStamps}, by physical time, oldest first. */
  readonly planned: Map<number, Hlc>;
}

/**
 * A fresh, empty {@link FlushStamps} for one flush.
 *
 * @example
 * ```ts
 * const stamps = newFlushStamps();
 * for (const table of tables) foldLog(context, table, stamps);
 * ```
 */
export function newFlushStamps(): FlushStamps {
  return { now: undefined, byTime: new Map(), planned: new Map() };
}

/**
 * The physical time a log entry is stamped with: when it was written (as SQLite's clock saw it),
 * but never later than the replica's own clock, which stays the authority (tests and apps inject
 * it). An entry from before the log recorded write times is stamped at the fold.
 */
function entryTime(flush: FlushStamps, context: ReplicaContext, written: SqlValue): number {
  flush.now ??= context.clock.physicalNow();
  return written === null ? flush.now : Math.min(Number(written), flush.now);
}

/**
 * The stamp id for writes made at physical time `time`. A new stamp is still ordered after
 * everything the replica has seen, and what it had seen at the fold is at most what it had seen
 * at the write: every merge folds the log before merging.
 */
function stampFor(context: ReplicaContext, flush: FlushStamps, time: number, seq: number): number {
  let sid = flush.byTime.get(time);
  if (sid === undefined) {
    sid = context.stamps.idOf(flush.planned.get(time) ?? context.clock.stampAt(time), seq);
    flush.byTime.set(time, sid);
  }
  return sid;
}

/**
 * Issues, oldest first, the stamps of every write time in the logs of `tables`, before any is
 * used. The fold stamps fresh inserts before updates and walks tables one by one, and the clock
 * only moves forward: stamped in that order, an update made before an insert of the same flush
 * would get the later stamp and beat another device's write made between the two. Updates that
 * changed no column plan nothing, so a run of no-op updates still uses up no stamp.
 *
 * @example
 * ```ts
 * const flush = newFlushStamps();
 * planFlushStamps(context, tables, flush);
 * for (const table of tables) foldLog(context, table, flush);
 * ```
 */
export function planFlushStamps(
  context: ReplicaContext,
  tables: readonly SyncedTable[],
  flush: FlushStamps,
): void {
  const times = new Set<number>();
  for (const { shadow } of tables) {
    const changed = shadow.masks.map((mask) => `${mask} != 0`).join(' OR ');
    const written = context.driver
      .prepare(
        `SELECT DISTINCT w FROM ${shadow.log} WHERE op != ${LogOp.Update}${changed ? ` OR ${changed}` : ''}`,
      )
      .all();
    for (const [w] of written) times.add(entryTime(flush, context, w!));
  }
  for (const time of [...times].sort((a, b) => a - b))
    flush.planned.set(time, context.clock.stampAt(time));
}

interface PendingRow {
  readonly key: SqlValue[];
  readonly previous: MetaRow | undefined;
  readonly ops: { op: number; time: number; masks: readonly SqlValue[] }[];
}

/**
 * Folds a table's change log into its metadata: for each row written since the last fold, its
 * new causal length and the clocks of the columns that changed, each stamped with the time of the
 * write that made it (writes of one millisecond share a stamp). Runs in bulk (one joined read,
 * multi-row writes), inside the caller's transaction. Returns the number of rows whose metadata
 * changed.
 *
 * @example
 * ```ts
 * inSavepoint(driver, () => foldLog(context, table, newFlushStamps()));
 * ```
 */
export function foldLog(context: ReplicaContext, table: SyncedTable, flush: FlushStamps): number {
  const { driver } = context;
  const { shadow } = table;
  const width = table.keyWidth;
  const bounds = driver.prepare(`SELECT min(id), max(id) FROM ${shadow.log}`).all()[0]!;
  if (bounds[0] === null) return 0;
  // Only when the log holds inserts: a run of no-op updates must not use up sequences or a stamp.
  const hasInserts =
    driver.prepare(`SELECT 1 FROM ${shadow.log} WHERE op = ${LogOp.Insert} LIMIT 1`).all().length >
    0;
  const folded = hasInserts
    ? foldFreshInserts(context, table, flush, Number(bounds[0]), Number(bounds[1]))
    : 0;

  const logKeys = shadow.keys.map((key) => `l.${key}`).join(', ');
  const logMasks = shadow.masks.map((mask) => `l.${mask}`).join(', ');
  const join = shadow.keys.map((key) => `m.${key} = l.${key}`).join(' AND ');
  const entries = driver
    .prepare(
      `SELECT l.id, l.op, l.w, ${logMasks}, ${logKeys}, m.cl, m.seq, m.sid, m.dseq, m.clocks
       FROM ${shadow.log} l LEFT JOIN ${shadow.meta} m ON ${join} ORDER BY l.id`,
    )
    .all();
  if (entries.length === 0) return folded;

  const maskCount = shadow.masks.length;
  const keyAt = 3 + maskCount;
  const pending = new Map<string, PendingRow>();
  for (const entry of entries) {
    const key = entry.slice(keyAt, keyAt + width);
    const id = keyIdentity(table, key);
    let row = pending.get(id);
    if (!row) {
      const metaAt = keyAt + width;
      row = {
        key,
        previous: entry[metaAt] === null ? undefined : toMetaRow(key, entry, metaAt),
        ops: [],
      };
      pending.set(id, row);
    }
    row.ops.push({
      op: Number(entry[1]),
      time: entryTime(flush, context, entry[2]!),
      masks: entry.slice(3, keyAt),
    });
  }

  const writes: SqlValue[] = [];
  let written = 0;
  for (const row of pending.values()) {
    let cl = row.previous?.cl ?? 0;
    // Times of the writes that decide the row: its new life, all its columns (an insert), and
    // columns updated after that; later writes overwrite earlier ones, in log order.
    let lifeTime: number | undefined;
    let allTime: number | undefined;
    let someTimes: Map<number, number> | undefined;
    for (const { op, time, masks } of row.ops) {
      if (op === LogOp.Insert) {
        if (!isLive(cl)) {
          cl++;
          lifeTime = time;
        }
        allTime = time;
        someTimes = undefined;
      } else if (op === LogOp.Update) {
        if (isLive(cl)) {
          someTimes ??= new Map();
          addMaskedColumns(table, masks, someTimes, time);
        }
      } else if (isLive(cl)) {
        cl++;
        lifeTime = time;
        allTime = undefined;
        someTimes = undefined;
      }
    }
    if (lifeTime === undefined && allTime === undefined && !someTimes?.size) continue;
    const seq = context.nextSeq();
    const clockAt = (time: number): SlotClock => ({
      sid: stampFor(context, flush, time, seq),
      seq,
    });
    let stored: StoredRowClocks;
    if (
      lifeTime !== undefined &&
      allTime === lifeTime &&
      (someTimes === undefined || [...someTimes.values()].every((time) => time === allTime))
    ) {
      // The common case, a row inserted whole: one clock for everything, nothing to encode.
      stored = uniformRowClocks(clockAt(allTime));
    } else {
      const slots =
        lifeTime !== undefined || !row.previous
          ? freshSlots(table)
          : decodeRowClocks(row.previous, table.columns);
      if (lifeTime !== undefined) slots.set(LIFE_SLOT, clockAt(lifeTime));
      if (allTime !== undefined) {
        const clock = clockAt(allTime);
        for (const column of table.columns) slots.set(column.id, clock);
      }
      if (someTimes) for (const [id, time] of someTimes) slots.set(id, clockAt(time));
      stored = encodeRowClocks(slots);
    }
    // Metadata integers bind as numbers: the INTEGER columns store them as integers, exactly.
    writes.push(...row.key, cl, stored.seq, stored.sid, stored.dseq, stored.clocks);
    written++;
  }
  if (written > 0) {
    context.bulk.run(
      `INSERT OR REPLACE INTO ${shadow.meta}(${shadow.keys.join(', ')}, cl, seq, sid, dseq, clocks) VALUES`,
      width + 5,
      writes,
    );
  }
  driver.prepare(`DELETE FROM ${shadow.log} WHERE id <= ?`).run([entries[entries.length - 1]![0]!]);
  return folded + written;
}

/**
 * The fast path, all in SQL: a key whose only log entry is an insert and that has no metadata
 * yet (a new row) gets `cl = 1` and one clock for everything, with its sequence derived from its
 * log id and its stamp from its write time (grouped by millisecond); its log entry is then removed. No value crosses into JavaScript.
 * Returns rows folded.
 */
function foldFreshInserts(
  context: ReplicaContext,
  table: SyncedTable,
  flush: FlushStamps,
  minId: number,
  maxId: number,
): number {
  const { driver } = context;
  const { shadow } = table;
  const first = context.reserveSeqs(maxId - minId + 1);
  const offset = first - minId;
  const keys = shadow.keys.join(', ');
  const matches = shadow.keys.map((key) => `m.${key} = l.${key}`).join(' AND ');
  // Write times of the inserts, oldest first, so their stamps are issued in write order.
  const walls = driver
    .prepare(`SELECT DISTINCT w FROM ${shadow.log} WHERE op = ${LogOp.Insert} ORDER BY w`)
    .all()
    .map((row) => row[0]!);
  const sids = walls.map((wall) =>
    stampFor(context, flush, entryTime(flush, context, wall), first),
  );
  let sid = '?';
  const params: SqlValue[] = [offset];
  if (walls.length === 1) {
    params.push(sids[0]!);
  } else {
    // Several milliseconds (a transaction of many statements): a keyed lookup per row keeps the
    // fold one statement, linear in the log. A TEMP table lives on this connection only.
    driver.exec(
      `CREATE TEMP TABLE IF NOT EXISTS offsync_fold_times(w INTEGER PRIMARY KEY, sid INTEGER NOT NULL);
       DELETE FROM temp.offsync_fold_times;`,
    );
    context.bulk.run(
      'INSERT INTO temp.offsync_fold_times(w, sid) VALUES',
      2,
      walls.flatMap((wall, i) => [wall ?? -1, sids[i]!]),
    );
    sid = '(SELECT t.sid FROM temp.offsync_fold_times t WHERE t.w = coalesce(l.w, -1))';
  }
  // A key with one log entry only: its `l.w` is that entry's write time.
  driver
    .prepare(
      `INSERT INTO ${shadow.meta}(${keys}, cl, seq, sid, dseq, clocks)
       SELECT ${shadow.keys.map((key) => `l.${key}`).join(', ')}, 1, ? + l.id, ${sid}, NULL, NULL
       FROM ${shadow.log} l
       WHERE NOT EXISTS (SELECT 1 FROM ${shadow.meta} m WHERE ${matches})
       GROUP BY ${shadow.keys.map((key) => `l.${key}`).join(', ')}
       HAVING count(*) = 1 AND min(l.op) = ${LogOp.Insert}`,
    )
    .run(params);
  const before = Number(driver.prepare(`SELECT count(*) FROM ${shadow.log}`).all()[0]![0]);
  driver
    .prepare(
      `DELETE FROM ${shadow.log} AS l
       WHERE EXISTS (SELECT 1 FROM ${shadow.meta} m WHERE ${matches} AND m.seq = ? + l.id)`,
    )
    .run([offset]);
  return before - Number(driver.prepare(`SELECT count(*) FROM ${shadow.log}`).all()[0]![0]);
}

function freshSlots(table: SyncedTable): Map<number, SlotClock> {
  const slots = new Map<number, SlotClock>([[LIFE_SLOT, NO_CLOCK]]);
  for (const column of table.columns) slots.set(column.id, NO_CLOCK);
  return slots;
}

function addMaskedColumns(
  table: SyncedTable,
  masks: readonly SqlValue[],
  written: Map<number, number>,
  time: number,
): void {
  masks.forEach((mask, chunk) => {
    let bits = typeof mask === 'bigint' ? mask : 0n;
    for (let bit = 0; bits !== 0n; bit++, bits >>= 1n) {
      if (bits & 1n) {
        const column = table.columns[chunk * MASK_BITS + bit];
        if (column) written.set(column.id, time);
      }
    }
  });
}
