import type { Change } from '../changes/change.js';
import {
  createDecoder,
  createEncoder,
  DecodeError,
  type Decoder,
  type Encoder,
  readBytes,
  readRaw,
  readString,
  readU8,
  readVarUint,
  remaining,
  toBytes,
  writeBytes,
  writeRaw,
  writeString,
  writeU8,
  writeVarUint,
} from '../changes/encoding.js';
import {
  comparePackedKeys,
  packPrimaryKey,
  primaryKeyString,
  unpackPrimaryKey,
} from '../changes/primary-key.js';
import { type SqlValue, sqlValuesEqual } from '../changes/value.js';
import { readSqlValuePayload, writeSqlValue } from '../changes/value-codec.js';
import { isLive, NEVER_EXISTED, nextDeleteCl, nextInsertCl } from '../crdt/causal-length.js';
import { type LocalRow, mergeBatch } from '../crdt/merge.js';
import { defaultEnv, type Env } from '../env.js';
import { OffsyncError } from '../errors.js';
import { type Hlc, HybridClock } from '../hlc/hlc.js';
import { newSiteId, type SiteId, siteIdFromBytes, siteIdToBytes } from '../hlc/site-id.js';

/**
 * A table of a memory replica: its columns (primary-key columns included) and key order.
 *
 * @example
 * ```ts
 * const todos: MemoryTableSchema = { name: 'todos', columns: ['id', 'title'], primaryKey: ['id'] };
 * ```
 */
export interface MemoryTableSchema {
  /** Table name. */
  readonly name: string;
  /** Every column, in declaration order. */
  readonly columns: readonly string[];
  /** Primary-key columns, in key order (a subset of `columns`). */
  readonly primaryKey: readonly string[];
}

/**
 * A local write the replica refuses, as SQLite would (a duplicate key, an unknown column).
 *
 * @example
 * ```ts
 * replica.insert('todos', { id: 'a' });
 * replica.insert('todos', { id: 'a' }); // throws MemoryConstraintError
 * ```
 */
export class MemoryConstraintError extends OffsyncError {
  readonly type = 'MemoryConstraintError';
  /** Table written. */
  readonly table: string;
  /** Why the write was refused. */
  readonly reason: string;

  constructor(table: string, reason: string) {
    super(`${table}: ${reason}`);
    this.table = table;
    this.reason = reason;
  }
}

/** Options of a {@link MemoryReplica}. */
export interface MemoryReplicaOptions {
  /** The replica's site id; a new random one if absent. */
  readonly site?: SiteId;
  /** Clock and randomness; the real ones if absent. */
  readonly env?: Env;
  /** Drift bound for received stamps (default 5 minutes). */
  readonly maxDriftMs?: number;
}

interface MemoryTable {
  readonly schema: MemoryTableSchema;
  /** Non-key columns, in schema order: the positions of a row's cell arrays. */
  readonly valueColumns: readonly string[];
  readonly columnIndex: ReadonlyMap<string, number>;
  readonly rows: Map<string, MemoryRow>;
}

// A row's cells live in one flat array, three slots per value column (value, stamp, seq): one
// allocation per row and none per cell, which the core.merge benchmark measures.
class MemoryRow implements LocalRow {
  readonly cells: (SqlValue | Hlc | undefined)[];

  constructor(
    readonly table: MemoryTable,
    readonly pk: Uint8Array,
    public cl: number,
    public lifeStamp: Hlc,
    public lifeSeq: number,
  ) {
    this.cells = new Array(table.valueColumns.length * 3);
    this.reset(cl, lifeStamp, lifeSeq);
  }

  value(i: number): SqlValue {
    return this.cells[i * 3] as SqlValue;
  }

  stamp(i: number): Hlc | undefined {
    return this.cells[i * 3 + 1] as Hlc | undefined;
  }

  seq(i: number): number {
    return this.cells[i * 3 + 2] as unknown as number;
  }

  set(i: number, value: SqlValue, stamp: Hlc, seq: number): void {
    this.cells[i * 3] = value;
    this.cells[i * 3 + 1] = stamp;
    this.cells[i * 3 + 2] = seq as unknown as SqlValue;
  }

