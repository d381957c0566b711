import type { Change } from '../changes/change.js';
import { assertValidChange } from '../changes/codec.js';
import { primaryKeyString } from '../changes/primary-key.js';
import type { SqlValue } from '../changes/value.js';
import { isLive } from '../crdt/causal-length.js';
import { type DriftBound, type LocalRow, mergeBatch, type RowMerge } from '../crdt/merge.js';
import type { Hlc } from '../hlc/hlc.js';
import { withoutCapture } from './capture.js';
import type { ReplicaContext } from './context.js';
import { ApplyError } from './errors.js';
import {
  decodeRowClocks,
  encodeRowClocks,
  LIFE_SLOT,
  NO_CLOCK,
  type SlotClock,
  type StoredRowClocks,
  uniformRowClocks,
} from './row-clocks.js';
import { MAX_PARAMETERS, quoteIdentifier } from './sql.js';
import { type MetaRow, type SyncedTable, toMetaRow } from './synced-table.js';

class SqliteLocalRow implements LocalRow {
  #slots: Map<number, SlotClock> | undefined;
  #values: SqlValue[] | undefined;

  constructor(
    readonly table: SyncedTable,
    readonly meta: MetaRow,
    readonly context: ReplicaContext,
  ) {}

  get cl(): number {
    return this.meta.cl;
  }

  get slots(): Map<number, SlotClock> {
    this.#slots ??= decodeRowClocks(this.meta, this.table.columns);
    return this.#slots;
  }

  stampOf(column: string): Hlc | undefined {
    const id = this.table.columnsByName.get(column)?.id;
    const clock = id === undefined ? undefined : this.slots.get(id);
    return clock === undefined || clock.sid === 0
      ? undefined
      : this.context.stamps.stamp(clock.sid);
  }

