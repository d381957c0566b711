import { type SqlValue, sqlValuesEqual } from '../changes/value.js';
import type { SqliteDriver } from '../sqlite/driver.js';
import type { QueryOptions } from './query-options.js';
import { readTables } from './read-tables.js';
import type { LiveQuery } from './replica-change.js';
import { shapeRows } from './shape-rows.js';

/** What a live query needs from its feed. */
interface LiveQueryHooks {
  /** The query's result column names. */
  readonly names: () => readonly string[];
  /** Called once when the query stops. */
  readonly stopped: (query: LiveQuery<unknown>) => void;
}

/**
 * The live query behind `replica.watch`: the exact rows of the last run (compared value by value,
 * bigint and bytes included, so only a real change calls back) and the tables its plan reads.
 *
 * @example
 * ```ts
 * const live = new LiveQueryImpl(driver, 'SELECT * FROM t', [], render, undefined, hooks);
 * ```
 */
export class LiveQueryImpl<Row> implements LiveQuery<Row> {
  /** The query. */
  readonly sql: string;
  readonly #driver: SqliteDriver;
  readonly #params: readonly SqlValue[];
  readonly #callback: (rows: readonly Row[]) => void;
  readonly #options: QueryOptions | undefined;
  readonly #hooks: LiveQueryHooks;
  #raw: SqlValue[][];
  #rows: readonly Row[];
  #tables: readonly string[] = [];
  #lowerTables = new Set<string>();
  #complete = true;
  #stopped = false;

  constructor(
    driver: SqliteDriver,
    sql: string,
    params: readonly SqlValue[],
    callback: (rows: readonly Row[]) => void,
    options: QueryOptions | undefined,
    hooks: LiveQueryHooks,
  ) {
    this.sql = sql;
    this.#driver = driver;
    // The caller may reuse its array: keep our own.
    this.#params = [...params];
    this.#callback = callback;
    this.#options = options;
    this.#hooks = hooks;
    this.#findTables();
    this.#raw = driver.prepare(sql).all(this.#params);
    this.#rows = shapeRows<Row>(this.#raw, options, hooks.names);
  }

  get rows(): readonly Row[] {
    return this.#rows;
  }

  get tables(): readonly string[] {
    return this.#tables;
  }

  /** Whether {@link LiveQueryImpl.stop} was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#hooks.stopped(this);
  }

  /**
   * Whether a change to `tables` (lowercase names) may change the result. A query that also
   * reads tables which are not synced (`synced`: lowercase names), or something unnamed, re-runs
   * on any commit seen, since their writes are not captured.
   */
  affectedBy(
    tables: ReadonlySet<string>,
    synced: ReadonlySet<string>,
    anyCommit: boolean,
    schema: boolean,
  ): boolean {
    if (schema) return true;
    for (const table of this.#lowerTables) if (tables.has(table)) return true;
    if (!anyCommit) return false;
    if (!this.#complete) return true;
    for (const table of this.#lowerTables) if (!synced.has(table)) return true;
    return false;
  }

  /** Re-runs the query; calls back when the rows differ from the last result. */
  refresh(schemaChanged: boolean): void {
    if (this.#stopped) return;
    if (schemaChanged) this.#findTables();
    const raw = this.#driver.prepare(this.sql).all(this.#params);
    if (sameRows(raw, this.#raw)) return;
    const rows = shapeRows<Row>(raw, this.#options, this.#hooks.names);
    this.#raw = raw;
    this.#rows = rows;
    this.#callback(rows);
  }

  #findTables(): void {
    const read = readTables(this.#driver, this.sql, this.#params);
    this.#tables = read.tables;
    this.#lowerTables = new Set(read.tables.map((table) => table.toLowerCase()));
    this.#complete = read.complete;
  }
}

/** Exact equality of two results: same shape, and every value the same storage class and bytes. */
function sameRows(a: readonly SqlValue[][], b: readonly SqlValue[][]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (!sqlValuesEqual(x[j]!, y[j]!)) return false;
  }
  return true;
}
