import type { Change } from '../changes/change.js';
import { primaryKeyString } from '../changes/primary-key.js';
import type { SqlValue } from '../changes/value.js';
import { compareHlc, DriftError, type Hlc } from '../hlc/hlc.js';
import { isLive, NEVER_EXISTED } from './causal-length.js';
import { compareSqlValues } from './lww.js';

/**
 * What a replica knows of one of its rows, as the merge needs it: the row's causal length and
 * the stamp of each column's value in the current life.
 *
 * @example
 * ```ts
 * const local: LocalRow = {
 *   cl: 1,
 *   stampOf: (column) => stamps.get(column),
 *   valueOf: (column) => values.get(column) ?? null,
 * };
 * ```
 */
export interface LocalRow {
  /** Causal length; {@link NEVER_EXISTED} (0) if unknown. */
  readonly cl: number;
  /** Stamp of the column's value in the current life, or `undefined` if never written in it. */
  stampOf(column: string): Hlc | undefined;
  /**
   * The column's current value. Asked only when an incoming write has the same stamp as the
   * local one (re-delivery, or a restored device that reissued a stamp), to break the tie by
   * value, so it may be slow.
   */
  valueOf(column: string): SqlValue;
}

/**
 * Looks up a row's local state by table and {@link primaryKeyString} of its packed key.
 *
 * @example
 * ```ts
 * const lookup: LocalRowLookup = (table, key) => tables.get(table)?.get(key);
 * ```
 */
export type LocalRowLookup = (table: string, key: string) => LocalRow | undefined;

/**
 * The merge's decision for one row: what to write so that the replica holds the winning state.
 *
 * @example
 * ```ts
 * for (const row of result.rows) if (row.newLife && !isLive(row.cl)) deleteRow(row);
 * ```
 */
export interface RowMerge {
  /** Table name. */
  readonly table: string;
  /** Packed primary key. */
  readonly pk: Uint8Array;
  /** {@link primaryKeyString} of `pk`. */
  readonly key: string;
  /** The row's local state before the merge. */
  readonly local: LocalRow | undefined;
  /** Causal length after the merge. */
  readonly cl: number;
  /**
   * The row moved to a later life than the local one (deleted, created or resurrected): every
   * local cell value and stamp is void; only `cells` belong to the new life.
   */
  readonly newLife: boolean;
  /** Stamp to record for the row's life: the winning sentinel's, or the newest cell's. */
  readonly lifeStamp: Hlc | undefined;
  /** Winning cell changes, at most one per column, all with `cl` equal to the row's. */
  readonly cells: readonly Change[];
}

/**
 * Outcome of {@link mergeBatch}: the row decisions, or the drift error that refused the batch.
 *
 * @example
 * ```ts
 * const result = mergeBatch(changes, lookup);
 * if (!result.ok) throw result.error;
 * ```
 */
export type MergeResult =
  | {
      readonly ok: true;
      /** Rows that change, in order of first appearance in the batch. */
      readonly rows: RowMerge[];
      /** Greatest stamp in the batch (for the clock to observe). */
      readonly maxStamp: Hlc | undefined;
    }
  | { readonly ok: false; readonly error: DriftError };

/** Drift bound applied by {@link mergeBatch}. */
export interface DriftBound {
  /** Local physical time (ms). */
  readonly nowMs: number;
  /** Largest accepted lead of a stamp over `nowMs`. */
  readonly maxDriftMs: number;
}

interface MutableRowMerge {
  table: string;
  pk: Uint8Array;
  key: string;
  local: LocalRow | undefined;
  cl: number;
  newLife: boolean;
  lifeStamp: Hlc | undefined;
  // A short array beats a Map here: rows have few columns and most rows are new.
  cells: Change[];
}

/**
 * Decides what a batch of remote changes does to a replica, with no I/O: causal length first
 * (a greater `cl` wins: delete or resurrect; changes of earlier lives are discarded), then
 * per-column last-writer-wins within the winning life (equal stamps ordered by value). The result is the same whatever the order,
 * duplication or splitting of the batch. If any stamp is further ahead than `drift` allows, the
 * whole batch is refused.
 *
 * This is the merge hot path, guarded by the `core.merge` benchmark: one pass, one map entry and
 * one small array per row, nothing allocated per cell.
 *
 * @example
 * ```ts
 * const result = mergeBatch(changes, (table, key) => rows.get(table)?.get(key), {
 *   nowMs: Date.now(),
 *   maxDriftMs: 300_000,
 * });
 * ```
 */
