import {
  BYTE_STRING_MAX,
  byteString,
  createDecoder,
  createEncoder,
  DecodeError,
  readU8,
  readVarUint,
  remaining,
  toBytes,
  writeVarUint,
} from './encoding.js';
import type { SqlValue } from './value.js';
import { readSqlValuePayload, ValueKind, writeSqlValue } from './value-codec.js';

/** Most primary-key columns a packed key may hold. */
export const MAX_PRIMARY_KEY_COLUMNS = 64;

/**
 * Packs the values of a row's primary-key columns (in key order) into bytes: a varint column
 * count, then each value as on the wire (see `docs/protocol.md`, "Packed primary key"). Equal
 * keys pack to equal bytes, so the packed form is the row's identity in changes.
 *
 * @example
 * ```ts
 * packPrimaryKey([1n]); // Uint8Array [0x01, 0x09]
 * ```
 */
export function packPrimaryKey(values: readonly SqlValue[]): Uint8Array {
  const encoder = createEncoder(16);
  writeVarUint(encoder, values.length);
  for (const value of values) writeSqlValue(encoder, value);
  return toBytes(encoder);
}

/**
 * Unpacks {@link packPrimaryKey}'s bytes; throws {@link DecodeError} on malformed input,
 * including a NULL key value (no row has one: `enableSync` refuses nullable key columns).
 *
 * @example
 * ```ts
 * unpackPrimaryKey(packPrimaryKey(['a', 2n])); // ['a', 2n]
 * ```
 */
export function unpackPrimaryKey(packed: Uint8Array): SqlValue[] {
  const decoder = createDecoder(packed);
  const count = readVarUint(decoder, 'primaryKey.count');
  if (count === 0 || count > MAX_PRIMARY_KEY_COLUMNS) {
    throw new DecodeError(
      0,
      'primaryKey.count',
      `a key has 1 to ${MAX_PRIMARY_KEY_COLUMNS} columns, not ${count}`,
    );
  }
  const values: SqlValue[] = [];
  for (let i = 0; i < count; i++) {
    const kind = readU8(decoder, 'primaryKey.value');
    if (kind > 0x7f)
      throw new DecodeError(decoder.pos - 1, 'primaryKey.value', 'flag bit set in a key value');
    // A NULL key has no identity: SQLite would give an INTEGER PRIMARY KEY row a rowid of its own
    // choosing on each replica, so the same change would make different rows.
    if (kind === ValueKind.Null)
      throw new DecodeError(decoder.pos - 1, 'primaryKey.value', `key column ${i + 1} is NULL`);
    values.push(readSqlValuePayload(decoder, kind, 'primaryKey.value'));
  }
  if (remaining(decoder) !== 0) {
    throw new DecodeError(decoder.pos, 'primaryKey', `${remaining(decoder)} trailing byte(s)`);
  }
  return values;
}

/**
 * A string with the same identity as a packed key (one char per byte), for use as a Map key.
 *
 * @example
 * ```ts
 * rows.get(primaryKeyString(change.pk));
 * ```
 */
export function primaryKeyString(packed: Uint8Array): string {
  if (packed.length <= BYTE_STRING_MAX) return byteString(packed, 0, packed.length);
  // Chunked to stay under engine limits on argument count.
  if (packed.length <= 1024) return String.fromCharCode.apply(null, packed as unknown as number[]);
  let out = '';
  for (let i = 0; i < packed.length; i += 1024) {
    out += String.fromCharCode.apply(null, packed.subarray(i, i + 1024) as unknown as number[]);
  }
  return out;
}

/**
 * Compares two packed keys bytewise (the canonical row order of a dump).
 *
 * @example
 * ```ts
 * keys.sort(comparePackedKeys);
 * ```
 */
export function comparePackedKeys(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
