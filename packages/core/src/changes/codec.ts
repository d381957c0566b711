import { OffsyncError } from '../errors.js';
import { compareHlc, HLC_MAX_COUNTER, HLC_MAX_WALL, type Hlc } from '../hlc/hlc.js';
import { SITE_ID_BYTES, type SiteId, siteIdFromBytes, siteIdToBytes } from '../hlc/site-id.js';
import type { Change } from './change.js';
import { crc32 } from './crc32.js';
import {
  createDecoder,
  createEncoder,
  DecodeError,
  type Decoder,
  type Encoder,
  readRaw,
  readString,
  readU8,
  readU32,
  readVarUint,
  remaining,
  toBytes,
  writeBytes,
  writeRaw,
  writeString,
  writeU8,
  writeU32,
  writeVarUint,
} from './encoding.js';
import { primaryKeyString, unpackPrimaryKey } from './primary-key.js';
import type { SqlValue } from './value.js';
import { readSqlValuePayload, writeSqlValue } from './value-codec.js';

/** The four magic bytes that open every changeset: ASCII `OFSC`. */
export const CHANGESET_MAGIC = new Uint8Array([0x4f, 0x46, 0x53, 0x43]);
/** The changeset format version this code writes and reads. */
export const CHANGESET_VERSION = 1;

/**
 * The greatest causal length a changeset may carry (2^31). An honest row reaches it only after a
 * billion deletes and re-inserts; a hostile 2^53 - 1 accepted once would make the next local
 * delete step past 2^53, where a JS number stops being exact and the replica could never encode
 * a changeset again. The bound leaves 2^22 times its value of headroom below that, so local
 * steps on an accepted value never overflow. See `docs/protocol.md`, "Numeric bounds".
 *
 * @example
 * ```ts
 * if (cl > MAX_CAUSAL_LENGTH) throw new Error('refused');
 * ```
 */
export const MAX_CAUSAL_LENGTH = 2 ** 31;

const NEW_STAMP = 0x80;
const ROW_HAS_SENTINEL = 0x01;
const ROW_SENTINEL_NEW_STAMP = 0x02;
const HEADER_BYTES = 6;
const TRAILER_BYTES = 4;

/**
 * A batch of changes as exchanged between replicas, with the schema fingerprint of each table
 * the sender had when it listed them.
 *
 * @example
 * ```ts
 * const bytes = encodeChangeset({ changes, fingerprints: { todos: 'sha256:…' } });
 * ```
 */
export interface Changeset {
  /** The changes, grouped by table, row and life. */
  readonly changes: readonly Change[];
  /** Schema fingerprint per table, where the sender knows it. */
  readonly fingerprints?: Readonly<Record<string, string>>;
}

/**
 * Changes that cannot be encoded (an empty table name, a cell in a deleted life, ...).
 *
 * @example
 * ```ts
 * encodeChangeset({ changes: [{ ...change, cl: 0 }] }); // throws InvalidChangeError
 * ```
 */
export class InvalidChangeError extends OffsyncError {
  readonly type = 'InvalidChangeError';
  /** Table of the offending change. */
  readonly table: string;
  /** Column of the offending change (`null`: the row sentinel). */
  readonly column: string | null;
  /** What is wrong with it. */
  readonly reason: string;

  constructor(table: string, column: string | null, reason: string) {
    super(`invalid change to ${table}${column === null ? '' : `.${column}`}: ${reason}`);
    this.table = table;
    this.column = column;
    this.reason = reason;
  }
}

interface RowGroup {
  readonly pk: Uint8Array;
  readonly cl: number;
  sentinel: Change | undefined;
  readonly cells: Change[];
  /** The group of the same pk array in another life (rare). */
  otherLife: RowGroup | undefined;
}

interface TableGroup {
  readonly rows: RowGroup[];
  /** By pk array identity: the fast path, as rows listed by a replica share one array. */
  readonly byPk: Map<Uint8Array, RowGroup>;
  /** By pk bytes: finds the row when another array holds the same key. */
  readonly byKey: Map<string, RowGroup>;
}

