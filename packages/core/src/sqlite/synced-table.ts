import { InvalidChangeError } from '../changes/codec.js';
import { createEncoder, toBytes, writeVarUint } from '../changes/encoding.js';
import { primaryKeyString, unpackPrimaryKey } from '../changes/primary-key.js';
import type { SqlValue } from '../changes/value.js';
import { writeSqlValue } from '../changes/value-codec.js';
import type { SqliteDriver, SqliteStatement } from './driver.js';
import type { ColumnSlot } from './row-clocks.js';
import type { EnableSyncOptions, TableSchema } from './schema.js';
import { type ShadowNames, shadowNames } from './shadow-tables.js';

/**
 * A synced value column: its stable id (kept across renames), name, position in the capture
 * mask, and the sequence at which it was added.
 *
 * @example
 * ```ts
 * const column: SyncedColumn = { id: 1, name: 'title', position: 0, addedSeq: 0 };
 * ```
 */
export interface SyncedColumn extends ColumnSlot {
  /** Current name. */
  readonly name: string;
  /** Bit position in the log's change masks (declaration order among value columns). */
  readonly position: number;
}

/**
 * A row of a metadata table, with its key values.
 *
 * @example
 * ```ts
 * const row: MetaRow = { key: ['t1'], cl: 1, seq: 4, sid: 1, dseq: null, clocks: null };
 * ```
 */
export interface MetaRow {
  /** Primary-key values, in key order. */
  readonly key: SqlValue[];
  /** Causal length. */
  readonly cl: number;
  /** Greatest sequence of the row. */
  readonly seq: number;
  /** Default clock's stamp id. */
  readonly sid: number;
  /** Default clock's sequence, or `null` when equal to `seq`. */
  readonly dseq: number | null;
  /** Clock exceptions, or `null`. */
  readonly clocks: Uint8Array | null;
}

/**
 * Everything the replica knows about one synced table, with its prepared statements.
 *
 * @example
 * ```ts
 * const table = new SyncedTable(driver, 3, schema, fingerprint, columns, {});
 * table.meta(['t1']); // the row's metadata, or undefined
 * ```
 */
export class SyncedTable {
  readonly shadow: ShadowNames;
  readonly columnsByName: ReadonlyMap<string, SyncedColumn>;
  readonly columnsById: ReadonlyMap<number, SyncedColumn>;
  readonly #driver: SqliteDriver;
  readonly #keyEncoder = createEncoder(64);
  #selectMeta: SqliteStatement | undefined;

  constructor(
    driver: SqliteDriver,
    readonly id: number,
    readonly schema: TableSchema,
    readonly fingerprint: string,
    /** Value columns in declaration (= mask) order. */
    readonly columns: readonly SyncedColumn[],
    readonly options: EnableSyncOptions,
  ) {
    this.#driver = driver;
    this.shadow = shadowNames(id, schema, columns.length);
    this.columnsByName = new Map(columns.map((column) => [column.name, column]));
    this.columnsById = new Map(columns.map((column) => [column.id, column]));
  }

  /** The table's name. */
  get name(): string {
    return this.schema.name;
  }

  /** Number of primary-key columns. */
  get keyWidth(): number {
    return this.schema.primaryKey.length;
  }

  /**
   * Packs key values read from SQLite into a change's `pk` (the bytes of `packPrimaryKey`). A
   * read packs one key per row: a scratch encoder kept across calls leaves one allocation per
   * key, the result, instead of three (a UUID outgrows a fresh encoder's first buffer).
   */
  packKey(values: readonly SqlValue[]): Uint8Array {
    const encoder = this.#keyEncoder;
    encoder.length = 0;
    writeVarUint(encoder, values.length);
    for (const value of values) writeSqlValue(encoder, value);
    return toBytes(encoder);
  }

  /**
   * Unpacks a change's `pk` into key values: throws `DecodeError` if malformed, and
   * `InvalidChangeError` if it does not hold one value per key column (SQLite would otherwise
   * fail untyped on the wrong parameter count, or match a prefix of the key).
   */
  unpackKey(pk: Uint8Array): SqlValue[] {
    const key = unpackPrimaryKey(pk);
    if (key.length !== this.keyWidth) {
      throw new InvalidChangeError(
        this.name,
        null,
        `the key has ${key.length} column(s), the table's primary key has ${this.keyWidth}`,
      );
    }
    return key;
  }

  /** The metadata of the row with key `key`, if any. */
  meta(key: readonly SqlValue[]): MetaRow | undefined {
    this.#selectMeta ??= this.#driver.prepare(
      `SELECT cl, seq, sid, dseq, clocks FROM ${this.shadow.meta} WHERE ${this.shadow.keys.map((k) => `${k} = ?`).join(' AND ')}`,
    );
    const row = this.#selectMeta.all(key)[0];
    return row ? toMetaRow([...key], row, 0) : undefined;
  }
}

/**
 * A string identifying a row by its key values, for grouping: cheap for the usual single TEXT or
 * INTEGER key, the packed key otherwise.
 *
 * @example
 * ```ts
 * keyIdentity(table, ['t1']); // 's:t1'
 * ```
 */
export function keyIdentity(table: SyncedTable, key: readonly SqlValue[]): string {
  if (key.length === 1) {
    const value = key[0];
    if (typeof value === 'string') return `s:${value}`;
    if (typeof value === 'bigint') return `i:${value}`;
  }
  return `p:${primaryKeyString(table.packKey(key))}`;
}

/**
 * Reads a metadata row whose columns `cl, seq, sid, dseq, clocks` start at `offset`.
 *
 * @example
 * ```ts
 * const meta = toMetaRow(key, row, keyWidth);
 * ```
 */
export function toMetaRow(key: SqlValue[], row: readonly SqlValue[], offset: number): MetaRow {
  return {
    key,
    cl: Number(row[offset]),
    seq: Number(row[offset + 1]),
    sid: Number(row[offset + 2]),
    dseq: row[offset + 3] === null ? null : Number(row[offset + 3]),
    clocks: (row[offset + 4] as Uint8Array | null) ?? null,
  };
}
