import { fc, test } from '@fast-check/vitest';
import type { SqlValue } from '@offsync/core';
import { decodeChangeset } from '@offsync/core/codec';
import { describe, expect } from 'vitest';
import type { ResolvedOptions } from '../conformance-options.js';
import { databaseImage } from '../database-image.js';
import type { Harness } from '../harness.js';
import { limitationNote } from '../limitations.js';
import type { Peer } from '../peer.js';
import { sqlValueArbitrary } from '../value-arbitraries.js';

const SCHEMA_SQL = `
  CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, a, b INTEGER, c REAL);
  CREATE TABLE pairs(k1 TEXT NOT NULL, k2 INTEGER NOT NULL, v, PRIMARY KEY (k1, k2));
`;
const SCHEMA = { sql: SCHEMA_SQL, sync: ['items', 'pairs'] };

type ItemRow = readonly [string, SqlValue, SqlValue, SqlValue];
type PairRow = readonly [string, bigint, SqlValue];

interface Rows {
  readonly items: readonly ItemRow[];
  readonly pairs: readonly PairRow[];
}

/** Rows of random values; without `nul` (the `text-nul` limitation) no TEXT holds a NUL. */
const rowsArbitrary = (nul: boolean): fc.Arbitrary<Rows> =>
  fc.record({
    items: fc.uniqueArray(
      fc.tuple(
        fc.string({ maxLength: 4 }),
        sqlValueArbitrary({ nul }),
        sqlValueArbitrary({ nul }),
        sqlValueArbitrary({ nul }),
      ),
      { maxLength: 25, selector: (row) => row[0] },
    ),
    pairs: fc.uniqueArray(
      fc.tuple(
        fc.constantFrom('x', 'y', 'z'),
        fc.bigInt({ min: -3n, max: 3n }),
        sqlValueArbitrary({ nul }),
      ),
      { maxLength: 12, selector: (row) => `${row[0]}/${row[1]}` },
    ),
  });

/** What the sender does after inserting its rows, before the batch is listed. */
type Afterwards = 'nothing' | 'update one column' | 'delete a row';

function insertRows(peer: Peer, rows: Rows): void {
  for (const row of rows.items) peer.run('INSERT INTO items(id, a, b, c) VALUES (?, ?, ?, ?)', row);
  for (const row of rows.pairs) peer.run('INSERT INTO pairs(k1, k2, v) VALUES (?, ?, ?)', row);
}

/**
 * Batches of rows new to the receiver are written straight from the changeset bytes (no change
 * objects, no merge decisions). This proves that shortcut invisible: the same batch applied as
 * bytes and as decoded changes leaves two identical replicas byte for byte alike, whether the
 * batch qualifies (whole new rows) or not (a row the receiver holds, a later update, a delete).
 *
 * @example
 * ```ts
 * describeDirectApply(harness, resolveOptions());
 * ```
 */
export function describeDirectApply(harness: Harness, options: ResolvedOptions): void {
  const { timeoutMs } = options;
  // Each run opens four databases: a tenth of the cheap properties' runs.
  const numRuns = Math.max(10, Math.floor(options.numRuns / 10));
  const nul = limitationNote(options.limitations, 'text-nul') === undefined;

  describe('rows new to the receiver, written straight from the bytes', () => {
    test.prop(
      [
        rowsArbitrary(nul),
        rowsArbitrary(nul),
        fc.constantFrom<Afterwards>('nothing', 'nothing', 'update one column', 'delete a row'),
      ],
      { numRuns, seed: options.seed },
    )(
      'a changeset applied as bytes leaves the database exactly as the same changes applied as a list',
      async (held, incoming, afterwards) => {
        // The two receivers share a seed: the same site and clock, so equal work gives equal bytes.
        const viaBytes = await harness.peer({ ...SCHEMA, seed: 7001 });
        const viaList = await harness.peer({ ...SCHEMA, seed: 7001 });
        const earlier = await harness.peer({ ...SCHEMA, seed: 7002 });
        const sender = await harness.peer({ ...SCHEMA, seed: 7003 });

        // Rows both receivers already hold (some keys may be in the incoming batch too).
        insertRows(earlier, held);
        const first = earlier.replica.changesetSince(0).bytes;
        viaBytes.replica.applyChanges(decodeChangeset(first).changes);
        viaList.replica.applyChanges(decodeChangeset(first).changes);

        sender.env.advance(1000);
        insertRows(sender, incoming);
        const [item] = incoming.items;
        if (item && afterwards === 'update one column') {
          sender.replica.flush();
          sender.env.advance(1000);
          sender.run('UPDATE items SET a = ? WHERE id = ?', ['later', item[0]]);
        }
        if (item && afterwards === 'delete a row') {
          sender.run('DELETE FROM items WHERE id = ?', [item[0]]);
        }
        const bytes = sender.replica.changesetSince(0).bytes;
        viaBytes.env.advance(2000);
        viaList.env.advance(2000);

        const appliedAsBytes = viaBytes.replica.applyChanges(bytes);
        const appliedAsList = viaList.replica.applyChanges(decodeChangeset(bytes).changes);
        expect(appliedAsBytes).toEqual(appliedAsList);
        expect(databaseImage(viaBytes.replica)).toEqual(databaseImage(viaList.replica));
      },
      timeoutMs,
    );
  });
}