/**
 * The order in which a changeset lists changes: grouped by table (first appearance), then by row
 * and life (first appearance), the row sentinel first, then cells in their original order.
 * `decodeChangeset(encodeChangeset({ changes })).changes` equals `groupChanges(changes)`.
 *
 * @example
 * ```ts
 * const ordered = groupChanges(changes);
 * ```
 */
export function groupChanges(changes: readonly Change[]): Change[] {
  const out: Change[] = [];
  for (const [, table] of groupByTable(changes)) {
    for (const row of table.rows) {
      if (row.sentinel) out.push(row.sentinel);
      for (const cell of row.cells) out.push(cell);
    }
  }
  return out;
}

function groupByTable(changes: readonly Change[]): Map<string, TableGroup> {
  const tables = new Map<string, TableGroup>();
  let table: TableGroup | undefined;
  let row: RowGroup | undefined;
  let lastTable: string | undefined;
  let lastPk: Uint8Array | undefined;
  for (const change of changes) {
    // Changes of one row usually come together and share their pk array: no re-keying then.
    if (change.table !== lastTable || table === undefined) {
      table = tables.get(change.table);
      if (!table) {
        table = { rows: [], byPk: new Map(), byKey: new Map() };
        tables.set(change.table, table);
      }
      lastTable = change.table;
      row = undefined;
    }
    if (row === undefined || change.pk !== lastPk || change.cl !== row.cl) {
      let first = table.byPk.get(change.pk);
      if (first === undefined) {
        const key = primaryKeyString(change.pk);
        first = table.byKey.get(key);
        if (first === undefined) {
          first = {
            pk: change.pk,
            cl: change.cl,
            sentinel: undefined,
            cells: [],
            otherLife: undefined,
          };
          table.byKey.set(key, first);
          table.rows.push(first);
        }
        table.byPk.set(change.pk, first);
      }
      row = first;
      while (row !== undefined && row.cl !== change.cl) row = row.otherLife;
      if (row === undefined) {
        row = {
          pk: first.pk,
          cl: change.cl,
          sentinel: undefined,
          cells: [],
          otherLife: first.otherLife,
        };
        first.otherLife = row;
        table.rows.push(row);
      }
      lastPk = change.pk;
    }
    if (change.column === null) {
      // Two sentinels of one life are the same fact; keep the greater stamp.
      if (!row.sentinel || compareHlc(change.stamp, row.sentinel.stamp) > 0) row.sentinel = change;
    } else {
      row.cells.push(change);
    }
  }
  return tables;
}

/**
 * Checks one change against everything the changeset format bounds (names, causal length,
 * stamp ranges, a sentinel without value); throws {@link InvalidChangeError}. Changes that
 * arrive as objects rather than bytes pass through here, so they meet the same bounds as a
 * decoded changeset.
 *
 * @example
 * ```ts
 * for (const change of changes) assertValidChange(change);
 * ```
 */
export function assertValidChange(change: Change): void {
  const { table, column, cl, stamp } = change;
  if (table.length === 0) throw new InvalidChangeError(table, column, 'empty table name');
  if (column !== null && column.length === 0) {
    throw new InvalidChangeError(table, column, 'empty column name');
  }
  if (!Number.isSafeInteger(cl) || cl < 1) {
    throw new InvalidChangeError(table, column, `causal length ${cl} is not a positive integer`);
  }
  if (cl > MAX_CAUSAL_LENGTH) {
    throw new InvalidChangeError(
      table,
      column,
      `causal length ${cl} exceeds the protocol bound 2^31 (${MAX_CAUSAL_LENGTH})`,
    );
  }
  if (column !== null && cl % 2 === 0) {
    throw new InvalidChangeError(
      table,
      column,
      `a cell cannot be written in a deleted life (cl ${cl})`,
    );
  }
  if (column === null && change.value !== null) {
    throw new InvalidChangeError(table, column, 'a row sentinel carries no value');
  }
  if (
    !Number.isInteger(stamp.wall) ||
    stamp.wall < 0 ||
    stamp.wall > HLC_MAX_WALL ||
    !Number.isInteger(stamp.counter) ||
    stamp.counter < 0 ||
    stamp.counter > HLC_MAX_COUNTER
  ) {
    throw new InvalidChangeError(table, column, 'stamp out of range');
  }
}

