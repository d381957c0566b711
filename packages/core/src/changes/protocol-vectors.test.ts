import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { vectorChanges } from '../test-support/vectors.js';
import { decodeChangeset, encodeChangeset } from './codec.js';
import { sqlValuesEqual } from './value.js';

const protocol = readFileSync(
  fileURLToPath(new URL('../../../../docs/protocol.md', import.meta.url)),
  'utf8',
);
const vectors = new Map(
  [...protocol.matchAll(/<!-- vector:(\w+) -->\s*```hex\s*([0-9a-f\s]+?)```/g)].map((match) => [
    match[1]!,
    match[2]!.replace(/\s+/g, ''),
  ]),
);

describe('golden vectors of docs/protocol.md', () => {
  it('lists every vector the tests define', () => {
    expect([...vectors.keys()].sort()).toEqual(Object.keys(vectorChanges).sort());
  });

  for (const [name, changeset] of Object.entries(vectorChanges)) {
    it(`encodes and decodes vector ${name}`, () => {
      const hex = vectors.get(name);
      expect(hex).toBeDefined();
      expect(Buffer.from(encodeChangeset(changeset)).toString('hex')).toBe(hex);
      const decoded = decodeChangeset(new Uint8Array(Buffer.from(hex!, 'hex')));
      expect(decoded.fingerprints).toEqual(changeset.fingerprints ?? {});
      expect(decoded.changes).toHaveLength(changeset.changes.length);
      decoded.changes.forEach((change, i) => {
        const expected = changeset.changes[i]!;
        expect(change.table).toBe(expected.table);
        expect(change.column).toBe(expected.column);
        expect(change.stamp).toEqual(expected.stamp);
        expect(change.cl).toBe(expected.cl);
        expect(sqlValuesEqual(change.pk, expected.pk)).toBe(true);
        expect(sqlValuesEqual(change.value, expected.value)).toBe(true);
      });
    });
  }
});
