import { OffsyncError } from '../errors.js';

/**
 * A byte string could not be decoded. Carries the byte offset where decoding stopped, the field
 * being read and the reason, so a binding author can find the fault in a hex dump.
 *
 * @example
 * ```ts
 * const result = tryDecodeChangeset(bytes);
 * if (!result.ok) console.log(result.error.field, result.error.offset, result.error.reason);
 * ```
 */
export class DecodeError extends OffsyncError {
  readonly type = 'DecodeError';
  /** Byte offset at which the fault was found. */
  readonly offset: number;
  /** The field being decoded (e.g. `'cell.value'`). */
  readonly field: string;
  /** What was wrong. */
  readonly reason: string;

  constructor(offset: number, field: string, reason: string) {
    super(`cannot decode ${field} at byte ${offset}: ${reason}`);
    this.offset = offset;
    this.field = field;
    this.reason = reason;
  }
}

/**
 * A growable output buffer with a write position. Written with the `write*` functions.
 *
 * @example
 * ```ts
 * const encoder = createEncoder();
 * writeVarUint(encoder, 300);
 * toBytes(encoder); // Uint8Array [0xac, 0x02]
 * ```
 */
export interface Encoder {
  /** Current buffer; replaced by a larger one as needed. */
  bytes: Uint8Array;
  /** DataView over `bytes`, made on the first fixed-width write (most encoders never need it). */
  view: DataView | undefined;
  /** Number of bytes written. */
  length: number;
}

/**
 * Creates an empty encoder.
 *
 * @example
 * ```ts
 * const encoder = createEncoder(1024);
 * ```
 */
export function createEncoder(initialCapacity = 256): Encoder {
  const bytes = new Uint8Array(initialCapacity);
  return { bytes, view: undefined, length: 0 };
}

/**
 * Ensures room for `extra` more bytes.
 *
 * @example
 * ```ts
 * reserve(encoder, 8);
 * ```
 */
export function reserve(encoder: Encoder, extra: number): void {
  const needed = encoder.length + extra;
  if (needed <= encoder.bytes.length) return;
  let capacity = encoder.bytes.length * 2;
  while (capacity < needed) capacity *= 2;
  const bytes = new Uint8Array(capacity);
  bytes.set(encoder.bytes.subarray(0, encoder.length));
  encoder.bytes = bytes;
  encoder.view = undefined;
}

/**
 * A copy of the bytes written so far.
 *
 * @example
 * ```ts
 * const bytes = toBytes(encoder);
 * ```
 */
export function toBytes(encoder: Encoder): Uint8Array {
  return encoder.bytes.slice(0, encoder.length);
}

/**
 * Writes one byte.
 *
 * @example
 * ```ts
 * writeU8(encoder, 0xff);
 * ```
 */
export function writeU8(encoder: Encoder, byte: number): void {
  if (encoder.length >= encoder.bytes.length) reserve(encoder, 1);
  encoder.bytes[encoder.length++] = byte;
}

/**
 * Writes raw bytes.
 *
 * @example
 * ```ts
 * writeRaw(encoder, new Uint8Array([1, 2, 3]));
 * ```
 */
export function writeRaw(encoder: Encoder, bytes: Uint8Array): void {
  reserve(encoder, bytes.length);
  encoder.bytes.set(bytes, encoder.length);
  encoder.length += bytes.length;
}

/**
 * Writes an unsigned integer below 2^53 as a LEB128 varint (7 bits a byte, low bits first).
 *
 * @example
 * ```ts
 * writeVarUint(encoder, 127); // one byte
 * ```
 */