/**
 * Encodes a batch of changes in the binary changeset format of `docs/protocol.md`: magic,
 * version, a string table, a site table, rows grouped by table and key with varint stamps
 * relative to the batch's earliest wall time, the five SQLite value kinds, and a CRC-32.
 * Written for speed: guarded by the `codec.encode` benchmark.
 *
 * @example
 * ```ts
 * const bytes = encodeChangeset({ changes: replica.changesSince(0) });
 * ```
 */
export function encodeChangeset(changeset: Changeset): Uint8Array {
  const { changes } = changeset;
  const strings = new Map<string, number>();
  const sites = new Map<SiteId, number>();
  let baseWall = Number.POSITIVE_INFINITY;
  for (const change of changes) {
    assertValidChange(change);
    if (!strings.has(change.table)) strings.set(change.table, strings.size);
    if (change.column !== null && !strings.has(change.column))
      strings.set(change.column, strings.size);
    if (!sites.has(change.stamp.site)) sites.set(change.stamp.site, sites.size);
    if (change.stamp.wall < baseWall) baseWall = change.stamp.wall;
  }
  const fingerprints = changeset.fingerprints ?? {};
  for (const table of Object.keys(fingerprints)) {
    const fingerprint = fingerprints[table]!;
    if (!strings.has(table)) strings.set(table, strings.size);
    if (!strings.has(fingerprint)) strings.set(fingerprint, strings.size);
  }
  if (baseWall === Number.POSITIVE_INFINITY) baseWall = 0;

  const encoder = createEncoder(64 + changes.length * 12);
  writeRaw(encoder, CHANGESET_MAGIC);
  writeU8(encoder, CHANGESET_VERSION);
  writeU8(encoder, 0);
  writeVarUint(encoder, strings.size);
  for (const text of strings.keys()) writeString(encoder, text);
  writeVarUint(encoder, sites.size);
  for (const site of sites.keys()) writeRaw(encoder, siteIdToBytes(site));
  writeVarUint(encoder, baseWall);

  const tables = groupByTable(changes);
  const fingerprintOnly = Object.keys(fingerprints).filter((table) => !tables.has(table));
  writeVarUint(encoder, tables.size + fingerprintOnly.length);
  let last: Hlc | undefined;
  const writeStamp = (stamp: Hlc): void => {
    writeVarUint(encoder, stamp.wall - baseWall);
    writeVarUint(encoder, stamp.counter);
    writeVarUint(encoder, sites.get(stamp.site)!);
    last = stamp;
  };
  const isLast = (stamp: Hlc): boolean =>
    last !== undefined &&
    stamp.wall === last.wall &&
    stamp.counter === last.counter &&
    stamp.site === last.site;

  for (const [name, table] of tables) {
    writeTableHeader(encoder, strings, name, fingerprints[name]);
    writeVarUint(encoder, table.rows.length);
    for (const row of table.rows) {
      writeBytes(encoder, row.pk);
      writeVarUint(encoder, row.cl);
      const sentinel = row.sentinel;
      if (sentinel) {
        const fresh = !isLast(sentinel.stamp);
        writeU8(encoder, ROW_HAS_SENTINEL | (fresh ? ROW_SENTINEL_NEW_STAMP : 0));
        if (fresh) writeStamp(sentinel.stamp);
      } else {
        writeU8(encoder, 0);
      }
      writeVarUint(encoder, row.cells.length);
      for (const cell of row.cells) {
        writeVarUint(encoder, strings.get(cell.column!)!);
        const fresh = !isLast(cell.stamp);
        writeSqlValueWithStamp(encoder, cell, fresh, writeStamp);
      }
    }
  }
  for (const name of fingerprintOnly) {
    writeTableHeader(encoder, strings, name, fingerprints[name]);
    writeVarUint(encoder, 0);
  }
  writeU32(encoder, crc32(encoder.bytes, 0, encoder.length));
  return toBytes(encoder);
}

function writeTableHeader(
  encoder: Encoder,
  strings: Map<string, number>,
  name: string,
  fingerprint: string | undefined,
): void {
  if (!strings.has(name))
    throw new InvalidChangeError(name, null, 'table missing from string table');
  writeVarUint(encoder, strings.get(name)!);
  writeVarUint(encoder, fingerprint === undefined ? 0 : strings.get(fingerprint)! + 1);
}