  // Only a stamp tie asks for a value (re-delivery, a restored device), so one keyed read of the
  // row on first use costs the usual merge nothing.
  valueOf(column: string): SqlValue {
    if (this.#values === undefined) {
      const { shadow } = this.table;
      const where = shadow.baseKeys.map((key) => `${key} = ?`).join(' AND ');
      const columns = this.table.columns.map((synced) => quoteIdentifier(synced.name)).join(', ');
      this.#values =
        this.context.driver
          .prepare(`SELECT ${columns} FROM ${shadow.table} WHERE ${where}`)
          .all(this.meta.key)[0] ?? [];
    }
    const synced = this.table.columnsByName.get(column);
    return synced === undefined ? null : (this.#values[this.table.columns.indexOf(synced)] ?? null);
  }
}

/**
 * One row a merge is about to change, as a guard (row-level security) sees it.
 *
 * @example
 * ```ts
 * const guard: ApplyGuard = {
 *   beforeWrite: (rows) => rows.filter((row) => row.kind === 'delete').forEach(checkDelete),
 * };
 * ```
 */
export interface PlannedRow {
  /** Table. */
  readonly table: string;
  /** Packed primary key. */
  readonly pk: Uint8Array;
  /** Primary-key values. */
  readonly key: readonly SqlValue[];
  /**
   * `insert`: the row enters a new present life (created, resurrected or replaced); `update`:
   * columns of the current life change; `delete`: the row enters a deleted life.
   */
  readonly kind: 'insert' | 'update' | 'delete';
  /** The row was present before the merge. */
  readonly wasPresent: boolean;
  /** Columns the merge writes. */
  readonly columns: readonly string[];
}

/**
 * Hooks run inside the merge's transaction; throwing from one rolls the whole batch back.
 *
 * @example
 * ```ts
 * replica.applyChanges(bytes, { guard: { afterWrite: (rows) => checkPolicies(rows) } });
 * ```
 */
export interface ApplyGuard {
  /** Before any write, with the database in its prior state. */
  beforeWrite?(rows: readonly PlannedRow[]): void;
  /** After every write, before commit. */
  afterWrite?(rows: readonly PlannedRow[]): void;
}

/** Result of {@link applyMerge}. */
export interface MergeOutcome {
  /** Rows whose state changed. */
  readonly rows: number;
  /** Greatest stamp of the batch. */
  readonly maxStamp: Hlc | undefined;
}

/**
 * Merges remote changes into the database, inside the caller's transaction: loads the local
 * state of every row the batch touches (a few multi-key reads), lets `mergeBatch` decide, then
 * writes each changed row once: one multi-row statement per shape for the tables, one for the
 * metadata; what the triggers log of these writes is discarded. Throws `DriftError` (nothing written) or
 * {@link ApplyError} if SQLite refuses a write; the caller rolls back.
 *
 * @example
 * ```ts
 * inSavepoint(driver, () => applyMerge(context, tables, changes, drift));
 * ```
 */
export function applyMerge(
  context: ReplicaContext,
  tables: ReadonlyMap<string, SyncedTable>,
  changes: readonly Change[],
  drift: DriftBound,
  guard?: ApplyGuard,
): MergeOutcome {
  const local = loadLocalRows(context, tables, changes);
  const result = mergeBatch(changes, (table, key) => local.rows.get(table)?.get(key), drift);
  if (!result.ok) throw result.error;
  if (result.rows.length === 0) return { rows: 0, maxStamp: result.maxStamp };
  const planned = guard
    ? result.rows.map((decision) => plan(decision, local.keys.get(decision.table)!))
    : [];
  guard?.beforeWrite?.(planned);

  const byTable = new Map<SyncedTable, RowMerge[]>();
  for (const decision of result.rows) {
    const table = tables.get(decision.table)!;
    const list = byTable.get(table);
    if (list) list.push(decision);
    else byTable.set(table, [decision]);
  }
  writeTables(context, byTable.keys(), (table) =>
    writeTable(context, table, byTable.get(table)!, local.keys.get(table.name)!),
  );
  guard?.afterWrite?.(planned);
  return { rows: result.rows.length, maxStamp: result.maxStamp };
}

/**
 * Runs `write` for each table with capture silenced and, where a table allows foreign keys, their
 * checks deferred to the commit. Whatever SQLite refuses (a driver's own error type, typed or not)
 * becomes an {@link ApplyError} naming the table.
 *
 * @example
 * ```ts
 * writeTables(context, [table], (table) => writeRowSets(context, table, sets));
 * ```
 */
export function writeTables(
  context: ReplicaContext,
  tables: Iterable<SyncedTable>,
  write: (table: SyncedTable) => void,
): void {
  const list = [...tables];
  withoutCapture(context.driver, list, () => {
    for (const table of list) {
      if (table.options.allowForeignKeys) context.driver.exec('PRAGMA defer_foreign_keys = ON');
      try {
        write(table);
      } catch (error) {
        if (error instanceof ApplyError || isProgrammingError(error)) throw error;
        throw new ApplyError(error instanceof Error ? error.message : String(error), table.name);
      }
    }
  });
}

function plan(decision: RowMerge, keys: ReadonlyMap<string, SqlValue[]>): PlannedRow {
  const wasPresent = decision.local !== undefined && isLive(decision.local.cl);
  const kind = !isLive(decision.cl) ? 'delete' : decision.newLife ? 'insert' : 'update';
  return {
    table: decision.table,
    pk: decision.pk,
    key: keys.get(decision.key)!,
    kind,
    wasPresent,
    columns: decision.cells.map((cell) => cell.column!),
  };
}

// SQLite refusals come as the driver's own error types; a fault in this code must not pass for one.
function isProgrammingError(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    error instanceof ReferenceError ||
    error instanceof RangeError ||
    error instanceof SyntaxError
  );
}

interface LoadedRows {
  /** Local rows by table, then by packed-key string. */
  readonly rows: Map<string, Map<string, SqliteLocalRow>>;
  /** Key values of every row of the batch, by table then packed-key string. */
  readonly keys: Map<string, Map<string, SqlValue[]>>;
}