export function writeVarUint(encoder: Encoder, value: number): void {
  reserve(encoder, 8);
  const bytes = encoder.bytes;
  let pos = encoder.length;
  while (value > 0x7fffffff) {
    bytes[pos++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  while (value > 0x7f) {
    bytes[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  bytes[pos++] = value;
  encoder.length = pos;
}

const SAFE_ZIGZAG_LIMIT = 2n ** 51n;

/**
 * Writes a signed 64-bit integer, zigzag-mapped then as a varint (small magnitudes are short).
 *
 * @example
 * ```ts
 * writeVarInt64(encoder, -1n); // one byte: 0x01
 * ```
 */
export function writeVarInt64(encoder: Encoder, value: bigint): void {
  if (value < SAFE_ZIGZAG_LIMIT && value > -SAFE_ZIGZAG_LIMIT) {
    const n = Number(value);
    writeVarUint(encoder, n >= 0 ? n * 2 : -n * 2 - 1);
    return;
  }
  let zigzag = value >= 0n ? value << 1n : (-value << 1n) - 1n;
  reserve(encoder, 10);
  while (zigzag > 0x7fn) {
    encoder.bytes[encoder.length++] = Number(zigzag & 0x7fn) | 0x80;
    zigzag >>= 7n;
  }
  encoder.bytes[encoder.length++] = Number(zigzag);
}

function encoderView(encoder: Encoder): DataView {
  encoder.view ??= new DataView(
    encoder.bytes.buffer,
    encoder.bytes.byteOffset,
    encoder.bytes.byteLength,
  );
  return encoder.view;
}

/**
 * Writes a double as 8 little-endian bytes.
 *
 * @example
 * ```ts
 * writeFloat64(encoder, Math.PI);
 * ```
 */
export function writeFloat64(encoder: Encoder, value: number): void {
  reserve(encoder, 8);
  encoderView(encoder).setFloat64(encoder.length, value, true);
  encoder.length += 8;
}

/**
 * Writes a double that is exactly representable as a float32, as 4 little-endian bytes.
 *
 * @example
 * ```ts
 * writeFloat32(encoder, 0.5);
 * ```
 */
export function writeFloat32(encoder: Encoder, value: number): void {
  reserve(encoder, 4);
  encoderView(encoder).setFloat32(encoder.length, value, true);
  encoder.length += 4;
}

/**
 * Writes an unsigned 32-bit integer as 4 little-endian bytes.
 *
 * @example
 * ```ts
 * writeU32(encoder, 0xcbf43926);
 * ```
 */
export function writeU32(encoder: Encoder, value: number): void {
  reserve(encoder, 4);
  encoderView(encoder).setUint32(encoder.length, value, true);
  encoder.length += 4;
}

const textEncoder = new TextEncoder();

/**
 * Writes a string as its UTF-8 byte length (varint) followed by the bytes.
 *
 * @example
 * ```ts
 * writeString(encoder, 'é'); // 0x02 0xc3 0xa9
 * ```
 */
export function writeString(encoder: Encoder, value: string): void {
  const length = value.length;
  if (length < 64) {
    // ASCII fast path: most names and short values; avoids TextEncoder call overhead.
    reserve(encoder, length + 1);
    const bytes = encoder.bytes;
    const start = encoder.length;
    let i = 0;
    for (; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code > 0x7f) break;
      bytes[start + 1 + i] = code;
    }
    if (i === length) {
      bytes[start] = length;
      encoder.length = start + 1 + length;
      return;
    }
  }
  reserve(encoder, length * 3 + 8);
  // Encode after a maximal-size length slot, then move the bytes down if the varint is shorter.
  const lengthSlot = varUintSize(length * 3);
  const start = encoder.length;
  const { written } = textEncoder.encodeInto(value, encoder.bytes.subarray(start + lengthSlot));
  const actualSlot = varUintSize(written);
  if (actualSlot !== lengthSlot) {
    encoder.bytes.copyWithin(start + actualSlot, start + lengthSlot, start + lengthSlot + written);
  }
  writeVarUint(encoder, written);
  encoder.length = start + actualSlot + written;
}

/**
 * Writes a byte string as its length (varint) followed by the bytes.
 *
 * @example
 * ```ts
 * writeBytes(encoder, new Uint8Array([0xde, 0xad]));
 * ```
 */
export function writeBytes(encoder: Encoder, value: Uint8Array): void {
  writeVarUint(encoder, value.length);
  writeRaw(encoder, value);
}

/**
 * Number of bytes {@link writeVarUint} uses for `value`.
 *
 * @example
 * ```ts
 * varUintSize(128); // 2
 * ```
 */
export function varUintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/**
 * A read position over a byte string. Every read checks bounds and throws {@link DecodeError}
 * with the offset and the field being read.
 *
 * @example
 * ```ts
 * const decoder = createDecoder(bytes);
 * const n = readVarUint(decoder, 'count');
 * ```
 */
export interface Decoder {
  /** The input. */
  readonly bytes: Uint8Array;
  /** DataView over the input, made on the first fixed-width read (most decoders never need it). */
  view: DataView | undefined;
  /** Next byte to read. */
  pos: number;
  /** One past the last readable byte. */
  end: number;
}

/**
 * Creates a decoder over `bytes[start, end)`.
 *
 * @example
 * ```ts
 * const decoder = createDecoder(bytes);
 * ```
 */
export function createDecoder(bytes: Uint8Array, start = 0, end = bytes.length): Decoder {
  return {
    bytes,
    view: undefined,
    pos: start,
    end,
  };
}

/**
 * Bytes left to read.
 *
 * @example
 * ```ts
 * if (remaining(decoder) === 0) return;
 * ```
 */
export function remaining(decoder: Decoder): number {
  return decoder.end - decoder.pos;
}

function viewOf(decoder: Decoder): DataView {
  decoder.view ??= new DataView(
    decoder.bytes.buffer,
    decoder.bytes.byteOffset,
    decoder.bytes.byteLength,
  );
  return decoder.view;
}

function need(decoder: Decoder, count: number, field: string): void {
  if (decoder.end - decoder.pos < count) {
    throw new DecodeError(
      decoder.pos,
      field,
      `needs ${count} byte(s), only ${decoder.end - decoder.pos} left`,
    );
  }
}

/**
 * Reads one byte.
 *
 * @example
 * ```ts
 * const version = readU8(decoder, 'version');
 * ```
 */
export function readU8(decoder: Decoder, field: string): number {
  if (decoder.pos >= decoder.end) need(decoder, 1, field);
  return decoder.bytes[decoder.pos++]!;
}

/**
 * Reads a varint below 2^53.
 *
 * @example
 * ```ts
 * const length = readVarUint(decoder, 'text.length');
 * ```
 */
export function readVarUint(decoder: Decoder, field: string): number {
  const bytes = decoder.bytes;
  const start = decoder.pos;
  let pos = start;
  let result = 0;
  let multiplier = 1;
  for (;;) {
    if (pos >= decoder.end) {
      throw new DecodeError(start, field, 'varint runs past the end of the input');
    }
    const byte = bytes[pos++]!;
    result += (byte & 0x7f) * multiplier;
    if (byte < 0x80) break;
    multiplier *= 128;
    if (multiplier > 2 ** 49) throw new DecodeError(start, field, 'varint exceeds 2^53');
  }
  if (pos - start > 1 && bytes[pos - 1] === 0) {
    throw new DecodeError(start, field, 'varint is not minimally encoded');
  }
  decoder.pos = pos;
  return result;
}

/**
 * Reads a zigzag varint written by {@link writeVarInt64}.
 *
 * @example
 * ```ts
 * const value = readVarInt64(decoder, 'cell.value'); // bigint
 * ```
 */
export function readVarInt64(decoder: Decoder, field: string): bigint {
  const bytes = decoder.bytes;
  const start = decoder.pos;
  // Fast path: up to 7 bytes (49 bits) fits a double exactly.
  let pos = start;
  let small = 0;
  let multiplier = 1;
  for (let i = 0; i < 7; i++) {
    if (pos >= decoder.end)
      throw new DecodeError(start, field, 'varint runs past the end of the input');
    const byte = bytes[pos++]!;
    small += (byte & 0x7f) * multiplier;
    if (byte < 0x80) {
      if (pos - start > 1 && byte === 0)
        throw new DecodeError(start, field, 'varint is not minimally encoded');
      decoder.pos = pos;
      return BigInt(small % 2 === 0 ? small / 2 : -(small + 1) / 2);
    }
    multiplier *= 128;
  }
  pos = start;
  let zigzag = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= decoder.end)
      throw new DecodeError(start, field, 'varint runs past the end of the input');
    const byte = bytes[pos++]!;
    zigzag |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) {
      if (byte === 0) throw new DecodeError(start, field, 'varint is not minimally encoded');
      break;
    }
    shift += 7n;
    if (shift > 63n) throw new DecodeError(start, field, 'integer exceeds 64 bits');
  }
  if (zigzag > 0xffff_ffff_ffff_ffffn)
    throw new DecodeError(start, field, 'integer exceeds 64 bits');
  decoder.pos = pos;
  return zigzag & 1n ? -((zigzag + 1n) >> 1n) : zigzag >> 1n;
}

