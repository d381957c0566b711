import * as core from '@offsync/core';
import * as codec from '@offsync/core/codec';
import { describe, expect, it } from 'vitest';

// The byte helpers binding and transport authors need; an app never does.
const CODEC_ONLY = [
  'encodeChangeset',
  'decodeChangeset',
  'tryDecodeChangeset',
  'walkChangeset',
  'groupChanges',
  'assertValidChange',
  'CHANGESET_MAGIC',
  'CHANGESET_VERSION',
  'MAX_CAUSAL_LENGTH',
  'crc32',
  'createEncoder',
  'createDecoder',
  'writeVarUint',
  'readVarUint',
  'writeVarInt64',
  'readVarInt64',
  'writeString',
  'readString',
  'packPrimaryKey',
  'unpackPrimaryKey',
  'primaryKeyString',
  'comparePackedKeys',
  'ValueKind',
  'writeSqlValue',
  'readSqlValuePayload',
  'encodeMessage',
  'decodeMessage',
  'decodeClientMessage',
  'decodeServerMessage',
  'PROTOCOL_VERSION',
  'MAX_HEADER_BYTES',
];

// What an app reaches for, and the errors it may catch (errors are data: they stay public).
const APP_SURFACE = [
  'SqliteReplica',
  'SyncClient',
  'MemoryReplica',
  'OffsyncError',
  'DecodeError',
  'InvalidChangeError',
  'ProtocolError',
  'SchemaError',
  'isPresent',
  'sqlValuesEqual',
];

describe('the public surface of @offsync/core', () => {
  it('keeps the codec byte helpers out of the main entry', () => {
    expect(CODEC_ONLY.filter((name) => name in core)).toEqual([]);
  });

  it('exports every codec byte helper from @offsync/core/codec', () => {
    expect(CODEC_ONLY.filter((name) => !(name in codec))).toEqual([]);
  });

  it('keeps what an app needs in the main entry', () => {
    expect(APP_SURFACE.filter((name) => !(name in core))).toEqual([]);
  });

  it('shares one class per error between the entries, so instanceof holds across them', () => {
    expect(codec.InvalidChangeError).toBe(core.InvalidChangeError);
    expect(codec.DecodeError).toBe(core.DecodeError);
  });

  it('round-trips a changeset and refuses forged bytes with a typed error', () => {
    const bytes = codec.encodeChangeset({ changes: [] });
    expect(codec.decodeChangeset(bytes).changes).toEqual([]);
    const forged = bytes.slice();
    forged[forged.length - 1] = (forged[forged.length - 1]! + 1) & 0xff; // breaks the CRC
    expect(() => codec.decodeChangeset(forged)).toThrow(core.DecodeError);
  });
});