  stampOf(column: string): Hlc | undefined {
    const index = this.table.columnIndex.get(column);
    return index === undefined ? undefined : this.stamp(index);
  }

  valueOf(column: string): SqlValue {
    const index = this.table.columnIndex.get(column);
    return index === undefined ? null : (this.value(index) ?? null);
  }

  /** The greatest local sequence of the row's life and cells. */
  lastSeq(): number {
    let last = this.lifeSeq;
    for (let i = 0; i < this.table.valueColumns.length; i++) last = Math.max(last, this.seq(i));
    return last;
  }

  /** Forgets every cell: the row entered a new life. */
  reset(cl: number, lifeStamp: Hlc, lifeSeq: number): void {
    this.cl = cl;
    this.lifeStamp = lifeStamp;
    this.lifeSeq = lifeSeq;
    for (let i = 0; i < this.cells.length; i += 3) {
      this.cells[i] = null;
      this.cells[i + 1] = undefined;
      this.cells[i + 2] = 0 as unknown as SqlValue;
    }
  }
}

const SNAPSHOT_MAGIC = new Uint8Array([0x4f, 0x46, 0x53, 0x4d]); // "OFSM"

/**
 * An in-memory replica: tables of rows with per-cell stamps and causal lengths, a hybrid logical
 * clock, a local change sequence, "changes since", and merge of remote changes. It is the
 * reference model the SQLite replicas are checked against, and small enough to read in one go.
 *
 * @example
 * ```ts
 * const a = new MemoryReplica();
 * const b = new MemoryReplica();
 * for (const r of [a, b]) r.createTable({ name: 'todos', columns: ['id', 'title'], primaryKey: ['id'] });
 * a.insert('todos', { id: 't1', title: 'milk' });
 * b.apply(a.changesSince(0));
 * b.rows('todos'); // [{ id: 't1', title: 'milk' }]
 * ```
 */
export class MemoryReplica {
  /** This replica's site id. */
  readonly site: SiteId;
  readonly #clock: HybridClock;
  readonly #env: Env;
  readonly #tables = new Map<string, MemoryTable>();
  #seq = 0;