/**
 * Reads 8 little-endian bytes as a double.
 *
 * @example
 * ```ts
 * const x = readFloat64(decoder, 'cell.value');
 * ```
 */
export function readFloat64(decoder: Decoder, field: string): number {
  need(decoder, 8, field);
  const value = viewOf(decoder).getFloat64(decoder.pos, true);
  decoder.pos += 8;
  return value;
}

/**
 * Reads 4 little-endian bytes as a float32, widened to a double.
 *
 * @example
 * ```ts
 * const x = readFloat32(decoder, 'cell.value');
 * ```
 */
export function readFloat32(decoder: Decoder, field: string): number {
  need(decoder, 4, field);
  const value = viewOf(decoder).getFloat32(decoder.pos, true);
  decoder.pos += 4;
  return value;
}

/**
 * Reads an unsigned 32-bit little-endian integer.
 *
 * @example
 * ```ts
 * const crc = readU32(decoder, 'crc');
 * ```
 */
export function readU32(decoder: Decoder, field: string): number {
  need(decoder, 4, field);
  const value = viewOf(decoder).getUint32(decoder.pos, true);
  decoder.pos += 4;
  return value;
}

/**
 * Reads `length` raw bytes as a view into the input (no copy).
 *
 * @example
 * ```ts
 * const magic = readRaw(decoder, 4, 'magic');
 * ```
 */
