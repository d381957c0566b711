import type { Change } from '../changes/change.js';
import type { SqlValue } from '../changes/value.js';
import { isLive } from '../crdt/causal-length.js';
import type { Hlc } from '../hlc/hlc.js';
import type { SiteId } from '../hlc/site-id.js';
import type { ReplicaContext } from './context.js';
import { assertExactRowText, mayBeInexactText } from './exact-text.js';
import { decodeRowClocks, LIFE_SLOT, NO_CLOCK } from './row-clocks.js';
import { quoteIdentifier } from './sql.js';
import type { SyncedTable } from './synced-table.js';

/**
 * Options of `changesSince`.
 *
 * @example
 * ```ts
 * replica.changesSince(cursor, { limit: 500, excludeSite: client.site });
 * ```
 */
export interface ChangesSinceOptions {
  /** Most rows in the page (a row's changes are never split across pages). */
  readonly limit?: number;
  /**
   * Resume a paged read: list rows changed after this position (the previous page's `cursor`)
   * while still sending every cell changed after `seq`. Without it, a row whose latest change
   * falls in a later page would lose the cells it changed before the previous page's end.
   */
  readonly after?: number;
  /** Leave out changes whose stamp comes from this site (what a peer sent itself). */
  readonly excludeSite?: SiteId;
  /** Only changes whose stamp comes from this site (what this replica wrote itself). */
  readonly onlySite?: SiteId;
  /**
   * For every row changed since `seq`, list all its cells of the current life and its sentinel,
   * not only those changed since: what a peer that may never have seen the row needs (a row
   * entering a user's row-level-security scope).
   */
  readonly wholeRows?: boolean;
  /** Only these tables (default: every synced table). */
  readonly tables?: readonly string[];
}

/**
 * A page of changes and where the next page starts.
 *
 * @example
 * ```ts
 * const since = 0;
 * let after = since;
 * for (;;) {
 *   const page = replica.changesSince(since, { limit: 1000, after });
 *   send(page.changes);
 *   after = page.cursor;
 *   if (!page.hasMore) break;
 * }
 * ```
 */
export interface ChangePage {
  /** The changes, ordered by local sequence. */
  readonly changes: Change[];
  /**
   * Where the page ends: pass it as `after` (keeping `seq`) for the next page; when `hasMore` is
   * false it is the replica's version, the `seq` of the next read.
   */
  readonly cursor: number;
  /** Whether more changes follow. */
  readonly hasMore: boolean;
  /** Rows in the page. */
  readonly rows: number;
}

interface RowRead {
  readonly table: SyncedTable;
  readonly row: SqlValue[];
  readonly seq: number;
}

/**
 * Reads the changes with local sequence above `seq`: per table, an index range scan of the
 * metadata on `seq` joined to the table's current values, merged across tables in sequence
 * order. Call after the log was folded.
 *
 * @example
 * ```ts
 * const page = readChangesSince(context, tables, 0, {}, version);
 * ```
 */
export function readChangesSince(
  context: ReplicaContext,
  tables: readonly SyncedTable[],
  seq: number,
  options: ChangesSinceOptions,
  version: number,
): ChangePage {
  const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
  const from = Math.max(seq, options.after ?? seq);
  const perTable: { table: SyncedTable; rows: SqlValue[][] }[] = [];
  for (const table of tables) {
    const { shadow } = table;
    const join = shadow.keys.map((key, i) => `t.${shadow.baseKeys[i]} = m.${key}`).join(' AND ');
    const values = table.columns.map((column) => `t.${quoteIdentifier(column.name)}`);
    const rows = context.driver
      .prepare(
        `SELECT ${shadow.keys.map((key) => `m.${key}`).join(', ')}, m.cl, m.seq, m.sid, m.dseq, m.clocks${values.length ? `, ${values.join(', ')}` : ''}
         FROM ${shadow.meta} m LEFT JOIN ${shadow.table} t ON ${join}
         WHERE m.seq > ? ORDER BY m.seq LIMIT ?`,
      )
      .all([BigInt(from), BigInt(Math.min(limit + 1, Number.MAX_SAFE_INTEGER))]);
    if (rows.length > 0) perTable.push({ table, rows });
  }
  const emitter = new Emitter(context, options.wholeRows ? 0 : seq, siteFilter(options));
  const only = perTable.length === 1 ? perTable[0]! : undefined;
  if (only !== undefined || perTable.length === 0) {
    // One table (the usual case): its rows are already in sequence order, no merge needed.
    const rows = only?.rows ?? [];
    const hasMore = rows.length > limit;
    const count = hasMore ? limit : rows.length;
    for (let i = 0; i < count; i++) emitter.row(only!.table, rows[i]!);
    const seqAt = only ? only.table.keyWidth + 1 : 0;
    return {
      changes: emitter.out,
      cursor: hasMore ? Number(rows[count - 1]![seqAt]) : Math.max(from, version),
      hasMore,
      rows: count,
    };
  }
  const reads: RowRead[] = [];
  for (const { table, rows } of perTable) {
    for (const row of rows) reads.push({ table, row, seq: Number(row[table.keyWidth + 1]) });
  }
  reads.sort((a, b) => a.seq - b.seq);
  const hasMore = reads.length > limit;
  const page = hasMore ? reads.slice(0, limit) : reads;
  for (const read of page) emitter.row(read.table, read.row);
  return {
    changes: emitter.out,
    cursor: hasMore ? page[page.length - 1]!.seq : Math.max(from, version),
    hasMore,
    rows: page.length,
  };
}