function writeSqlValueWithStamp(
  encoder: Encoder,
  cell: Change,
  fresh: boolean,
  writeStamp: (stamp: Hlc) => void,
): void {
  if (!fresh) {
    writeSqlValue(encoder, cell.value);
    return;
  }
  // The kind byte comes first with the new-stamp flag, then the stamp, then the payload:
  // write the value into place, then splice the stamp after its kind byte.
  const kindAt = encoder.length;
  writeSqlValue(encoder, cell.value, NEW_STAMP);
  const payload = encoder.bytes.slice(kindAt + 1, encoder.length);
  encoder.length = kindAt + 1;
  writeStamp(cell.stamp);
  writeRaw(encoder, payload);
}

/**
 * The result of {@link tryDecodeChangeset}: a changeset, or the reason there is none.
 *
 * @example
 * ```ts
 * const result = tryDecodeChangeset(bytes);
 * if (result.ok) apply(result.changeset.changes);
 * ```
 */
export type DecodeResult =
  | { readonly ok: true; readonly changeset: DecodedChangeset }
  | { readonly ok: false; readonly error: DecodeError };

/**
 * A decoded changeset.
 *
 * @example
 * ```ts
 * const { changes, fingerprints } = decodeChangeset(bytes);
 * ```
 */
export interface DecodedChangeset extends Changeset {
  /** The changes, in the order of {@link groupChanges}. */
  readonly changes: Change[];
  /** Schema fingerprint per table, where the sender gave one. */
  readonly fingerprints: Record<string, string>;
}

/**
 * Decodes a changeset. Total: any byte string yields a changeset or throws a
 * {@link DecodeError} naming the field and byte offset; nothing else is ever thrown, and no
 * allocation exceeds what the input's length justifies.
 *
 * @example
 * ```ts
 * const { changes } = decodeChangeset(bytes);
 * ```
 */
export function decodeChangeset(bytes: Uint8Array): DecodedChangeset {
  const result = tryDecodeChangeset(bytes);
  if (!result.ok) throw result.error;
  return result.changeset;
}

/**
 * Decodes a changeset without throwing: returns the changeset or the {@link DecodeError}.
 *
 * @example
 * ```ts
 * const result = tryDecodeChangeset(bytes);
 * ```
 */
export function tryDecodeChangeset(bytes: Uint8Array): DecodeResult {
  try {
    if (!(bytes instanceof Uint8Array)) {
      return { ok: false, error: new DecodeError(0, 'changeset', 'input is not a Uint8Array') };
    }
    return { ok: true, changeset: decodeUnchecked(bytes) };
  } catch (error) {
    if (error instanceof DecodeError) return { ok: false, error };
    // Anything else is a bug in the decoder; still report it as data, never untyped.
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      error: new DecodeError(0, 'changeset', `internal decoder fault: ${reason}`),
    };
  }
}

function decodeUnchecked(bytes: Uint8Array): DecodedChangeset {
  const changes: Change[] = [];
  const fingerprints: Record<string, string> = {};
  let table = '';
  let pk: Uint8Array = new Uint8Array(0);
  let cl = 0;
  walkChangeset(bytes, {
    table(name, fingerprint) {
      table = name;
      if (fingerprint !== undefined) fingerprints[name] = fingerprint;
    },
    row(rowPk, _key, rowCl, sentinel) {
      pk = rowPk.slice();
      cl = rowCl;
      if (sentinel) changes.push({ table, pk, column: null, value: null, stamp: sentinel, cl });
    },
    cell(column, value, stamp) {
      changes.push({ table, pk, column, value, stamp, cl });
    },
  });
  return { changes, fingerprints };
}

/**
 * What {@link walkChangeset} reports, in the order of the changeset: each table, then each of its
 * row groups, then that group's cells.
 *
 * @example
 * ```ts
 * const visitor: ChangesetVisitor = {
 *   table: (name) => console.log(name),
 *   row: (pk, key, cl) => console.log(key, cl),
 *   cell: (column, value) => console.log(column, value),
 * };
 * ```
 */
