import {
  type Change,
  decodeChangeset,
  encodeChangeset,
  MemoryReplica,
  primaryKeyString,
  type SqlValue,
} from '@offsync/core';
import { comparePair } from '../harness.js';
import type { BenchResult } from '../result.js';
import type { SuiteContext } from './suite.js';

const TODOS = {
  name: 'todos',
  columns: ['id', 'title', 'done', 'weight', 'note'],
  primaryKey: ['id'],
};

/** Cell changes of `rows` todo rows (4 value columns each), as another replica lists them. */
export function todoChanges(rows: number): Change[] {
  const source = new MemoryReplica();
  source.createTable(TODOS);
  for (let i = 0; i < rows; i++) {
    source.insert('todos', {
      id: `todo-${i.toString(36).padStart(6, '0')}`,
      title: `Buy item number ${i}`,
      done: BigInt(i % 2),
      weight: i * 0.25,
      note: i % 3 === 0 ? null : 'remember the receipt',
    });
  }
  return source.changesSince(0);
}

function plain(change: Change): unknown {
  const value = change.value;
  return {
    table: change.table,
    pk: Buffer.from(change.pk).toString('base64'),
    column: change.column,
    value:
      typeof value === 'bigint'
        ? { integer: value.toString() }
        : value instanceof Uint8Array
          ? { blob: Buffer.from(value).toString('base64') }
          : value,
    stamp: change.stamp,
    cl: change.cl,
  };
}

/** `core.merge` and the codec suites. */
export async function coreSuite(context: SuiteContext): Promise<BenchResult[]> {
  // The same size in quick mode: at a few thousand rows the JIT, not the merge, dominates.
  const rows = 25_000;
  const all = todoChanges(rows);
  const cells = all.filter((change) => change.column !== null);
  // Many rounds even in quick mode: one round costs ~0.1 s. The ratio still moves between
  // processes (0.25-0.36 here), mostly with the baseline's speed; see docs/benchmarks.md.
  const rounds = context.quick ? 15 : 21;
  const cellKeys = cells.map(
    (change) => `${change.table}\u0000${primaryKeyString(change.pk)}\u0000${change.column}`,
  );
  const cellValues = cells.map((change) => change.value);
  const results: BenchResult[] = [];

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
      // The baseline: a bare Map.set loop storing the same values under the same cell
      // identities, with the keys computed before timing.
      setup: () => new Map<string, SqlValue>(),
      run: (map) => {
        for (let i = 0; i < cells.length; i++) map.set(cellKeys[i]!, cellValues[i]!);
      },
    },
    { rounds },
  );
  results.push({
    id: 'core.merge',
    value: cells.length / (merge.oursMs / 1000),
    baseline: cells.length / (merge.baselineMs / 1000),
    unit: 'changes/s',
    ratio: merge.speedRatio,
    // The target is 0.25; CI gates a little lower for the spread between processes.
    floor: 0.22,
    note: `${cells.length} column changes into an empty memory replica vs a bare Map.set loop over precomputed keys`,
  });

  const plainChanges = all.map(plain);
  const encoded = encodeChangeset({ changes: all });
  const json = JSON.stringify(plainChanges);
  const encode = await comparePair(
    { setup: () => all, run: (changes) => encodeChangeset({ changes }) },
    { setup: () => plainChanges, run: (changes) => JSON.stringify(changes) },
    { rounds },
  );
  results.push({
    id: 'codec.encode',
    value: all.length / (encode.oursMs / 1000),
    baseline: all.length / (encode.baselineMs / 1000),
    unit: 'changes/s',
    ratio: encode.speedRatio,
    floor: 1,
    note: 'binary changeset vs JSON.stringify of the same changes',
  });
  const decode = await comparePair(
    { setup: () => encoded, run: (bytes) => decodeChangeset(bytes) },
    { setup: () => json, run: (text) => JSON.parse(text) },
    { rounds },
  );
  results.push({
    id: 'codec.decode',
    value: all.length / (decode.oursMs / 1000),
    baseline: all.length / (decode.baselineMs / 1000),
    unit: 'changes/s',
    ratio: decode.speedRatio,
    floor: 1,
    note: 'binary changeset vs JSON.parse of the same changes',
  });
  const jsonBytes = Buffer.byteLength(json);
  results.push({
    id: 'codec.bytesPerChange',
    value: encoded.length / all.length,
    baseline: jsonBytes / all.length,
    unit: 'bytes/change',
    ratio: encoded.length / jsonBytes,
    ceiling: 0.5,
    note: `${all.length} changes (${cells.length} cells + ${all.length - cells.length} row sentinels)`,
  });
  return results;
}