export function mergeBatch(
  changes: readonly Change[],
  lookup: LocalRowLookup,
  drift?: DriftBound,
): MergeResult {
  const tables = new Map<string, Map<string, MutableRowMerge>>();
  const decided: MutableRowMerge[] = [];
  let tableRows: Map<string, MutableRowMerge> | undefined;
  const limit = drift ? drift.nowMs + drift.maxDriftMs : Number.POSITIVE_INFINITY;
  let maxStamp: Hlc | undefined;
  let lastPk: Uint8Array | undefined;
  let lastTable = '';
  let row: MutableRowMerge | undefined;

  for (let i = 0; i < changes.length; i++) {
    const change = changes[i]!;
    const stamp = change.stamp;
    if (stamp.wall > limit) {
      return { ok: false, error: new DriftError(stamp, drift!.nowMs, drift!.maxDriftMs) };
    }
    if (maxStamp === undefined || compareHlc(stamp, maxStamp) > 0) maxStamp = stamp;

    // Changes of one row usually share their pk array: skip re-keying them.
    if (change.pk !== lastPk || change.table !== lastTable || row === undefined) {
      if (change.table !== lastTable || tableRows === undefined) {
        tableRows = tables.get(change.table);
        if (tableRows === undefined) {
          tableRows = new Map();
          tables.set(change.table, tableRows);
        }
      }
      const pkKey = primaryKeyString(change.pk);
      row = tableRows.get(pkKey);
      if (row === undefined) {
        const local = lookup(change.table, pkKey);
        row = {
          table: change.table,
          pk: change.pk,
          key: pkKey,
          local,
          cl: local?.cl ?? NEVER_EXISTED,
          newLife: false,
          lifeStamp: undefined,
          cells: [],
        };
        tableRows.set(pkKey, row);
        decided.push(row);
      }
      lastPk = change.pk;
      lastTable = change.table;
    }

    const cl = change.cl;
    if (cl < row.cl) continue;
    if (cl > row.cl) {
      row.cl = cl;
      row.newLife = true;
      row.lifeStamp = undefined;
      row.cells.length = 0;
    }
    const column = change.column;
    if (column === null) {
      if (row.newLife && (row.lifeStamp === undefined || compareHlc(stamp, row.lifeStamp) > 0)) {
        row.lifeStamp = stamp;
      }
      continue;
    }
    if (!isLive(cl)) continue;
    const cells = row.cells;
    let at = 0;
    while (at < cells.length && cells[at]!.column !== column) at++;
    // Equal stamps with different values (a restored device reissued a stamp) are ordered by
    // value, so the same set of changes wins whatever the order it arrives in.
    if (at < cells.length) {
      const order = compareHlc(stamp, cells[at]!.stamp);
      if (order > 0 || (order === 0 && compareSqlValues(change.value, cells[at]!.value) > 0)) {
        cells[at] = change;
      }
    } else {
      const localStamp = row.newLife ? undefined : row.local?.stampOf(column);
      const order = localStamp === undefined ? 1 : compareHlc(stamp, localStamp);
      if (
        order > 0 ||
        (order === 0 && compareSqlValues(change.value, row.local!.valueOf(column)) > 0)
      ) {
        cells.push(change);
      }
    }
  }

  let kept = 0;
  for (let i = 0; i < decided.length; i++) {
    const candidate = decided[i]!;
    if (!candidate.newLife && candidate.cells.length === 0) continue;
    if (candidate.newLife && candidate.lifeStamp === undefined) {
      for (const cell of candidate.cells) {
        if (candidate.lifeStamp === undefined || compareHlc(cell.stamp, candidate.lifeStamp) > 0) {
          candidate.lifeStamp = cell.stamp;
        }
      }
    }
    decided[kept++] = candidate;
  }
  decided.length = kept;
  return { ok: true, rows: decided, maxStamp };
}
