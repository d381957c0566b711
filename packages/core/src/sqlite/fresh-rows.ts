import { type ChangesetVisitor, walkChangeset } from '../changes/codec.js';
import { primaryKeyString } from '../changes/primary-key.js';
import type { SqlValue } from '../changes/value.js';
import { compareHlc, type Hlc } from '../hlc/hlc.js';
import { type MergeOutcome, writeRowSets, writeTables } from './apply.js';
import type { ReplicaContext } from './context.js';
import { MAX_PARAMETERS } from './sql.js';
import type { SyncedTable } from './synced-table.js';

/** Rows of one table collected by {@link collectFreshRows}. */
interface FreshTable {
  readonly table: SyncedTable;
  /** Each row's key values then its column values in table order, row after row. */
  readonly values: SqlValue[];
  /** Each row's causal length. */
  readonly cls: number[];
  /** Each row's one stamp (its life's and every cell's). */
  readonly stamps: Hlc[];
  /** Keys seen, to find a row listed twice: the value of a one-column key, else the packed key. */
  readonly seen: Set<unknown>;
}

/**
 * A changeset that consists only of whole rows, each written at one stamp, for synced tables:
 * what an initial sync delivers, and what most batches of new rows are. Rows the replica has
 * never held need no merge decision, so such a batch is written straight from the bytes.
 *
 * @example
 * ```ts
 * const batch = collectFreshRows(bytes, tables, () => false, Date.now() + 300_000);
 * if (batch) writeFreshRows(context, batch);
 * ```
 */
export interface FreshRows {
  /** Rows by table, in the changeset's order. */
  readonly tables: readonly FreshTable[];
  /** Greatest stamp of the batch. */
  readonly maxStamp: Hlc | undefined;
}

// Thrown by the collector to stop at the first thing a fresh batch cannot hold.
const NOT_FRESH = Symbol('not a batch of fresh whole rows');

class FreshRowCollector implements ChangesetVisitor {
  readonly tables: FreshTable[] = [];
  maxStamp: Hlc | undefined;
  readonly #synced: ReadonlyMap<string, SyncedTable>;
  readonly #altering: (table: string) => boolean;
  readonly #maxWall: number;
  #pending: SyncedTable | undefined;
  #current: FreshTable | undefined;
  #rowAt = -1;
  #filled = 0;
  #life: Hlc | undefined;
  #checked: Hlc | undefined;
  /** Which columns the open row has written (by position). */
  #written = new Uint8Array(16);

  constructor(
    synced: ReadonlyMap<string, SyncedTable>,
    altering: (table: string) => boolean,
    maxWall: number,
  ) {
    this.#synced = synced;
    this.#altering = altering;
    this.#maxWall = maxWall;
  }

