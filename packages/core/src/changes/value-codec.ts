import { InvalidValueError } from '../errors.js';
import {
  DecodeError,
  type Decoder,
  type Encoder,
  readBytes,
  readFloat32,
  readFloat64,
  readString,
  readVarInt64,
  writeBytes,
  writeFloat32,
  writeFloat64,
  writeString,
  writeU8,
  writeVarInt64,
} from './encoding.js';
import { SQL_INTEGER_MAX, SQL_INTEGER_MIN, type SqlValue } from './value.js';

/**
 * Value kinds on the wire (the low 7 bits of a value's kind byte; see `docs/protocol.md`).
 *
 * @example
 * ```ts
 * ValueKind.Text; // 4
 * ```
 */
export const ValueKind = {
  /** NULL, no payload. */
  Null: 0,
  /** INTEGER, zigzag varint payload. */
  Integer: 1,
  /** REAL, 8-byte little-endian double. */
  Real64: 2,
  /** REAL exactly representable as float32, 4-byte little-endian float. */
  Real32: 3,
  /** TEXT, varint byte length + UTF-8. */
  Text: 4,
  /** BLOB, varint byte length + bytes. */
  Blob: 5,
  /** INTEGER 0..119 carried in the kind byte itself: kind = 8 + value. */
  SmallIntBase: 8,
} as const;

const SMALL_INT_MAX = 0x7f - ValueKind.SmallIntBase;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Writes a value as a kind byte (OR-ed with `flags`, which must only use bit 7) and its payload.
 *
 * @example
 * ```ts
 * writeSqlValue(encoder, 42n); // one byte: 8 + 42
 * ```
 */
export function writeSqlValue(encoder: Encoder, value: SqlValue, flags = 0): void {
  switch (typeof value) {
    case 'bigint':
      if (value >= 0n && value <= BigInt(SMALL_INT_MAX)) {
        writeU8(encoder, flags | (ValueKind.SmallIntBase + Number(value)));
        return;
      }
      if (value < SQL_INTEGER_MIN || value > SQL_INTEGER_MAX) {
        throw new InvalidValueError(`INTEGER ${value} is outside the signed 64-bit range`);
      }
      writeU8(encoder, flags | ValueKind.Integer);
      writeVarInt64(encoder, value);
      return;
    case 'number':
      // Narrow to float32 only when exact; NaN keeps its double bits.
      if (!Number.isNaN(value) && Math.fround(value) === value) {
        writeU8(encoder, flags | ValueKind.Real32);
        writeFloat32(encoder, value);
      } else {
        writeU8(encoder, flags | ValueKind.Real64);
        writeFloat64(encoder, value);
      }
      return;
    case 'string':
      if (LONE_SURROGATE.test(value)) {
        throw new InvalidValueError(
          'TEXT contains a lone UTF-16 surrogate, which UTF-8 cannot hold',
        );
      }
      writeU8(encoder, flags | ValueKind.Text);
      writeString(encoder, value);
      return;
    case 'object':
      if (value === null) {
        writeU8(encoder, flags | ValueKind.Null);
        return;
      }
      if (value instanceof Uint8Array) {
        writeU8(encoder, flags | ValueKind.Blob);
        writeBytes(encoder, value);
        return;
      }
  }
  throw new InvalidValueError(`a ${typeof value} is not a SQL value`);
}

/**
 * Reads the payload of a value whose kind byte (low 7 bits) was already read.
 *
 * @example
 * ```ts
 * const kind = readU8(decoder, 'value.kind') & 0x7f;
 * const value = readSqlValuePayload(decoder, kind, 'value');
 * ```
 */
export function readSqlValuePayload(decoder: Decoder, kind: number, field: string): SqlValue {
  if (kind >= ValueKind.SmallIntBase) return BigInt(kind - ValueKind.SmallIntBase);
  switch (kind) {
    case ValueKind.Null:
      return null;
    case ValueKind.Integer:
      return readVarInt64(decoder, field);
    case ValueKind.Real64:
      return readFloat64(decoder, field);
    case ValueKind.Real32:
      return readFloat32(decoder, field);
    case ValueKind.Text:
      return readString(decoder, field);
    case ValueKind.Blob:
      return readBytes(decoder, field);
    default:
      throw new DecodeError(decoder.pos - 1, field, `unknown value kind ${kind}`);
  }
}