export interface ChangesetVisitor {
  /** A table's section begins, with the sender's schema fingerprint if it gave one. */
  table(name: string, fingerprint: string | undefined): void;
  /**
   * A row group: the packed key (a view into the input: copy it to keep it), its values, the
   * life's causal length, and the stamp of the row sentinel when the group has one.
   */
  row(pk: Uint8Array, key: SqlValue[], cl: number, sentinel: Hlc | undefined): void;
  /** A cell of the current row group. */
  cell(column: string, value: SqlValue, stamp: Hlc): void;
}

/**
 * Reads a changeset and reports its contents to `visitor` without building `Change` objects:
 * the path for consumers that turn a changeset straight into something else (a bulk write).
 * Checks everything {@link decodeChangeset} checks, the CRC before any report, and throws the
 * same {@link DecodeError}s; a visitor may throw to stop the walk.
 *
 * @example
 * ```ts
 * let cells = 0;
 * walkChangeset(bytes, { table() {}, row() {}, cell: () => void cells++ });
 * ```
 */
export function walkChangeset(bytes: Uint8Array, visitor: ChangesetVisitor): void {
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) {
    throw new DecodeError(0, 'changeset', `${bytes.length} bytes is shorter than any changeset`);
  }
  for (let i = 0; i < CHANGESET_MAGIC.length; i++) {
    if (bytes[i] !== CHANGESET_MAGIC[i])
      throw new DecodeError(i, 'magic', 'not an OffSync changeset');
  }
  if (bytes[4] !== CHANGESET_VERSION) {
    throw new DecodeError(
      4,
      'version',
      `format version ${bytes[4]} is not supported (expected ${CHANGESET_VERSION})`,
    );
  }
  if (bytes[5] !== 0)
    throw new DecodeError(5, 'flags', `unknown flags 0x${bytes[5]!.toString(16)}`);
  const bodyEnd = bytes.length - TRAILER_BYTES;
  const expectedCrc = readU32(createDecoder(bytes, bodyEnd), 'crc');
  const actualCrc = crc32(bytes, 0, bodyEnd);
  if (expectedCrc !== actualCrc) {
    throw new DecodeError(
      bodyEnd,
      'crc',
      `CRC-32 mismatch: stored ${hex32(expectedCrc)}, computed ${hex32(actualCrc)}`,
    );
  }

  const decoder = createDecoder(bytes, HEADER_BYTES, bodyEnd);
  const stringCount = readCount(decoder, 1, 'strings.count');
  const strings: string[] = new Array(stringCount);
  for (let i = 0; i < stringCount; i++) strings[i] = readString(decoder, 'strings');
  const siteCount = readCount(decoder, SITE_ID_BYTES, 'sites.count');
  const sites: SiteId[] = new Array(siteCount);
  for (let i = 0; i < siteCount; i++)
    sites[i] = siteIdFromBytes(readRaw(decoder, SITE_ID_BYTES, 'sites'));
  const baseWall = readVarUint(decoder, 'baseWall');
  if (baseWall > HLC_MAX_WALL)
    throw new DecodeError(decoder.pos, 'baseWall', 'wall time exceeds 2^48');

  let last: Hlc | undefined;
  const readStamp = (field: string): Hlc => {
    const at = decoder.pos;
    const wall = baseWall + readVarUint(decoder, `${field}.wall`);
    const counter = readVarUint(decoder, `${field}.counter`);
    const siteIndex = readVarUint(decoder, `${field}.site`);
    if (wall > HLC_MAX_WALL) throw new DecodeError(at, `${field}.wall`, 'wall time exceeds 2^48');
    if (counter > HLC_MAX_COUNTER)
      throw new DecodeError(at, `${field}.counter`, 'counter exceeds 2^16 - 1');
    if (siteIndex >= siteCount)
      throw new DecodeError(at, `${field}.site`, `site index ${siteIndex} of ${siteCount}`);
    last = { wall, counter, site: sites[siteIndex]! };
    return last;
  };
  const reuseStamp = (field: string): Hlc => {
    if (!last)
      throw new DecodeError(decoder.pos, field, 'reuses a stamp before any stamp was given');
    return last;
  };

  const tableCount = readCount(decoder, 2, 'tables.count');
  const seenTables = new Set<string>();
  for (let t = 0; t < tableCount; t++) {
    const table = readStringRef(decoder, strings, 'table.name');
    if (seenTables.has(table))
      throw new DecodeError(decoder.pos, 'table.name', `table ${table} appears twice`);
    seenTables.add(table);
    const fingerprintRef = readVarUint(decoder, 'table.fingerprint');
    if (fingerprintRef > stringCount) {
      throw new DecodeError(
        decoder.pos,
        'table.fingerprint',
        `string index ${fingerprintRef - 1} of ${stringCount}`,
      );
    }
    visitor.table(table, fingerprintRef > 0 ? strings[fingerprintRef - 1]! : undefined);
    const rowCount = readCount(decoder, 4, 'table.rows');
    for (let r = 0; r < rowCount; r++) {
      const pkAt = decoder.pos;
      const pkLength = readVarUint(decoder, 'row.pk');
      const pk = readRaw(decoder, pkLength, 'row.pk');
      let key: SqlValue[];
      try {
        key = unpackPrimaryKey(pk);
      } catch (error) {
        if (error instanceof DecodeError) {
          throw new DecodeError(pkAt, 'row.pk', `malformed primary key: ${error.reason}`);
        }
        throw error;
      }
      const clAt = decoder.pos;
      const cl = readVarUint(decoder, 'row.cl');
      if (cl < 1) throw new DecodeError(clAt, 'row.cl', 'causal length must be at least 1');
      if (cl > MAX_CAUSAL_LENGTH) {
        throw new DecodeError(clAt, 'row.cl', `causal length ${cl} exceeds 2^31`);
      }
      const flagsAt = decoder.pos;
      const flags = readU8(decoder, 'row.flags');
      if (
        flags & ~(ROW_HAS_SENTINEL | ROW_SENTINEL_NEW_STAMP) ||
        flags === ROW_SENTINEL_NEW_STAMP
      ) {
        throw new DecodeError(flagsAt, 'row.flags', `invalid row flags 0x${flags.toString(16)}`);
      }
      let sentinel: Hlc | undefined;
      if (flags & ROW_HAS_SENTINEL) {
        sentinel =
          flags & ROW_SENTINEL_NEW_STAMP ? readStamp('row.stamp') : reuseStamp('row.stamp');
      }
      const cellCount = readCount(decoder, 2, 'row.cells');
      if (cellCount === 0 && !(flags & ROW_HAS_SENTINEL)) {
        throw new DecodeError(flagsAt, 'row', 'a row group without sentinel must hold cells');
      }
      if (cellCount > 0 && cl % 2 === 0) {
        throw new DecodeError(clAt, 'row.cl', `cells cannot belong to a deleted life (cl ${cl})`);
      }
      visitor.row(pk, key, cl, sentinel);
      for (let c = 0; c < cellCount; c++) {
        const column = readStringRef(decoder, strings, 'cell.column');
        const kindByte = readU8(decoder, 'cell.kind');
        const stamp = kindByte & NEW_STAMP ? readStamp('cell.stamp') : reuseStamp('cell.stamp');
        const value = readSqlValuePayload(decoder, kindByte & 0x7f, 'cell.value');
        visitor.cell(column, value, stamp);
      }
    }
  }
  if (remaining(decoder) !== 0) {
    throw new DecodeError(
      decoder.pos,
      'changeset',
      `${remaining(decoder)} unread byte(s) before the CRC`,
    );
  }
}

function readCount(decoder: Decoder, minBytesEach: number, field: string): number {
  const at = decoder.pos;
  const count = readVarUint(decoder, field);
  // Each item needs at least minBytesEach bytes, so a count the input cannot hold is refused
  // before anything is allocated for it.
  if (count * minBytesEach > remaining(decoder)) {
    throw new DecodeError(
      at,
      field,
      `count ${count} exceeds what ${remaining(decoder)} remaining bytes can hold`,
    );
  }
  return count;
}

function readStringRef(decoder: Decoder, strings: readonly string[], field: string): string {
  const at = decoder.pos;
  const index = readVarUint(decoder, field);
  if (index >= strings.length)
    throw new DecodeError(at, field, `string index ${index} of ${strings.length}`);
  const text = strings[index]!;
  if (text.length === 0) throw new DecodeError(at, field, 'empty name');
  return text;
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
