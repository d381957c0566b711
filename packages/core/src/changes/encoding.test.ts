import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { runs } from '../test-support/runs.js';
import { crc32 } from './crc32.js';
import {
  BYTE_STRING_MAX,
  byteString,
  createDecoder,
  createEncoder,
  DecodeError,
  readString,
  readVarInt64,
  readVarUint,
  toBytes,
  varUintSize,
  writeString,
  writeVarInt64,
  writeVarUint,
} from './encoding.js';

describe('encoding primitives', () => {
  it('computes the standard CRC-32 check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array())).toBe(0);
  });

  test.prop([fc.maxSafeNat()], { numRuns: runs() })(
    'varuint round-trips below 2^53 with the predicted size',
    (n) => {
      const encoder = createEncoder(1);
      writeVarUint(encoder, n);
      expect(encoder.length).toBe(varUintSize(n));
      expect(readVarUint(createDecoder(toBytes(encoder)), 'n')).toBe(n);
    },
  );

  test.prop([fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })], { numRuns: runs() })(
    'zigzag varint64 round-trips the whole signed 64-bit range',
    (n) => {
      const encoder = createEncoder(1);
      writeVarInt64(encoder, n);
      expect(readVarInt64(createDecoder(toBytes(encoder)), 'n')).toBe(n);
    },
  );

  test.prop([fc.string({ unit: 'grapheme', maxLength: 200 })], { numRuns: runs() })(
    'strings round-trip as UTF-8',
    (text) => {
      const encoder = createEncoder(1);
      writeString(encoder, text);
      const bytes = toBytes(encoder);
      const decoder = createDecoder(bytes);
      expect(readString(decoder, 's')).toBe(text);
      expect(decoder.pos).toBe(bytes.length);
    },
  );

  it('refuses overlong, truncated and non-minimal varints with the offset', () => {
    const cases: [number[], string][] = [
      [[0x80], 'past the end'],
      [[0x80, 0x00], 'not minimally encoded'],
      [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 'exceeds 2^53'],
    ];
    for (const [bytes, reason] of cases) {
      try {
        readVarUint(createDecoder(new Uint8Array(bytes)), 'field');
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(DecodeError);
        expect((error as DecodeError).reason).toContain(reason);
        expect((error as DecodeError).offset).toBe(0);
        expect((error as DecodeError).field).toBe('field');
      }
    }
    const tooWide = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    expect(() => readVarInt64(createDecoder(tooWide), 'n')).toThrow(DecodeError);
  });

  test.prop([fc.array(fc.string({ unit: 'binary-ascii', maxLength: 80 }), { maxLength: 8 })], {
    numRuns: runs(),
  })(
    'ASCII strings of every length read back in sequence, across the short-string path',
    (texts) => {
      const encoder = createEncoder(1);
      for (const text of texts) writeString(encoder, text);
      const decoder = createDecoder(toBytes(encoder));
      for (const text of texts) expect(readString(decoder, 's')).toBe(text);
      expect(decoder.pos).toBe(encoder.length);
    },
  );

  test.prop([fc.uint8Array({ maxLength: BYTE_STRING_MAX + 8 }), fc.nat(8)], { numRuns: runs() })(
    'byteString gives one char per byte for short runs and refuses longer ones',
    (bytes, skip) => {
      const from = Math.min(skip, bytes.length);
      const length = bytes.length - from;
      if (length > BYTE_STRING_MAX) {
        expect(() => byteString(bytes, from, length)).toThrow(RangeError);
        return;
      }
      const text = byteString(bytes, from, length);
      expect(text.length).toBe(length);
      for (let i = 0; i < length; i++) expect(text.charCodeAt(i)).toBe(bytes[from + i]);
    },
  );

  it('refuses invalid UTF-8', () => {
    expect(() => readString(createDecoder(new Uint8Array([2, 0xc3, 0x28])), 's')).toThrow(
      DecodeError,
    );
  });
});