export function readRaw(decoder: Decoder, length: number, field: string): Uint8Array {
  need(decoder, length, field);
  const start = decoder.pos;
  decoder.pos += length;
  return decoder.bytes.subarray(start, start + length);
}

/**
 * Reads a length-prefixed byte string as a copy.
 *
 * @example
 * ```ts
 * const blob = readBytes(decoder, 'cell.value');
 * ```
 */
export function readBytes(decoder: Decoder, field: string): Uint8Array {
  const length = readVarUint(decoder, field);
  return readRaw(decoder, length, field).slice();
}

const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// One reusable array of char codes per short length. Building a short string char by char
// allocates a string per step, and `fromCharCode.apply` over a typed-array view is slow; filling
// a plain array and applying it allocates only the result, which made decoding ~1.5x faster.
const charCodeScratch: number[][] = [];

/** Longest run {@link byteString} accepts. */
export const BYTE_STRING_MAX = 63;

/**
 * The string with one char per byte (codes 0 to 255) of the `length` bytes at `from`, for short
 * runs (at most {@link BYTE_STRING_MAX}): ASCII text as it reads, or a binary key as a Map key.
 *
 * @example
 * ```ts
 * byteString(new Uint8Array([0x68, 0x69]), 0, 2); // 'hi'
 * ```
 */
export function byteString(bytes: Uint8Array, from: number, length: number): string {
  if (length > BYTE_STRING_MAX) throw new RangeError(`byteString: ${length} bytes is too long`);
  let codes = charCodeScratch[length];
  if (codes === undefined) {
    codes = new Array<number>(length).fill(0);
    charCodeScratch[length] = codes;
  }
  for (let k = 0; k < length; k++) codes[k] = bytes[from + k]!;
  return String.fromCharCode.apply(null, codes);
}

/**
 * Reads a length-prefixed UTF-8 string; invalid UTF-8 is a {@link DecodeError}.
 *
 * @example
 * ```ts
 * const name = readString(decoder, 'string table');
 * ```
 */
export function readString(decoder: Decoder, field: string): string {
  const start = decoder.pos;
  const length = readVarUint(decoder, field);
  need(decoder, length, field);
  const bytes = decoder.bytes;
  const from = decoder.pos;
  const to = from + length;
  if (length <= BYTE_STRING_MAX) {
    let i = from;
    while (i < to && bytes[i]! <= 0x7f) i++;
    if (i === to) {
      decoder.pos = to;
      return byteString(bytes, from, length);
    }
  }
  try {
    const value = textDecoder.decode(bytes.subarray(from, to));
    decoder.pos = to;
    return value;
  } catch {
    throw new DecodeError(start, field, 'text is not valid UTF-8');
  }
}
