import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { change, keyValue } from '../test-support/arbitraries.js';
import { runs } from '../test-support/runs.js';
import type { Change } from './change.js';
import {
  CHANGESET_MAGIC,
  decodeChangeset,
  encodeChangeset,
  groupChanges,
  InvalidChangeError,
  MAX_CAUSAL_LENGTH,
  tryDecodeChangeset,
  walkChangeset,
} from './codec.js';
import { crc32 } from './crc32.js';
import {
  createEncoder,
  DecodeError,
  toBytes,
  writeBytes,
  writeRaw,
  writeString,
  writeU8,
  writeU32,
  writeVarUint,
} from './encoding.js';
import { packPrimaryKey, primaryKeyString, unpackPrimaryKey } from './primary-key.js';
import { sqlValuesEqual } from './value.js';

function sameChange(a: Change, e: Change): boolean {
  return (
    a.table === e.table &&
    a.column === e.column &&
    a.cl === e.cl &&
    a.stamp.wall === e.stamp.wall &&
    a.stamp.counter === e.stamp.counter &&
    a.stamp.site === e.stamp.site &&
    sqlValuesEqual(a.pk, e.pk) &&
    sqlValuesEqual(a.value, e.value)
  );
}

function expectSameChanges(actual: readonly Change[], expected: readonly Change[]): void {
  expect(actual.length).toBe(expected.length);
  const firstMismatch = expected.findIndex((e, i) => !sameChange(actual[i]!, e));
  expect(firstMismatch).toBe(-1);
}

const keyArray = fc.array(fc.oneof(keyValue, fc.constant(null)), { minLength: 1, maxLength: 3 });

function withFixedCrc(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  if (out.length >= 4)
    new DataView(out.buffer).setUint32(out.length - 4, crc32(out, 0, out.length - 4), true);
  return out;
}

