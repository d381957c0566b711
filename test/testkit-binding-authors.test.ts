import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BetterSqliteDriver } from '@offsync/adapter-node';
import type { SqliteDriver, SqliteStatement } from '@offsync/core';
import { asyncDriverProblem } from '@offsync/testkit';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The kit run as a binding author runs it: a child vitest over test/testkit-fixtures/bindings.kit.ts
// (an async binding, a sloppy one, one that cuts TEXT at NUL and declares it), read back from
// vitest's own JSON report and console output.
interface Assertion {
  readonly fullName: string;
  readonly status: 'passed' | 'failed' | 'skipped' | 'pending' | 'todo';
  readonly failureMessages: readonly string[];
}

const FILTER =
  'synchronous|driver contract|stores NaN|embedded NUL|17 significant|every edge value|CRDT laws all';

let directory = '';
let results: Assertion[] = [];
let output = '';

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'offsync-kit-'));
  const report = join(directory, 'report.json');
  const run = promisify(execFile)(
    process.execPath,
    [
      'node_modules/vitest/vitest.mjs',
      'run',
      '--config',
      'test/testkit-fixtures/vitest.kit.config.ts',
      '-t',
      FILTER,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
    ],
    { env: { ...process.env, FC_RUNS: '5', FC_SEED: '4242', NO_COLOR: '1' }, maxBuffer: 64 << 20 },
  );
  // The child fails (its bindings are broken on purpose): its report is what counts.
  const { stdout, stderr } = await run.catch((error: { stdout: string; stderr: string }) => error);
  output = `${stdout}\n${stderr}`;
  const parsed = JSON.parse(readFileSync(report, 'utf8')) as {
    testResults: { assertionResults: Assertion[] }[];
  };
  results = parsed.testResults.flatMap((file) => file.assertionResults);
}, 120_000);

afterAll(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
});

const of = (binding: string, status: Assertion['status']): Assertion[] =>
  results.filter(
    (a) => a.fullName.startsWith(`SQLite driver conformance: ${binding} `) && a.status === status,
  );

