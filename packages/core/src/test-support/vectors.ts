import type { Change } from '../changes/change.js';
import { packPrimaryKey } from '../changes/primary-key.js';

const SITE_A = '0123456789abcdef0123456789abcdef';
const SITE_B = 'fedcba9876543210fedcba9876543210';
const T0 = 1_700_000_000_000;

/** The changes behind each golden vector of `docs/protocol.md`, by vector name. */
export const vectorChanges: Record<
  string,
  { changes: Change[]; fingerprints?: Record<string, string> }
> = {
  empty: { changes: [] },
  insert: {
    changes: [
      {
        table: 'todos',
        pk: packPrimaryKey(['t1']),
        column: null,
        value: null,
        stamp: { wall: T0, counter: 0, site: SITE_A },
        cl: 1,
      },
      ...(
        [
          ['title', 'milk'],
          ['done', 0n],
          ['weight', 2.5],
          ['data', new Uint8Array([0xde, 0xad])],
          ['note', null],
        ] as const
      ).map(
        ([column, value]): Change => ({
          table: 'todos',
          pk: packPrimaryKey(['t1']),
          column,
          value,
          stamp: { wall: T0, counter: 0, site: SITE_A },
          cl: 1,
        }),
      ),
    ],
  },
  delete: {
    changes: [
      {
        table: 'todos',
        pk: packPrimaryKey(['t1']),
        column: null,
        value: null,
        stamp: { wall: T0 + 5, counter: 2, site: SITE_B },
        cl: 2,
      },
    ],
  },
  values: {
    changes: (
      [
        ['i', -1n, 0],
        ['i', 2n ** 63n - 1n, 1],
        ['r', 0.1, 1],
        ['r', -0, 2],
        ['r', 2.0, 2],
        ['t', 'é🙂', 3],
      ] as const
    ).map(
      ([column, value, counter]): Change => ({
        table: 'kv',
        pk: packPrimaryKey([7n, 'x']),
        column,
        value,
        stamp: { wall: T0 + counter, counter, site: counter % 2 ? SITE_B : SITE_A },
        cl: 3,
      }),
    ),
    fingerprints: { kv: 'fp:0c1d' },
  },
};