  constructor(options: MemoryReplicaOptions = {}) {
    this.#env = options.env ?? defaultEnv;
    this.site = options.site ?? newSiteId(this.#env);
    this.#clock = new HybridClock(this.site, {
      env: this.#env,
      ...(options.maxDriftMs === undefined ? {} : { maxDriftMs: options.maxDriftMs }),
    });
  }

  /** The local sequence number of the latest change (0 before any). */
  get version(): number {
    return this.#seq;
  }

  /** The clock's last stamp. */
  get clock(): Hlc {
    return this.#clock.last;
  }

  /** Adds a synced table (idempotent for an identical schema). */
  createTable(schema: MemoryTableSchema): void {
    const existing = this.#tables.get(schema.name);
    if (existing) {
      if (JSON.stringify(existing.schema) !== JSON.stringify(schema)) {
        throw new MemoryConstraintError(schema.name, 'table exists with a different schema');
      }
      return;
    }
    if (schema.primaryKey.length === 0)
      throw new MemoryConstraintError(schema.name, 'no primary key');
    for (const column of schema.primaryKey) {
      if (!schema.columns.includes(column)) {
        throw new MemoryConstraintError(
          schema.name,
          `primary-key column ${column} is not a column`,
        );
      }
    }
    const valueColumns = schema.columns.filter((column) => !schema.primaryKey.includes(column));
    this.#tables.set(schema.name, {
      schema: {
        name: schema.name,
        columns: [...schema.columns],
        primaryKey: [...schema.primaryKey],
      },
      valueColumns,
      columnIndex: new Map(valueColumns.map((column, i) => [column, i])),
      rows: new Map(),
    });
  }

  /** Names of the tables, sorted. */
  tableNames(): string[] {
    return [...this.#tables.keys()].sort();
  }

  /** Inserts a row; columns not given are NULL. Throws if the key is present. */
  insert(table: string, values: Readonly<Record<string, SqlValue>>): void {
    const target = this.#table(table);
    const pk = this.#packKey(target, values);
    const key = primaryKeyString(pk);
    const existing = target.rows.get(key);
    if (existing && isLive(existing.cl)) {
      throw new MemoryConstraintError(table, 'UNIQUE constraint failed: primary key exists');
    }
    this.#checkColumns(target, values);
    const stamp = this.#clock.now();
    const seq = ++this.#seq;
    const row = new MemoryRow(target, pk, nextInsertCl(existing?.cl ?? NEVER_EXISTED), stamp, seq);
    target.valueColumns.forEach((column, i) => {
      row.set(i, values[column] ?? null, stamp, seq);
    });
    target.rows.set(key, row);
  }

  /** Updates columns of a present row; returns false (and changes nothing) if it is absent. */
  update(
    table: string,
    key: readonly SqlValue[],
    values: Readonly<Record<string, SqlValue>>,
  ): boolean {
    const target = this.#table(table);
    const row = target.rows.get(primaryKeyString(packPrimaryKey(key)));
    if (!row || !isLive(row.cl)) return false;
    this.#checkColumns(target, values);
    for (const column of target.schema.primaryKey) {
      if (column in values)
        throw new MemoryConstraintError(table, 'primary-key columns cannot be updated');
    }
    const changed = Object.keys(values)
      .map((column) => target.columnIndex.get(column)!)
      .filter((i) => !sqlValuesEqual(row.value(i), values[target.valueColumns[i]!]!));
    if (changed.length === 0) return true;
    const stamp = this.#clock.now();
    const seq = ++this.#seq;
    for (const i of changed) row.set(i, values[target.valueColumns[i]!]!, stamp, seq);
    return true;
  }

  /** Deletes a present row; returns false if it is absent. */
  delete(table: string, key: readonly SqlValue[]): boolean {
    const target = this.#table(table);
    const row = target.rows.get(primaryKeyString(packPrimaryKey(key)));
    if (!row || !isLive(row.cl)) return false;
    const stamp = this.#clock.now();
    const seq = ++this.#seq;
    row.reset(nextDeleteCl(row.cl), stamp, seq);
    return true;
  }

  /**
   * Every change this replica holds with a local sequence above `seq`: for each row changed since,
   * its row sentinel (if its life changed since) and its cells changed since, with their current
   * values.
   */
  changesSince(seq: number): Change[] {
    // A reference model, not an index: scan every row, then order by sequence.
    const changed: { row: MemoryRow; lastSeq: number }[] = [];
    for (const target of this.#tables.values()) {
      for (const row of target.rows.values()) {
        const lastSeq = row.lastSeq();
        if (lastSeq > seq) changed.push({ row, lastSeq });
      }
    }
    changed.sort((a, b) => a.lastSeq - b.lastSeq);
    const changes: Change[] = [];
    for (const { row } of changed) {
      const table = row.table.schema.name;
      const { pk, cl } = row;
      if (row.lifeSeq > seq) {
        changes.push({
          table,
          pk,
          column: null,
          value: null,
          stamp: row.lifeStamp,
          cl,
          seq: row.lifeSeq,
        });
      }
      row.table.valueColumns.forEach((column, i) => {
        const stamp = row.stamp(i);
        if (stamp !== undefined && row.seq(i) > seq) {
          changes.push({ table, pk, column, value: row.value(i), stamp, cl, seq: row.seq(i) });
        }
      });
    }
    return changes;
  }

  /**
   * Merges remote changes. All or nothing: a stamp beyond the drift bound, or a change to an
   * unknown table or column, refuses the whole batch and changes nothing. Returns the number of
   * rows that changed.
   */
  apply(changes: readonly Change[]): number {
    let target: MemoryTable | undefined;
    for (const change of changes) {
      if (target?.schema.name !== change.table) target = this.#tables.get(change.table);
      if (!target)
        throw new MemoryConstraintError(change.table, 'table is not synced on this replica');
      if (change.column !== null && !target.columnIndex.has(change.column)) {
        throw new MemoryConstraintError(change.table, `no column ${change.column}`);
      }
    }
    const result = mergeBatch(changes, (table, key) => this.#tables.get(table)?.rows.get(key), {
      nowMs: this.#clock.physicalNow(),
      maxDriftMs: this.#clock.maxDriftMs,
    });
    if (!result.ok) throw result.error;
    if (result.maxStamp) this.#clock.observe(result.maxStamp);
    for (const decision of result.rows) {
      const seq = ++this.#seq;
      let row = decision.local as MemoryRow | undefined;
      if (decision.newLife) {
        if (row) {
          row.reset(decision.cl, decision.lifeStamp!, seq);
        } else {
          const table = this.#tables.get(decision.table)!;
          row = new MemoryRow(table, decision.pk, decision.cl, decision.lifeStamp!, seq);
          table.rows.set(decision.key, row);
        }
      }
      const columnIndex = row!.table.columnIndex;
      for (const cell of decision.cells) {
        row!.set(columnIndex.get(cell.column!)!, cell.value, cell.stamp, seq);
      }
    }
    return result.rows.length;
  }

  /** The present rows of a table, as objects, ordered by packed primary key. */
  rows(table: string): Record<string, SqlValue>[] {
    const target = this.#table(table);
    const present = [...target.rows.values()].filter((row) => isLive(row.cl));
    present.sort((a, b) => comparePackedKeys(a.pk, b.pk));
    return present.map((row) => {
      const out: Record<string, SqlValue> = {};
      const key = unpackPrimaryKey(row.pk);
      target.schema.primaryKey.forEach((column, i) => {
        out[column] = key[i]!;
      });
      target.valueColumns.forEach((column, i) => {
        out[column] = row.value(i);
      });
      return out;
    });
  }

  /**
   * A canonical byte image of the replicated state: every table, every row (present or deleted)
   * with its causal length, and every cell's value and stamp. Two replicas that received the same
   * changes have byte-equal dumps. Local sequence numbers are not part of it.
   */
  dump(): Uint8Array {
    const encoder = createEncoder(1024);
    for (const name of this.tableNames()) {
      const target = this.#tables.get(name)!;
      writeString(encoder, name);
      const rows = [...target.rows.values()].sort((a, b) => comparePackedKeys(a.pk, b.pk));
      writeVarUint(encoder, rows.length);
      for (const row of rows) {
        writeBytes(encoder, row.pk);
        writeVarUint(encoder, row.cl);
        for (let i = 0; i < target.valueColumns.length; i++) {
          const stamp = row.stamp(i);
          if (stamp === undefined) {
            writeU8(encoder, 0);
            continue;
          }
          writeU8(encoder, 1);
          writeSqlValue(encoder, row.value(i));
          writeStamp(encoder, stamp);
        }
      }
    }
    return toBytes(encoder);
  }

  /** Serialises the whole replica (state, clock, sequence) for {@link MemoryReplica.restore}. */
  snapshot(): Uint8Array {
    const encoder = createEncoder(1024);
    writeRaw(encoder, SNAPSHOT_MAGIC);
    writeRaw(encoder, siteIdToBytes(this.site));
    const last = this.#clock.last;
    writeVarUint(encoder, last.wall);
    writeVarUint(encoder, last.counter);
    writeVarUint(encoder, this.#seq);
    writeVarUint(encoder, this.#tables.size);
    for (const target of this.#tables.values()) {
      const { schema } = target;
      writeString(encoder, schema.name);
      writeStrings(encoder, schema.columns);
      writeStrings(encoder, schema.primaryKey);
      writeVarUint(encoder, target.rows.size);
      for (const row of target.rows.values()) {
        writeBytes(encoder, row.pk);
        writeVarUint(encoder, row.cl);
        writeStamp(encoder, row.lifeStamp);
        writeVarUint(encoder, row.lifeSeq);
        for (let i = 0; i < target.valueColumns.length; i++) {
          const stamp = row.stamp(i);
          if (stamp === undefined) {
            writeU8(encoder, 0);
            continue;
          }
          writeU8(encoder, 1);
          writeSqlValue(encoder, row.value(i));
          writeStamp(encoder, stamp);
          writeVarUint(encoder, row.seq(i));
        }
      }
    }
    return toBytes(encoder);
  }

  /** Rebuilds a replica from {@link MemoryReplica.snapshot}; throws {@link DecodeError} if malformed. */
  static restore(
    snapshot: Uint8Array,
    options: Omit<MemoryReplicaOptions, 'site'> = {},
  ): MemoryReplica {
    const decoder = createDecoder(snapshot);
    const magic = readRaw(decoder, 4, 'snapshot.magic');
    if (!magic.every((byte, i) => byte === SNAPSHOT_MAGIC[i])) {
      throw new DecodeError(0, 'snapshot.magic', 'not a memory replica snapshot');
    }
    const site = siteIdFromBytes(readRaw(decoder, 16, 'snapshot.site'));
    const replica = new MemoryReplica({ ...options, site });
    replica.#clock.observe({
      wall: readVarUint(decoder, 'clock.wall'),
      counter: readVarUint(decoder, 'clock.counter'),
    });
    replica.#seq = readVarUint(decoder, 'seq');
    const tableCount = readVarUint(decoder, 'tables');
    for (let t = 0; t < tableCount; t++) {
      const name = readString(decoder, 'table.name');
      replica.createTable({
        name,
        columns: readStrings(decoder),
        primaryKey: readStrings(decoder),
      });
      const table = replica.#tables.get(name)!;
      const rowCount = readVarUint(decoder, 'rows');
      for (let r = 0; r < rowCount; r++) {
        const pk = readBytes(decoder, 'row.pk');
        const cl = readVarUint(decoder, 'row.cl');
        const lifeStamp = readStamp(decoder);
        const row = new MemoryRow(table, pk, cl, lifeStamp, readVarUint(decoder, 'row.lifeSeq'));
        for (let i = 0; i < table.valueColumns.length; i++) {
          if (readU8(decoder, 'cell.present') === 0) continue;
          const value = readSqlValuePayload(decoder, readU8(decoder, 'cell.kind'), 'cell.value');
          row.set(i, value, readStamp(decoder), readVarUint(decoder, 'cell.seq'));
        }
        table.rows.set(primaryKeyString(pk), row);
      }
    }
    if (remaining(decoder) !== 0) throw new DecodeError(decoder.pos, 'snapshot', 'trailing bytes');
    return replica;
  }

  #table(name: string): MemoryTable {
    const target = this.#tables.get(name);
    if (!target) throw new MemoryConstraintError(name, 'no such table');
    return target;
  }

  #packKey(target: MemoryTable, values: Readonly<Record<string, SqlValue>>): Uint8Array {
    return packPrimaryKey(
      target.schema.primaryKey.map((column) => {
        const value = values[column];
        if (value === undefined || value === null) {
          throw new MemoryConstraintError(
            target.schema.name,
            `NOT NULL constraint failed: ${column}`,
          );
        }
        return value;
      }),
    );
  }

  #checkColumns(target: MemoryTable, values: Readonly<Record<string, SqlValue>>): void {
    for (const column of Object.keys(values)) {
      if (!target.schema.columns.includes(column)) {
        throw new MemoryConstraintError(target.schema.name, `no column ${column}`);
      }
    }
  }
}

function writeStamp(encoder: Encoder, stamp: Hlc): void {
  writeVarUint(encoder, stamp.wall);
  writeVarUint(encoder, stamp.counter);
  writeRaw(encoder, siteIdToBytes(stamp.site));
}

function readStamp(decoder: Decoder): Hlc {
  const wall = readVarUint(decoder, 'stamp.wall');
  const counter = readVarUint(decoder, 'stamp.counter');
  return { wall, counter, site: siteIdFromBytes(readRaw(decoder, 16, 'stamp.site')) };
}

function writeStrings(encoder: Encoder, values: readonly string[]): void {
  writeVarUint(encoder, values.length);
  for (const value of values) writeString(encoder, value);
}

function readStrings(decoder: Decoder): string[] {
  const count = readVarUint(decoder, 'strings');
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(readString(decoder, 'string'));
  return out;
}