describe('changeset codec', () => {
  test.prop([fc.array(change, { maxLength: 20 })], { numRuns: runs() })(
    'round-trips every value kind exactly',
    (changes) => {
      const decoded = decodeChangeset(encodeChangeset({ changes }));
      expectSameChanges(decoded.changes, groupChanges(changes));
    },
  );

  test.prop([keyValue], { numRuns: runs() })(
    'keeps REAL apart from INTEGER, -0.0, NaN and infinities',
    (value) => {
      const pk = packPrimaryKey([value]);
      expect(sqlValuesEqual(unpackPrimaryKey(pk)[0]!, value)).toBe(true);
    },
  );

  test.prop(
    [
      fc.array(keyValue, { minLength: 1, maxLength: 3 }),
      fc.array(keyValue, { minLength: 1, maxLength: 3 }),
    ],
    {
      numRuns: runs(),
    },
  )('primary-key strings are equal exactly when the packed keys are, short or long', (a, b) => {
    const packedA = packPrimaryKey(a);
    const packedB = packPrimaryKey(b);
    const keyA = primaryKeyString(packedA);
    expect(keyA.length).toBe(packedA.length);
    // One assertion, not one per byte: keys holding a large TEXT or BLOB are ~70 kB.
    let firstDifference = -1;
    for (let i = 0; i < packedA.length && firstDifference < 0; i++) {
      if (keyA.charCodeAt(i) !== packedA[i]) firstDifference = i;
    }
    expect(firstDifference).toBe(-1);
    const sameBytes =
      packedA.length === packedB.length && packedA.every((byte, i) => byte === packedB[i]);
    expect(keyA === primaryKeyString(packedB)).toBe(sameBytes);
  });

  it('keeps 2.0 a REAL and 2 an INTEGER', () => {
    const [real, integer] = unpackPrimaryKey(packPrimaryKey([2.0, 2n]));
    expect(typeof real).toBe('number');
    expect(typeof integer).toBe('bigint');
    expect(Object.is(unpackPrimaryKey(packPrimaryKey([-0]))[0], -0)).toBe(true);
  });

  it('carries schema fingerprints per table, with or without rows', () => {
    const changes = [sample('todos', 'title', 'x')];
    const decoded = decodeChangeset(
      encodeChangeset({ changes, fingerprints: { todos: 'fp1', lists: 'fp2' } }),
    );
    expect(decoded.fingerprints).toEqual({ todos: 'fp1', lists: 'fp2' });
    expect(decoded.changes).toHaveLength(1);
  });

  it('refuses changes it cannot encode', () => {
    expect(() => encodeChangeset({ changes: [{ ...sample('t', 'c', 1n), cl: 2 }] })).toThrow(
      InvalidChangeError,
    );
    expect(() => encodeChangeset({ changes: [{ ...sample('t', 'c', 1n), cl: 0 }] })).toThrow(
      InvalidChangeError,
    );
    expect(() => encodeChangeset({ changes: [sample('', 'c', 1n)] })).toThrow(InvalidChangeError);
  });

  test.prop([fc.uint8Array({ maxLength: 200 })], { numRuns: runs() })(
    'decodes random bytes to a changeset or a typed DecodeError only',
    (bytes) => {
      expectTotal(bytes);
      expectTotal(withFixedCrc(new Uint8Array([...CHANGESET_MAGIC, 1, 0, ...bytes, 0, 0, 0, 0])));
    },
  );

  test.prop(
    [
      fc.array(change, { minLength: 1, maxLength: 8 }),
      fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.boolean(),
      fc.nat(),
    ],
    { numRuns: runs() },
  )(
    'decodes mutated and truncated changesets to a changeset or a typed DecodeError only',
    (changes, edits, fixCrc, cut) => {
      const valid = encodeChangeset({ changes });
      const mutated = valid.slice();
      for (const { at, byte } of edits) mutated[at % mutated.length] = byte;
      expectTotal(fixCrc ? withFixedCrc(mutated) : mutated);
      const truncated = valid.subarray(0, cut % valid.length);
      expectTotal(truncated);
      expectTotal(withFixedCrc(truncated));
    },
  );

  test.prop([fc.array(change, { maxLength: 20 }), fc.boolean()], { numRuns: runs() })(
    'walks a changeset table by table, row group by row group, with unpacked keys',
    (changes, withFingerprint) => {
      const fingerprints: Record<string, string> = {};
      if (withFingerprint) for (const { table } of changes) fingerprints[table] = `fp:${table}`;
      const bytes = encodeChangeset({ changes, fingerprints });
      const seen: Change[] = [];
      const reported: Record<string, string> = {};
      let table = '';
      let row: { pk: Uint8Array; cl: number } | undefined;
      let wrongKeys = 0;
      walkChangeset(bytes, {
        table(name, fingerprint) {
          table = name;
          if (fingerprint !== undefined) reported[name] = fingerprint;
        },
        row(pk, key, cl, sentinel) {
          const unpacked = unpackPrimaryKey(pk);
          if (
            key.length !== unpacked.length ||
            key.some((v, i) => !sqlValuesEqual(v, unpacked[i]!))
          )
            wrongKeys++;
          row = { pk: pk.slice(), cl };
          if (sentinel)
            seen.push({ table, pk: row.pk, column: null, value: null, stamp: sentinel, cl });
        },
        cell(column, value, stamp) {
          seen.push({ table, pk: row!.pk, column, value, stamp, cl: row!.cl });
        },
      });
      expectSameChanges(seen, groupChanges(changes));
      expect(wrongKeys).toBe(0);
      expect(reported).toEqual(fingerprints);
    },
  );

  it('stops a walk where its visitor throws, and checks the CRC before reporting anything', () => {
    const bytes = encodeChangeset({ changes: [sample('todos', 'title', 'milk')] });
    const stop = new Error('enough');
    expect(() =>
      walkChangeset(bytes, {
        table() {},
        row() {
          throw stop;
        },
        cell() {},
      }),
    ).toThrow(stop);
    const corrupt = bytes.slice();
    corrupt[corrupt.length - 1]! ^= 0xff;
    const reports: string[] = [];
    expect(() =>
      walkChangeset(corrupt, {
        table: (name) => void reports.push(name),
        row: () => void reports.push('row'),
        cell: () => void reports.push('cell'),
      }),
    ).toThrow(DecodeError);
    expect(reports).toEqual([]);
  });

  it('names the field and offset of a fault', () => {
    const bytes = encodeChangeset({ changes: [sample('todos', 'title', 'milk')] });
    const corrupt = bytes.slice();
    corrupt[corrupt.length - 1]! ^= 0xff;
    const crc = tryDecodeChangeset(corrupt);
    expect(crc.ok).toBe(false);
    if (!crc.ok) {
      expect(crc.error).toBeInstanceOf(DecodeError);
      expect(crc.error.field).toBe('crc');
      expect(crc.error.offset).toBe(bytes.length - 4);
    }
    const badMagic = tryDecodeChangeset(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    expect(badMagic.ok || badMagic.error.field).toBe('magic');
    const badVersion = bytes.slice();
    badVersion[4] = 9;
    const version = tryDecodeChangeset(badVersion);
    expect(version.ok || version.error.field).toBe('version');
    const huge = withFixedCrc(
      new Uint8Array([...CHANGESET_MAGIC, 1, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]),
    );
    const count = tryDecodeChangeset(huge);
    expect(count.ok || count.error.field).toBe('strings.count');
    expect(tryDecodeChangeset('not bytes' as unknown as Uint8Array).ok).toBe(false);
  });
});

/**
 * A changeset written field by field (see docs/protocol.md), so that values an encoder refuses
 * can be put on the wire: one table `t`, one row with a sentinel, key `pk` and causal length `cl`.
 */
function handWritten(pk: Uint8Array, cl: number, wall = 1_700_000_000_000): Uint8Array {
  const encoder = createEncoder();
  writeRaw(encoder, CHANGESET_MAGIC);
  writeU8(encoder, 1);
  writeU8(encoder, 0);
  writeVarUint(encoder, 1);
  writeString(encoder, 't');
  writeVarUint(encoder, 1);
  writeRaw(encoder, new Uint8Array(16).fill(7));
  writeVarUint(encoder, wall);
  writeVarUint(encoder, 1);
  writeVarUint(encoder, 0);
  writeVarUint(encoder, 0);
  writeVarUint(encoder, 1);
  writeBytes(encoder, pk);
  writeVarUint(encoder, cl);
  writeU8(encoder, 0x03);
  writeVarUint(encoder, 0);
  writeVarUint(encoder, 0);
  writeVarUint(encoder, 0);
  writeVarUint(encoder, 0);
  writeU32(encoder, 0);
  return withFixedCrc(toBytes(encoder));
}

describe('numeric and key bounds at decode', () => {
  it('accepts a causal length up to 2^31 and refuses 2^31 + 1 and 2^53 - 1 at row.cl', () => {
    const pk = packPrimaryKey(['k']);
    expect(decodeChangeset(handWritten(pk, MAX_CAUSAL_LENGTH)).changes[0]!.cl).toBe(2 ** 31);
    for (const cl of [MAX_CAUSAL_LENGTH + 1, 2 ** 53 - 1]) {
      const result = tryDecodeChangeset(handWritten(pk, cl));
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error).toBeInstanceOf(DecodeError);
        expect(result.error.field).toBe('row.cl');
      }
    }
  });

  it('refuses to encode a causal length beyond 2^31, so no sender writes what receivers refuse', () => {
    const error = (() => {
      try {
        encodeChangeset({ changes: [{ ...sample('t', 'c', 1n), cl: MAX_CAUSAL_LENGTH + 1 }] });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidChangeError);
    expect(error).toMatchObject({ table: 't', column: 'c' });
  });

  it('refuses a NULL in any key column at row.pk', () => {
    for (const key of [[null], ['a', null], [null, 1n]]) {
      const result = tryDecodeChangeset(handWritten(packPrimaryKey(key), 1));
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.field).toBe('row.pk');
        expect(result.error.reason).toMatch(/NULL/);
      }
    }
  });

  test.prop([fc.oneof(fc.integer({ min: 1, max: 2 ** 32 }), fc.maxSafeNat()), keyArray], {
    numRuns: runs(),
  })(
    'a hand-written changeset decodes exactly when its causal length is within bounds',
    (cl, key) => {
      const result = tryDecodeChangeset(handWritten(packPrimaryKey(key), cl));
      expect(result.ok).toBe(cl >= 1 && cl <= MAX_CAUSAL_LENGTH && !key.includes(null));
      if (!result.ok) expect(result.error).toBeInstanceOf(DecodeError);
    },
  );
});

function expectTotal(bytes: Uint8Array): void {
  let result: ReturnType<typeof tryDecodeChangeset> | undefined;
  expect(() => {
    result = tryDecodeChangeset(bytes);
  }).not.toThrow();
  if (result && !result.ok) {
    expect(result.error).toBeInstanceOf(DecodeError);
    expect(result.error.offset).toBeGreaterThanOrEqual(0);
    expect(result.error.offset).toBeLessThanOrEqual(bytes.length);
    expect(result.error.reason.length).toBeGreaterThan(0);
    expect(result.error.message).not.toContain('internal decoder fault');
  }
  let thrown: unknown;
  try {
    decodeChangeset(bytes);
  } catch (error) {
    thrown = error;
  }
  if (thrown !== undefined) expect(thrown).toBeInstanceOf(DecodeError);
}

function sample(table: string, column: string, value: Change['value']): Change {
  return {
    table,
    pk: packPrimaryKey(['k1']),
    column,
    value,
    stamp: { wall: 1_700_000_000_000, counter: 0, site: '01'.repeat(16) },
    cl: 1,
  };
}
