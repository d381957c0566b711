// The byte helpers (changeset, varint, primary-key and value codecs, CRC) are exported from
// `@offsync/core/codec` (src/codec.ts), not here: an app needs the records and the errors, not
// the bytes.
export * from './change.js';
export { type Changeset, InvalidChangeError } from './codec.js';
export { DecodeError } from './encoding.js';
export * from './value.js';