function loadLocalRows(
  context: ReplicaContext,
  tables: ReadonlyMap<string, SyncedTable>,
  changes: readonly Change[],
): LoadedRows {
  const keys = new Map<string, Map<string, SqlValue[]>>();
  let lastPk: Uint8Array | undefined;
  let lastTable: string | undefined;
  let tableKeys: Map<string, SqlValue[]> | undefined;
  for (const change of changes) {
    // Changes handed over as objects skipped the decoder's bounds: a causal length of 2^53 - 1
    // accepted here would overflow at this replica's next local delete.
    assertValidChange(change);
    if (change.pk === lastPk && change.table === lastTable) continue;
    if (change.table !== lastTable || !tableKeys) {
      tableKeys = keys.get(change.table);
      if (!tableKeys) {
        tableKeys = new Map();
        keys.set(change.table, tableKeys);
      }
    }
    lastPk = change.pk;
    lastTable = change.table;
    const id = primaryKeyString(change.pk);
    if (!tableKeys.has(id)) tableKeys.set(id, tables.get(change.table)!.unpackKey(change.pk));
  }
  const rows = new Map<string, Map<string, SqliteLocalRow>>();
  for (const [name, wanted] of keys) {
    const table = tables.get(name)!;
    const found = new Map<string, SqliteLocalRow>();
    rows.set(name, found);
    const { shadow } = table;
    // A replica receiving its first sync has no metadata: nothing to look up.
    if (context.driver.prepare(`SELECT 1 FROM ${shadow.meta} LIMIT 1`).all().length === 0) continue;
    const width = table.keyWidth;
    const perChunk = Math.floor(MAX_PARAMETERS / width);
    const all = [...wanted];
    const keyList = shadow.keys.join(', ');
    const tuple = width === 1 ? '?' : `(${new Array(width).fill('?').join(', ')})`;
    const target = width === 1 ? shadow.keys[0] : `(${keyList})`;
    for (let start = 0; start < all.length; start += perChunk) {
      const chunk = all.slice(start, start + perChunk);
      const params: SqlValue[] = [];
      for (const [, key] of chunk) params.push(...key);
      const results = context.driver
        .prepare(
          `SELECT ${keyList}, cl, seq, sid, dseq, clocks FROM ${shadow.meta} WHERE ${target} IN (${new Array(chunk.length).fill(tuple).join(', ')})`,
        )
        .all(params);
      for (const result of results) {
        const key = result.slice(0, width);
        found.set(
          primaryKeyString(table.packKey(key)),
          new SqliteLocalRow(table, toMetaRow(key, result, width), context),
        );
      }
    }
  }
  return { rows, keys };
}

/**
 * Rows of one statement shape: the value columns written (after the key columns) and the flat
 * list of their rows' keys and values.
 *
 * @example
 * ```ts
 * const shape: Shape = { columns: ['title'], values: ['t1', 'milk', 't2', 'eggs'] };
 * ```
 */
export interface Shape {
  /** Value columns, in the order of each row's values. */
  readonly columns: string[];
  /** Each row's key values then its column values, row after row. */
  readonly values: SqlValue[];
}

/**
 * Everything a merge writes to one table: rows deleted, rows replaced whole (a new life), rows
 * updated in place, and one metadata row per row touched.
 *
 * @example
 * ```ts
 * writeRowSets(context, table, { deleted: [], replaced: [shape], upserted: [], meta });
 * ```
 */
export interface RowSets {
  /** Key values of the rows to delete, flat. */
  readonly deleted: readonly SqlValue[];
  /** Rows entering a new life, by shape. */
  readonly replaced: Iterable<Shape>;
  /** Rows of the current life whose columns change, by shape. */
  readonly upserted: Iterable<Shape>;
  /** Metadata rows, flat: key values, cl, seq, sid, dseq, clocks. */
  readonly meta: readonly SqlValue[];
}

