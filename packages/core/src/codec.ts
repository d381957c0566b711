/**
 * `@offsync/core/codec`: the byte-level helpers that binding authors, transport authors and the
 * sync server need and an app does not. The main entry `@offsync/core` keeps what an app uses
 * (replicas, the sync client, the data types and the errors); an app that imports from here is
 * reaching below the API it is meant to need.
 *
 * ```ts
 * import { decodeChangeset, encodeChangeset, packPrimaryKey } from '@offsync/core/codec';
 *
 * const bytes = encodeChangeset({ changes: [], fingerprints: {} });
 * decodeChangeset(bytes).changes; // []
 * packPrimaryKey(['t1']); // Uint8Array
 * ```
 *
 * @packageDocumentation
 */
export {
  assertValidChange,
  CHANGESET_MAGIC,
  CHANGESET_VERSION,
  type Changeset,
  type ChangesetVisitor,
  type DecodedChangeset,
  type DecodeResult,
  decodeChangeset,
  encodeChangeset,
  groupChanges,
  InvalidChangeError,
  MAX_CAUSAL_LENGTH,
  tryDecodeChangeset,
  walkChangeset,
} from './changes/codec.js';
export { crc32 } from './changes/crc32.js';
export * from './changes/encoding.js';
export * from './changes/primary-key.js';
export * from './changes/value-codec.js';
export {
  decodeClientMessage,
  decodeMessage,
  decodeServerMessage,
  encodeMessage,
  MAX_HEADER_BYTES,
  PROTOCOL_VERSION,
} from './sync/messages.js';
