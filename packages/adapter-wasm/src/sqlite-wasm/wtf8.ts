/**
 * Bytes `text` takes in WTF-8: UTF-8, except that a lone surrogate is written as its own 3-byte
 * sequence (ED A0 80 for U+D800) instead of being replaced. That is what better-sqlite3 and
 * sql.js store for a lone surrogate, so a replica sees the same (invalid) bytes on every binding
 * and refuses to send them; `TextEncoder` would silently turn them into a valid U+FFFD.
 *
 * @internal
 */
export function wtf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1;
    } else if (unit >= 0xd800 && unit <= 0xdbff && isLow(text.charCodeAt(i + 1))) {
      // A pair: 2 code units, 4 bytes.
      bytes += 2;
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

function isLow(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/**
 * Writes `text` as WTF-8 (see {@link wtf8Length}) into `heap` from `offset`; returns the offset
 * after the last byte. The caller sized the room with {@link wtf8Length}.
 *
 * @internal
 */
export function writeWtf8(heap: Uint8Array, offset: number, text: string): number {
  let at = offset;
  for (let i = 0; i < text.length; i++) {
    let point = text.charCodeAt(i);
    if (point < 0x80) {
      heap[at++] = point;
      continue;
    }
    if (point >= 0xd800 && point <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (isLow(next)) {
        point = 0x10000 + ((point - 0xd800) << 10) + (next - 0xdc00);
        i++;
      }
    }
    if (point < 0x800) {
      heap[at++] = 0xc0 | (point >> 6);
      heap[at++] = 0x80 | (point & 0x3f);
    } else if (point < 0x10000) {
      heap[at++] = 0xe0 | (point >> 12);
      heap[at++] = 0x80 | ((point >> 6) & 0x3f);
      heap[at++] = 0x80 | (point & 0x3f);
    } else {
      heap[at++] = 0xf0 | (point >> 18);
      heap[at++] = 0x80 | ((point >> 12) & 0x3f);
      heap[at++] = 0x80 | ((point >> 6) & 0x3f);
      heap[at++] = 0x80 | (point & 0x3f);
    }
  }
  return at;
}

const decoder = new TextDecoder('utf-8');
/** Below this many bytes a JS loop beats a TextDecoder call for ASCII text. */
const SHORT_ASCII = 24;

/**
 * Decodes `length` bytes of `heap` from `offset` as UTF-8, with U+FFFD for bytes that are not
 * UTF-8 (as better-sqlite3 and sql.js read them). NUL bytes are kept.
 *
 * @internal
 */
export function readUtf8(heap: Uint8Array, offset: number, length: number): string {
  if (length <= SHORT_ASCII) {
    let text = '';
    for (let i = offset; i < offset + length; i++) {
      const byte = heap[i]!;
      if (byte >= 0x80) return decoder.decode(heap.subarray(offset, offset + length));
      text += String.fromCharCode(byte);
    }
    return text;
  }
  return decoder.decode(heap.subarray(offset, offset + length));
}