  table(name: string, fingerprint: string | undefined): void {
    this.finishRow();
    const table = this.#synced.get(name);
    if (!table || this.#altering(name)) throw NOT_FRESH;
    if (fingerprint !== undefined && fingerprint !== table.fingerprint) throw NOT_FRESH;
    this.#pending = table;
    this.#current = undefined;
  }

  row(pk: Uint8Array, key: SqlValue[], cl: number, sentinel: Hlc | undefined): void {
    this.finishRow();
    let current = this.#current;
    if (!current) {
      current = { table: this.#pending!, values: [], cls: [], stamps: [], seen: new Set() };
      this.tables.push(current);
      this.#current = current;
    }
    const { table, values, seen } = current;
    if (cl % 2 === 0 || key.length !== table.keyWidth) throw NOT_FRESH;
    // A one-column key is its own identity, except a BLOB (compared by reference in a Set);
    // -0 and 0 collide here though they pack apart, which only sends such a batch the slow way.
    const only = key.length === 1 ? key[0] : undefined;
    const id = only !== undefined && !(only instanceof Uint8Array) ? only : primaryKeyString(pk);
    if (seen.has(id)) throw NOT_FRESH;
    seen.add(id);
    current.cls.push(cl);
    for (const value of key) values.push(value);
    this.#rowAt = values.length;
    const columns = table.columns.length;
    for (let i = 0; i < columns; i++) values.push(null);
    if (this.#written.length < columns) this.#written = new Uint8Array(columns);
    else this.#written.fill(0, 0, columns);
    this.#filled = 0;
    this.#life = sentinel;
    if (sentinel) this.#observe(sentinel);
  }

  cell(column: string, value: SqlValue, stamp: Hlc): void {
    const current = this.#current!;
    const position = current.table.columnsByName.get(column)?.position;
    if (position === undefined) throw NOT_FRESH;
    if (stamp !== this.#life) {
      if (this.#life === undefined) {
        this.#life = stamp;
        this.#observe(stamp);
      } else if (compareHlc(stamp, this.#life) !== 0) {
        throw NOT_FRESH;
      }
    }
    if (this.#written[position] === 1) throw NOT_FRESH;
    this.#written[position] = 1;
    current.values[this.#rowAt + position] = value;
    this.#filled++;
  }

  /** Closes the open row: it must have written every column. */
  finishRow(): void {
    if (this.#rowAt < 0) return;
    const current = this.#current!;
    if (this.#filled !== current.table.columns.length || this.#life === undefined) throw NOT_FRESH;
    current.stamps.push(this.#life);
    this.#rowAt = -1;
  }

  #observe(stamp: Hlc): void {
    if (stamp === this.#checked) return;
    if (stamp.wall > this.#maxWall) throw NOT_FRESH;
    if (this.maxStamp === undefined || compareHlc(stamp, this.maxStamp) > 0) this.maxStamp = stamp;
    this.#checked = stamp;
  }
}

/**
 * Reads a changeset as a batch of fresh whole rows, or returns `undefined` when it is anything
 * else: a table not synced here, being altered, or with another fingerprint; a deleted life; a
 * row listed twice, missing a column, or written at more than one stamp; a stamp beyond
 * `maxWall`; malformed bytes. The general merge then handles it, errors included.
 *
 * @example
 * ```ts
 * const batch = collectFreshRows(bytes, tables, (name) => altering.has(name), maxWall);
 * ```
 */
export function collectFreshRows(
  bytes: Uint8Array,
  synced: ReadonlyMap<string, SyncedTable>,
  altering: (table: string) => boolean,
  maxWall: number,
): FreshRows | undefined {
  const collector = new FreshRowCollector(synced, altering, maxWall);
  try {
    walkChangeset(bytes, collector);
    collector.finishRow();
  } catch {
    // Whatever stopped the walk, the general path reads the batch again and reports it.
    return undefined;
  }
  return { tables: collector.tables, maxStamp: collector.maxStamp };
}

/** Whether the replica holds metadata for any row of `fresh` (one indexed probe per chunk). */
function holdsAnyRow(context: ReplicaContext, fresh: FreshTable): boolean {
  const { table, values, cls } = fresh;
  const { meta, keys } = table.shadow;
  // A table receiving its first sync has no metadata: nothing to look up.
  if (context.driver.prepare(`SELECT 1 FROM ${meta} LIMIT 1`).all().length === 0) return false;
  const width = table.keyWidth;
  const rowWidth = width + table.columns.length;
  const perChunk = Math.floor(MAX_PARAMETERS / width);
  const tuple = width === 1 ? '?' : `(${new Array(width).fill('?').join(', ')})`;
  const target = width === 1 ? keys[0] : `(${keys.join(', ')})`;
  for (let start = 0; start < cls.length; start += perChunk) {
    const count = Math.min(perChunk, cls.length - start);
    const params: SqlValue[] = [];
    for (let row = start; row < start + count; row++) {
      for (let k = 0; k < width; k++) params.push(values[row * rowWidth + k]!);
    }
    const probe = `SELECT 1 FROM ${meta} WHERE ${target} IN (${new Array(count).fill(tuple).join(', ')}) LIMIT 1`;
    if (context.driver.prepare(probe).all(params).length > 0) return true;
  }
  return false;
}

/**
 * Writes a fresh batch, inside the caller's transaction, exactly as the general merge would
 * (same sequence numbers, stamp ids, statements and metadata), or returns `undefined` without
 * writing when the replica already holds one of its rows (alive or deleted): then a merge
 * decision is needed.
 *
 * @example
 * ```ts
 * const outcome = writeFreshRows(context, batch) ?? applyMerge(context, tables, changes, drift);
 * ```
 */
export function writeFreshRows(
  context: ReplicaContext,
  batch: FreshRows,
): MergeOutcome | undefined {
  for (const fresh of batch.tables) if (holdsAnyRow(context, fresh)) return undefined;
  let rows = 0;
  const byTable = new Map(batch.tables.map((fresh) => [fresh.table, fresh]));
  writeTables(context, byTable.keys(), (table) => {
    const { values, cls, stamps } = byTable.get(table)!;
    const width = table.keyWidth;
    const rowWidth = width + table.columns.length;
    const meta: SqlValue[] = [];
    for (let row = 0; row < cls.length; row++) {
      const seq = context.nextSeq();
      const sid = context.stamps.idOf(stamps[row]!, seq);
      const at = row * rowWidth;
      for (let k = 0; k < width; k++) meta.push(values[at + k]!);
      meta.push(cls[row]!, seq, sid, null, null);
    }
    writeRowSets(context, table, {
      deleted: [],
      replaced: [{ columns: table.columns.map((column) => column.name), values }],
      upserted: [],
      meta,
    });
    rows += cls.length;
  });
  return { rows, maxStamp: batch.maxStamp };
}
