import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import type { ResolvedOptions } from '../conformance-options.js';
import type { Harness } from '../harness.js';
import { mirrorRows, runHistory, tableRows } from '../history-runner.js';
import { DEFAULT_HISTORY_SHAPE, historySteps } from '../history-steps.js';
import { HISTORY_TABLES } from '../history-tables.js';
import type { Peer } from '../peer.js';
import { toHex } from '../show-value.js';

/**
 * Asserts that replicas read identical tables and have byte-equal dumps.
 *
 * @example
 * ```ts
 * expectIdentical(outcome.peers);
 * ```
 */
export function expectIdentical(peers: readonly Peer[]): void {
  const dumps = peers.map((peer) => toHex(peer.replica.dump()));
  for (const [i, dump] of dumps.entries()) expect(dump, `dump of replica ${i}`).toBe(dumps[0]);
  for (const table of HISTORY_TABLES) {
    const rows = peers.map((peer) => tableRows(peer, table.name));
    for (const [i, list] of rows.entries())
      expect(list, `${table.name} on replica ${i}`).toEqual(rows[0]);
  }
}

/**
 * The CRDT laws on SQLite replicas over random histories: convergence whatever the order,
 * duplication, batching and paging of delivery, and step-by-step agreement with the memory
 * reference model.
 *
 * @example
 * ```ts
 * describeLaws(harness, resolveOptions());
 * ```
 */
export function describeLaws(harness: Harness, options: ResolvedOptions): void {
  const { historyRuns, timeoutMs } = options;
  const replicas = Array.from({ length: DEFAULT_HISTORY_SHAPE.replicas }, () => harness);

  describe('CRDT laws', () => {
    test.prop([historySteps(), fc.integer()], { numRuns: historyRuns, seed: options.seed })(
      'all replicas that received the same changes are byte-equal (random SQL writes; pages, vectors, duplicates, reordering, splits, restarts)',
      async (steps, seed) => {
        try {
          const outcome = await runHistory(steps, { harnesses: replicas, seed });
          expectIdentical(outcome.peers);
        } finally {
          await harness.dispose();
        }
      },
      timeoutMs,
    );

    test.prop([historySteps(), fc.integer()], { numRuns: historyRuns, seed: options.seed })(
      'SQLite replicas agree with the MemoryReplica reference model after every step',
      async (steps, seed) => {
        try {
          const outcome = await runHistory(steps, { harnesses: replicas, seed, reference: true });
          expectIdentical(outcome.peers);
          outcome.peers.forEach((peer, i) => {
            for (const table of HISTORY_TABLES) {
              expect(tableRows(peer, table.name), `${table.name} on replica ${i}`).toEqual(
                mirrorRows(outcome.mirrors![i]!, table),
              );
            }
          });
        } finally {
          await harness.dispose();
        }
      },
      timeoutMs,
    );
  });
}