function writeTable(
  context: ReplicaContext,
  table: SyncedTable,
  decisions: readonly RowMerge[],
  keys: ReadonlyMap<string, SqlValue[]>,
): void {
  const columnCount = table.columns.length;
  const replaced = new Map<string, Shape>();
  const upserted = new Map<string, Shape>();
  const deleted: SqlValue[] = [];
  const metaRows: SqlValue[] = [];
  for (const decision of decisions) {
    const seq = context.nextSeq();
    const previous = decision.local as SqliteLocalRow | undefined;
    const key = keys.get(decision.key)!;
    const cells = decision.cells;
    let stored: StoredRowClocks;
    const lifeSid = decision.newLife ? context.stamps.idOf(decision.lifeStamp!, seq) : 0;
    if (
      decision.newLife &&
      cells.length === columnCount &&
      cells.every((cell) => context.stamps.idOf(cell.stamp, seq) === lifeSid)
    ) {
      // A whole row written at once (the usual remote insert): one clock, nothing to encode.
      stored = uniformRowClocks({ sid: lifeSid, seq });
    } else {
      let slots: Map<number, SlotClock>;
      if (decision.newLife || !previous) {
        slots = new Map([[LIFE_SLOT, { sid: lifeSid, seq }]]);
        for (const column of table.columns) slots.set(column.id, NO_CLOCK);
      } else {
        slots = new Map(previous.slots);
      }
      for (const cell of cells) {
        slots.set(table.columnsByName.get(cell.column!)!.id, {
          sid: context.stamps.idOf(cell.stamp, seq),
          seq,
        });
      }
      stored = encodeRowClocks(slots);
    }
    for (const value of key) metaRows.push(value);
    metaRows.push(decision.cl, stored.seq, stored.sid, stored.dseq, stored.clocks);
    if (!isLive(decision.cl)) {
      for (const value of key) deleted.push(value);
      continue;
    }
    const target = decision.newLife ? replaced : upserted;
    // Whole rows are written in the table's column order under one shape; partial rows group by
    // the columns they write.
    const whole = cells.length === columnCount;
    let signature = '*';
    if (!whole) {
      signature = '';
      for (const cell of cells) signature += `${cell.column}\u0000`;
    }
    let shape = target.get(signature);
    if (!shape) {
      shape = {
        columns: whole
          ? table.columns.map((column) => column.name)
          : cells.map((cell) => cell.column!),
        values: [],
      };
      target.set(signature, shape);
    }
    const values = shape.values;
    for (const value of key) values.push(value);
    if (whole) {
      const at = values.length;
      values.length += columnCount;
      for (const cell of cells)
        values[at + table.columnsByName.get(cell.column!)!.position] = cell.value;
    } else {
      for (const cell of cells) values.push(cell.value);
    }
  }

  writeRowSets(context, table, {
    deleted,
    replaced: replaced.values(),
    upserted: upserted.values(),
    meta: metaRows,
  });
}

/**
 * Writes a table's row sets: one multi-row statement per shape, then the metadata.
 *
 * @example
 * ```ts
 * writeRowSets(context, table, { deleted: [], replaced: [shape], upserted: [], meta });
 * ```
 */
export function writeRowSets(context: ReplicaContext, table: SyncedTable, sets: RowSets): void {
  const { shadow } = table;
  const width = table.keyWidth;
  const { deleted, replaced, upserted } = sets;
  const keyList = shadow.baseKeys.join(', ');
  if (deleted.length > 0) {
    const target = width === 1 ? keyList : `(${keyList})`;
    context.bulk.run(`DELETE FROM ${shadow.table} WHERE ${target} IN (VALUES`, width, deleted, ')');
  }
  for (const shape of replaced) {
    const columnList = [keyList, ...shape.columns.map(quoteIdentifier)].join(', ');
    context.bulk.run(
      `INSERT OR REPLACE INTO ${shadow.table}(${columnList}) VALUES`,
      width + shape.columns.length,
      shape.values,
    );
  }
  for (const shape of upserted) {
    const quoted = shape.columns.map(quoteIdentifier);
    const columnList = [keyList, ...quoted].join(', ');
    const updates = quoted.map((column) => `${column} = excluded.${column}`).join(', ');
    context.bulk.run(
      `INSERT INTO ${shadow.table}(${columnList}) VALUES`,
      width + shape.columns.length,
      shape.values,
      `ON CONFLICT(${keyList}) DO UPDATE SET ${updates}`,
    );
  }
  context.bulk.run(
    `INSERT OR REPLACE INTO ${shadow.meta}(${shadow.keys.join(', ')}, cl, seq, sid, dseq, clocks) VALUES`,
    width + 5,
    sets.meta,
  );
}
