import type { SqlValue } from '../changes/value.js';
import { isLive } from '../crdt/causal-length.js';
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

/** The stamp shared by every row one flush folds, made on first use. */
export interface FlushStamp {
  sid: number | undefined;
}

interface PendingRow {
  readonly key: SqlValue[];
  readonly previous: MetaRow | undefined;
  readonly ops: { op: number; masks: readonly SqlValue[] }[];
}

/**
 * Folds a table's change log into its metadata: for each row written since the last fold, its
 * new causal length and the clocks of the columns that changed, all stamped with one new HLC
 * stamp. Runs in bulk (one joined read, multi-row writes), inside the caller's transaction.
 * Returns the number of rows whose metadata changed.
 *
 * @example
 * ```ts
 * inSavepoint(driver, () => foldLog(context, table, { sid: undefined }));
 * ```
 */
export function foldLog(
  context: ReplicaContext,
  table: SyncedTable,
  flushStamp: FlushStamp,
): number {
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
    ? foldFreshInserts(context, table, flushStamp, Number(bounds[0]), Number(bounds[1]))
    : 0;

  const logKeys = shadow.keys.map((key) => `l.${key}`).join(', ');
  const logMasks = shadow.masks.map((mask) => `l.${mask}`).join(', ');
  const join = shadow.keys.map((key) => `m.${key} = l.${key}`).join(' AND ');
  const entries = driver
    .prepare(
      `SELECT l.id, l.op, ${logMasks}, ${logKeys}, m.cl, m.seq, m.sid, m.dseq, m.clocks
       FROM ${shadow.log} l LEFT JOIN ${shadow.meta} m ON ${join} ORDER BY l.id`,
    )
    .all();
  if (entries.length === 0) return folded;

  const maskCount = shadow.masks.length;
  const pending = new Map<string, PendingRow>();
  for (const entry of entries) {
    const key = entry.slice(2 + maskCount, 2 + maskCount + width);
    const id = keyIdentity(table, key);
    let row = pending.get(id);
    if (!row) {
      const metaAt = 2 + maskCount + width;
      row = {
        key,
        previous: entry[metaAt] === null ? undefined : toMetaRow(key, entry, metaAt),
        ops: [],
      };
      pending.set(id, row);
    }
    row.ops.push({ op: Number(entry[1]), masks: entry.slice(2, 2 + maskCount) });
  }

  const writes: SqlValue[] = [];
  let written = 0;
  for (const row of pending.values()) {
    let cl = row.previous?.cl ?? 0;
    let newLife = false;
    let allColumns = false;
    let someColumns: Set<number> | undefined;
    for (const { op, masks } of row.ops) {
      if (op === LogOp.Insert) {
        if (!isLive(cl)) {
          cl++;
          newLife = true;
        }
        allColumns = true;
        someColumns = undefined;
      } else if (op === LogOp.Update) {
        if (isLive(cl) && !allColumns) {
          someColumns ??= new Set();
          addMaskedColumns(table, masks, someColumns);
        }
      } else if (isLive(cl)) {
        cl++;
        newLife = true;
        allColumns = false;
        someColumns = undefined;
      }
    }
    if (!newLife && !allColumns && !someColumns?.size) continue;
    const seq = context.nextSeq();
    flushStamp.sid ??= context.stamps.idOf(context.clock.now(), seq);
    const clock: SlotClock = { sid: flushStamp.sid, seq };
    let stored: StoredRowClocks;
    if (newLife && allColumns) {
      // The common case, a row inserted whole: one clock for everything, nothing to encode.
      stored = uniformRowClocks(clock);
    } else {
      const slots =
        newLife || !row.previous ? freshSlots(table) : decodeRowClocks(row.previous, table.columns);
      if (newLife) slots.set(LIFE_SLOT, clock);
      if (allColumns) for (const column of table.columns) slots.set(column.id, clock);
      else if (someColumns) for (const id of someColumns) slots.set(id, clock);
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
 * log id; its log entry is then removed. No value crosses into JavaScript. Returns rows folded.
 */
function foldFreshInserts(
  context: ReplicaContext,
  table: SyncedTable,
  flushStamp: FlushStamp,
  minId: number,
  maxId: number,
): number {
  const { driver } = context;
  const { shadow } = table;
  const first = context.reserveSeqs(maxId - minId + 1);
  flushStamp.sid ??= context.stamps.idOf(context.clock.now(), first);
  const offset = first - minId;
  const keys = shadow.keys.join(', ');
  const matches = shadow.keys.map((key) => `m.${key} = l.${key}`).join(' AND ');
  driver
    .prepare(
      `INSERT INTO ${shadow.meta}(${keys}, cl, seq, sid, dseq, clocks)
       SELECT ${shadow.keys.map((key) => `l.${key}`).join(', ')}, 1, ? + l.id, ?, NULL, NULL
       FROM ${shadow.log} l
       WHERE NOT EXISTS (SELECT 1 FROM ${shadow.meta} m WHERE ${matches})
       GROUP BY ${shadow.keys.map((key) => `l.${key}`).join(', ')}
       HAVING count(*) = 1 AND min(l.op) = ${LogOp.Insert}`,
    )
    .run([offset, flushStamp.sid]);
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
  written: Set<number>,
): void {
  masks.forEach((mask, chunk) => {
    let bits = typeof mask === 'bigint' ? mask : 0n;
    for (let bit = 0; bits !== 0n; bit++, bits >>= 1n) {
      if (bits & 1n) {
        const column = table.columns[chunk * MASK_BITS + bit];
        if (column) written.add(column.id);
      }
    }
  });
}