/**
 * The whole current state (row sentinel and every cell of the current life) of the rows with the
 * given keys; rows the replica does not know are left out.
 *
 * @example
 * ```ts
 * const changes = readRows(context, table, [['t1']]);
 * ```
 */
export function readRows(
  context: ReplicaContext,
  table: SyncedTable,
  keys: readonly (readonly SqlValue[])[],
): Change[] {
  const { shadow } = table;
  const join = shadow.keys.map((key, i) => `t.${shadow.baseKeys[i]} = m.${key}`).join(' AND ');
  const values = table.columns.map((column) => `, t.${quoteIdentifier(column.name)}`).join('');
  const where = shadow.keys.map((key) => `m.${key} = ?`).join(' AND ');
  const statement = context.driver.prepare(
    `SELECT ${shadow.keys.map((key) => `m.${key}`).join(', ')}, m.cl, m.seq, m.sid, m.dseq, m.clocks${values}
     FROM ${shadow.meta} m LEFT JOIN ${shadow.table} t ON ${join} WHERE ${where}`,
  );
  const emitter = new Emitter(context, 0, () => true);
  for (const key of keys) {
    for (const row of statement.all(key)) emitter.row(table, row);
  }
  return emitter.out;
}

function siteFilter(options: ChangesSinceOptions): (site: SiteId) => boolean {
  const { excludeSite, onlySite } = options;
  if (onlySite !== undefined) return (site) => site === onlySite;
  if (excludeSite !== undefined) return (site) => site !== excludeSite;
  return () => true;
}

/**
 * Turns metadata-joined rows (`m.<keys>, m.cl, m.seq, m.sid, m.dseq, m.clocks, t.<values>`) into
 * changes. It is the hot loop of `changes.since`: a row stored without clock exceptions (most)
 * is read straight from its columns, with no decoded slot map or intermediate objects, and the
 * stamp and site filter of the previous clock are reused (a flush stamps all its rows alike).
 */
class Emitter {
  readonly out: Change[] = [];
  #sid = 0;
  #stamp: Hlc | undefined;
  #kept = false;

  constructor(
    readonly context: ReplicaContext,
    readonly since: number,
    readonly keep: (site: SiteId) => boolean,
  ) {}

  row(table: SyncedTable, row: SqlValue[]): void {
    const width = table.keyWidth;
    // Text a driver could not read exactly must not leave as what it read (see InvalidTextError).
    for (let i = 0; i < row.length; i++) {
      if (mayBeInexactText(row[i])) {
        assertExactRowText(this.context.driver, table, row, width + 5);
        break;
      }
    }
    const cl = Number(row[width]);
    const rowSeq = Number(row[width + 1]);
    const sid = Number(row[width + 2]);
    const dseq = row[width + 3] === null ? null : Number(row[width + 3]);
    const clocks = (row[width + 4] as Uint8Array | null) ?? null;
    // Rows without exceptions (most) need no decoded slot map.
    const slots =
      clocks === null
        ? undefined
        : decodeRowClocks({ seq: rowSeq, sid, dseq, clocks }, table.columns);
    const fallbackSeq = dseq ?? rowSeq;
    const since = this.since;
    const name = table.name;
    const out = this.out;
    let pk: Uint8Array | undefined;
    const lifeSid = slots ? slots.get(LIFE_SLOT)!.sid : sid;
    const lifeSeq = slots ? slots.get(LIFE_SLOT)!.seq : fallbackSeq;
    if (lifeSid !== 0 && lifeSeq > since && this.#keeps(lifeSid)) {
      pk = table.packKey(row.slice(0, width));
      out.push({
        table: name,
        pk,
        column: null,
        value: null,
        stamp: this.#stamp!,
        cl,
        seq: lifeSeq,
      });
    }
    if (!isLive(cl)) return;
    const valuesAt = width + 5;
    const columns = table.columns;
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i]!;
      let clockSid: number;
      let clockSeq: number;
      if (slots) {
        const clock = slots.get(column.id)!;
        clockSid = clock.sid;
        clockSeq = clock.seq;
      } else if (column.addedSeq > rowSeq) {
        clockSid = NO_CLOCK.sid;
        clockSeq = NO_CLOCK.seq;
      } else {
        clockSid = sid;
        clockSeq = fallbackSeq;
      }
      if (clockSid === 0 || clockSeq <= since || !this.#keeps(clockSid)) continue;
      pk ??= table.packKey(row.slice(0, width));
      out.push({
        table: name,
        pk,
        column: column.name,
        value: row[valuesAt + i]!,
        stamp: this.#stamp!,
        cl,
        seq: clockSeq,
      });
    }
  }

  /** Whether the stamp `sid` passes the site filter; leaves it in `#stamp`. */
  #keeps(sid: number): boolean {
    if (sid !== this.#sid || this.#stamp === undefined) {
      this.#stamp = this.context.stamps.stamp(sid);
      this.#sid = sid;
      this.#kept = this.keep(this.#stamp.site);
    }
    return this.#kept;
  }
}