describe('the kit, as a binding author runs it', () => {
  it('an async binding fails one test with one message, and every other test skips', () => {
    const failed = of('async binding', 'failed');
    expect(failed.map((a) => a.fullName)).toEqual([
      'SQLite driver conformance: async binding the driver is synchronous: no method returns a Promise',
    ]);
    expect(failed[0]!.failureMessages[0]).toContain(
      'the driver is asynchronous (exec, prepare, close returned a Promise)',
    );
    expect(of('async binding', 'passed')).toEqual([]);
    const all = results.filter((a) =>
      a.fullName.startsWith('SQLite driver conformance: async binding '),
    );
    expect(of('async binding', 'skipped')).toHaveLength(all.length - 1);
    // The filtered-in tests show the reason beside the skip, not a failure of their own.
    expect(output).toMatch(
      /binds a lone BLOB, a lone empty BLOB and a lone NULL \d+ms \[the driver is asynchronous/,
    );
    expect(output).toContain(
      'every value reaches other replicas exactly, through changesSince and through changeset bytes',
    );
    expect(output).not.toContain('map is not a function');
  });

  it('a binding whose cache finalizes statements fails the statement-lifetime check', () => {
    const failed = of('sloppy binding', 'failed').map((a) => a.fullName);
    expect(failed).toContain(
      'SQLite driver conformance: sloppy binding driver contract a statement stays usable until close(), after 600 other distinct statements',
    );
  });

  it('the affinity check reports every mismatch at once, as a table', () => {
    const affinity = of('sloppy binding', 'failed').find((a) => a.fullName.includes('stores NaN'));
    const message = affinity?.failureMessages[0] ?? '';
    expect(message).toContain('| case | column | expected | got | after sync |');
    // Whole numbers bound as INTEGER: every integral REAL case, in each affected column.
    for (const row of [
      '| -0.0 | v  | REAL -0 | INTEGER 0 | INTEGER 0 |',
      '| 0.0 | t TEXT | TEXT "0.0" | TEXT "0" | TEXT "0" |',
      '| REAL 2.0 | b BLOB | REAL 2 | INTEGER 2 | INTEGER 2 |',
    ]) {
      expect(message).toContain(row);
    }
  });

  it('edge values run in every run, and a failure prints the seed and the replay command', () => {
    const edges = of('sloppy binding', 'failed').find((a) =>
      a.fullName.includes('every edge value'),
    );
    expect(edges?.failureMessages[0]).toContain(
      "REAL 0: AssertionError: no affinity: the value itself: expected 'INTEGER 0' to be 'REAL 0'",
    );
    expect(output).toContain('offsync testkit: seed 4242; replay with FC_SEED=4242 npx vitest run');
    expect(output).toContain('(with seed=4242)');
  });

  it('a declared limitation skips exactly its check, with its reason, and the summary lists it', () => {
    expect(of('nul-cutting binding', 'failed')).toEqual([]);
    const skippedNul = results.find(
      (a) =>
        a.fullName ===
        'SQLite driver conformance: nul-cutting binding value round trips TEXT with an embedded NUL is stored and synced whole',
    );
    expect(skippedNul?.status).toBe('skipped');
    // The reporter prints each skipped test's time, which is 0ms or more under load.
    expect(output).toMatch(
      /TEXT with an embedded NUL is stored and synced whole \d+ms \[known limitation text-nul: binds TEXT as a C string\]/,
    );
    const passed = of('nul-cutting binding', 'passed').map((a) => a.fullName.split(' binding ')[1]);
    expect(passed).toEqual(
      expect.arrayContaining([
        'value round trips every edge value reaches other replicas exactly, in every run whatever the seed',
        'value round trips stores NaN, -0.0, 2.0, 64-bit and numeric-looking values as SQLite documents, identically after sync',
        'driver contract a statement stays usable until close(), after 600 other distinct statements',
      ]),
    );
    expect(output).toContain(
      'offsync testkit, nul-cutting binding: declared limitations: text-nul (binds TEXT as a C string)',
    );
    expect(output).toContain('offsync testkit, sloppy binding: no declared limitations');
  });
});

describe('a synchronous contract', () => {
  it('the types refuse async methods', () => {
    const inner = new BetterSqliteDriver(new Database(':memory:'));
    const driver: SqliteDriver = {
      // @ts-expect-error an async exec is not a driver method
      exec: async (sql: string) => inner.exec(sql),
      // @ts-expect-error prepare must return the statement itself
      prepare: async (sql: string) => inner.prepare(sql),
      // @ts-expect-error an async close is not a driver method
      close: async () => inner.close(),
    };
    const statement: SqliteStatement = {
      // @ts-expect-error an async run is not a statement method
      run: async () => undefined,
      // @ts-expect-error all returns rows, not a Promise of rows
      all: async () => [],
    };
    expect(typeof driver.exec).toBe('function');
    expect(typeof statement.all).toBe('function');
    inner.close();
  });

  it('the probe passes a real synchronous driver and names a thenable all()', async () => {
    expect(
      await asyncDriverProblem(() => ({
        driver: new BetterSqliteDriver(new Database(':memory:')),
      })),
    ).toBeUndefined();
    const problem = await asyncDriverProblem(() => {
      const inner = new BetterSqliteDriver(new Database(':memory:'));
      return {
        driver: {
          exec: (sql) => inner.exec(sql),
          prepare: (sql) => {
            const statement = inner.prepare(sql);
            // A thenable, not a Promise: the probe looks for `then`, as `await` does.
            // biome-ignore lint/suspicious/noThenProperty: the thenable is the point of the test.
            const later = { then: (resolve: (rows: unknown) => void) => resolve(statement.all()) };
            return { run: (params) => statement.run(params), all: () => later as never };
          },
          close: () => inner.close(),
        },
      };
    });
    expect(problem).toContain('the driver is asynchronous (all returned a Promise)');
  });
});
