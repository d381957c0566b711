import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ConformanceOptions,
  type ResolvedOptions,
  resolveOptions,
} from './conformance-options.js';
import type { DriverSetup } from './fixture.js';
import { Harness } from './harness.js';
import { limitationSummary } from './limitations.js';
import { replayCommand } from './replay.js';
import { describeAlter } from './suites/alter.js';
import { describeCapture } from './suites/capture.js';
import { describeDirectApply } from './suites/direct-apply.js';
import { describeDriverBasics } from './suites/driver-basics.js';
import { describeDriverContract, SYNCHRONOUS_TEST } from './suites/driver-contract.js';
import { describeEqualStamps } from './suites/equal-stamps.js';
import { describeLaws } from './suites/laws.js';
import { describeLiveQueries } from './suites/live-queries.js';
import { describeMergeSemantics } from './suites/merge-semantics.js';
import { describePaging } from './suites/paging.js';
import { describePeerToPeer } from './suites/peer-to-peer.js';
import { describePersistence } from './suites/persistence.js';
import { describeRefusals } from './suites/refusals.js';
import { describeSchemaChecks } from './suites/schema-checks.js';
import { describeValueRoundTrips } from './suites/value-round-trips.js';
import { describeWriteTime } from './suites/write-time.js';
import { asyncDriverProblem } from './sync-probe.js';

/**
 * Registers the conformance suite of a SQLite driver with vitest: the driver contract itself,
 * exact values in all five storage classes, schema checks, change capture, merge semantics, new
 * rows written straight from changeset bytes, all-or-nothing refusals, schema migration, paging,
 * persistence, peer-to-peer exchange, change events and live queries, and the CRDT laws over
 * random histories (also against the memory reference model). Everything runs `@offsync/core`'s SQLite replica over the driver; a
 * driver that passes can carry OffSync.
 *
 * `setup` must return a connection to a FRESH, EMPTY database each call; add `teardown` to delete
 * files and `reopen` to let the persistence checks re-open the database. Call it at the top level
 * of a test file (or inside a `describe`).
 *
 * The first test checks that the driver is synchronous; if it is not, it fails with one message
 * and every other test skips with it. A failing test prints the `FC_SEED` command that replays
 * it, and the run ends with a summary line of the declared `limitations`.
 *
 * @param setup Creates a fresh database and its driver.
 * @param title Names the driver in test reports.
 * @param options Run counts and timeout.
 * @example
 * ```ts
 * import { runDriverConformance } from '@offsync/testkit';
 * import { MyDriver } from './my-driver.js';
 *
 * runDriverConformance(() => ({ driver: new MyDriver(':memory:') }), 'my driver');
 * ```
 */
export function runDriverConformance(
  setup: DriverSetup,
  title: string,
  options: ConformanceOptions = {},
): void {
  const resolved = resolveOptions(options);
  describe(`SQLite driver conformance: ${title}`, () => {
    const harness = new Harness(setup);
    let probe: Promise<string | undefined> | undefined;
    // @fast-check/vitest runs beforeEach hooks again before every run of a property.
    const watched = new WeakSet<object>();
    beforeEach(async (context) => {
      if (!watched.has(context.task)) {
        watched.add(context.task);
        context.onTestFailed(() => {
          console.error(
            replayCommand(resolved.seed, context.task.file.filepath, context.task.name),
          );
        });
      }
      probe ??= asyncDriverProblem(setup);
      const problem = await probe;
      if (problem !== undefined && context.task.name !== SYNCHRONOUS_TEST) context.skip(problem);
    });
    afterEach(() => harness.dispose());
    afterAll(() => {
      console.info(limitationSummary(title, resolved.limitations));
    });
    it(
      SYNCHRONOUS_TEST,
      async () => {
        probe ??= asyncDriverProblem(setup);
        const problem = await probe;
        expect(problem === undefined, problem).toBe(true);
      },
      resolved.timeoutMs,
    );
    describeSuites(harness, resolved);
  });
}

function describeSuites(harness: Harness, resolved: ResolvedOptions): void {
  describeDriverContract(harness, resolved);
  describeDriverBasics(harness, resolved);
  describeValueRoundTrips(harness, resolved);
  describeSchemaChecks(harness, resolved);
  describeCapture(harness, resolved);
  describeMergeSemantics(harness, resolved);
  describeEqualStamps(harness, resolved);
  describeWriteTime(harness, resolved);
  describeDirectApply(harness, resolved);
  describeRefusals(harness, resolved);
  describeAlter(harness, resolved);
  describePaging(harness, resolved);
  describePersistence(harness, resolved);
  describePeerToPeer(harness, resolved);
  describeLiveQueries(harness, resolved);
  describeLaws(harness, resolved);
}
