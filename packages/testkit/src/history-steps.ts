import { fc } from '@fast-check/vitest';
import type { SqlValue } from '@offsync/core';
import { HISTORY_TABLES } from './history-tables.js';
import { historyValueArbitrary } from './value-arbitraries.js';

/**
 * One step of a random multi-replica history.
 *
 * - `insert`: the app inserts key `key` if absent; if present, with `replace` it runs
 *   `INSERT OR REPLACE` (outside the reference model), otherwise nothing.
 * - `update`: `UPDATE ... SET` some value columns (nothing if the row is absent).
 * - `delete`: `DELETE` the row.
 * - `publish`: the replica lists its changes since its cursor (`changesetSince`, a page of
 *   `limit` rows when given) as a message.
 * - `deliver`: message `message` (any one, again or out of order) is applied to a replica, whole
 *   as bytes, or as a slice `[from, to)` of its decoded changes when `slice` is set.
 * - `pull`: peer-to-peer, `replica` applies `from`'s `changesSinceVector(replica's vector)`.
 * - `flush`, `restart` (re-open the connection where the setup can, and the replica), `tick`
 *   (every clock moves `ms`, possibly backwards).
 *
 * @example
 * ```ts
 * const step: HistoryStep = { kind: 'delete', replica: 1, table: 0, key: 2 };
 * ```
 */
export type HistoryStep =
  | {
      readonly kind: 'insert';
      readonly replica: number;
      readonly table: number;
      readonly key: number;
      readonly values: readonly SqlValue[];
      readonly replace: boolean;
    }
  | {
      readonly kind: 'update';
      readonly replica: number;
      readonly table: number;
      readonly key: number;
      readonly set: readonly { readonly column: number; readonly value: SqlValue }[];
    }
  | {
      readonly kind: 'delete';
      readonly replica: number;
      readonly table: number;
      readonly key: number;
    }
  | { readonly kind: 'publish'; readonly replica: number; readonly limit: number | undefined }
  | {
      readonly kind: 'deliver';
      readonly replica: number;
      readonly message: number;
      readonly slice: boolean;
      readonly from: number;
      readonly to: number;
    }
  | { readonly kind: 'pull'; readonly replica: number; readonly from: number }
  | { readonly kind: 'flush'; readonly replica: number }
  | { readonly kind: 'restart'; readonly replica: number }
  | { readonly kind: 'tick'; readonly ms: number };

/**
 * The size of random histories.
 *
 * @example
 * ```ts
 * const shape: HistoryShape = { replicas: 3, keys: 4, maxSteps: 25 };
 * ```
 */
export interface HistoryShape {
  /** Number of replicas (at least 2). */
  readonly replicas: number;
  /** Keys per table: a small space, so that writes collide. */
  readonly keys: number;
  /** Most steps before the final exchange. */
  readonly maxSteps: number;
}

/**
 * The default: 3 replicas, 4 keys per table, at most 25 steps, small enough that 1,000 histories
 * on an in-memory database take seconds.
 *
 * @example
 * ```ts
 * historySteps(DEFAULT_HISTORY_SHAPE);
 * ```
 */
export const DEFAULT_HISTORY_SHAPE: HistoryShape = { replicas: 3, keys: 4, maxSteps: 25 };

/**
 * Random histories of app writes, exchanges, flushes, restarts and clock ticks.
 *
 * @example
 * ```ts
 * test.prop([historySteps(DEFAULT_HISTORY_SHAPE), fc.integer()])('converges', async (steps, seed) => {
 *   // run the steps, then a final exchange, then compare the replicas
 * });
 * ```
 */
export function historySteps(
  shape: HistoryShape = DEFAULT_HISTORY_SHAPE,
): fc.Arbitrary<HistoryStep[]> {
  const replica = fc.integer({ min: 0, max: shape.replicas - 1 });
  const table = fc.integer({ min: 0, max: HISTORY_TABLES.length - 1 });
  const key = fc.integer({ min: 0, max: shape.keys - 1 });
  const value = historyValueArbitrary();
  const step: fc.Arbitrary<HistoryStep> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('insert' as const),
        replica,
        table,
        key,
        values: fc.tuple(value, value),
        replace: fc.boolean(),
      }),
    },
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('update' as const),
        replica,
        table,
        key,
        set: fc.array(fc.record({ column: fc.nat({ max: 1 }), value }), {
          minLength: 1,
          maxLength: 2,
        }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('delete' as const), replica, table, key }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('publish' as const),
        replica,
        limit: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('deliver' as const),
        replica,
        message: fc.nat(),
        slice: fc.boolean(),
        from: fc.nat(),
        to: fc.nat(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('pull' as const), replica, from: replica }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('flush' as const), replica }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), replica }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('tick' as const),
        ms: fc.integer({ min: -3, max: 20 }),
      }),
    },
  );
  // size 'max': fast-check's default size would keep arrays near 10 steps, whatever maxLength says.
  return fc.array(step, { maxLength: shape.maxSteps, size: 'max' });
}
