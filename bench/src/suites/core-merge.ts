import { MemoryReplica, type SqlValue } from '@offsync/core';
import { primaryKeyString } from '@offsync/core/codec';
import { comparePair } from '../harness.js';
import { CORE_ROWS, TODOS, todoChanges } from './core.js';

/** One process's `core.merge` measurement. */
export interface CoreMergeTiming {
  /** Merged column changes per second. */
  readonly value: number;
  /** `Map.set` calls per second. */
  readonly baseline: number;
  /** Median over rounds of ours' throughput relative to the baseline. */
  readonly ratio: number;
  /** Column changes per sample. */
  readonly cells: number;
}

/**
 * Times merging the column changes of {@link CORE_ROWS} rows (4 each) into an empty memory replica against a bare
 * `Map.set` loop storing the same values under the same cell identities, keys computed before
 * timing.
 */
export async function measureCoreMerge(rounds: number): Promise<CoreMergeTiming> {
  const cells = todoChanges(CORE_ROWS).filter((change) => change.column !== null);
  const cellKeys = cells.map(
    (change) => `${change.table}\u0000${primaryKeyString(change.pk)}\u0000${change.column}`,
  );
  const cellValues = cells.map((change) => change.value);
  const merge = await comparePair(
    {
      setup: () => {
        const replica = new MemoryReplica();
        replica.createTable(TODOS);
        return replica;
      },
      run: (replica) => replica.apply(cells),
    },
    {
      setup: () => new Map<string, SqlValue>(),
      run: (map) => {
        for (let i = 0; i < cells.length; i++) map.set(cellKeys[i]!, cellValues[i]!);
      },
    },
    { rounds },
  );
  return {
    value: cells.length / (merge.oursMs / 1000),
    baseline: cells.length / (merge.baselineMs / 1000),
    ratio: merge.speedRatio,
    cells: cells.length,
  };
}
