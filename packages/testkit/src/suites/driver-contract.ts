import { describe, expect, it } from 'vitest';
import type { ResolvedOptions } from '../conformance-options.js';
import type { Harness } from '../harness.js';
import { showRows } from '../show-value.js';

/** The oldest SQLite OffSync runs on: RETURNING and ALTER TABLE DROP COLUMN came in 3.35.0. */
export const MINIMUM_SQLITE = '3.35.0';

/** The name of the first test, which the others wait for (see `runDriverConformance`). */
export const SYNCHRONOUS_TEST = 'the driver is synchronous: no method returns a Promise';

/**
 * The points of the driver contract a binding gets wrong most: statements that must outlive many
 * others, lone BLOB and NULL parameters, double `close()`, use after `close()`, and a wrong
 * parameter count. The synchronous check itself runs first, from `runDriverConformance`.
 *
 * @example
 * ```ts
 * describeDriverContract(harness, resolveOptions());
 * ```
 */
export function describeDriverContract(harness: Harness, options: ResolvedOptions): void {
  const { timeoutMs } = options;
  describe('driver contract', () => {
    it(
      `SQLite is ${MINIMUM_SQLITE} or newer (RETURNING, ALTER TABLE DROP COLUMN, sqlite_schema)`,
      async () => {
        const driver = await harness.driver();
        const version = String(driver.prepare('SELECT sqlite_version()').all()[0]?.[0]);
        expect(
          compareVersions(version, MINIMUM_SQLITE) >= 0,
          `SQLite ${version} is older than ${MINIMUM_SQLITE}, the oldest OffSync runs on`,
        ).toBe(true);
      },
      timeoutMs,
    );

    it(
      'a statement stays usable until close(), after 600 other distinct statements',
      async () => {
        const driver = await harness.driver();
        driver.exec('CREATE TABLE s(k INTEGER PRIMARY KEY, v)');
        // The replica prepares a few statements once and keeps them for its lifetime: a driver
        // that finalizes old statements of its cache breaks the replica after enough prepares.
        const first = driver.prepare('INSERT INTO s VALUES (?, ?)');
        const read = driver.prepare('SELECT v FROM s WHERE k = ?');
        first.run([0n, 'first']);
        for (let i = 1; i <= 600; i++) {
          expect(driver.prepare(`SELECT ${i}, ?`).all([BigInt(i)])).toEqual([
            [BigInt(i), BigInt(i)],
          ]);
        }
        first.run([1n, 'again']);
        expect(showRows(read.all([0n]))).toEqual([['TEXT "first"']]);
        expect(showRows(read.all([1n]))).toEqual([['TEXT "again"']]);
      },
      timeoutMs,
    );

    it(
      'binds a lone BLOB, a lone empty BLOB and a lone NULL',
      async () => {
        const driver = await harness.driver();
        driver.exec('CREATE TABLE lone(v)');
        const insert = driver.prepare('INSERT INTO lone VALUES (?)');
        // A lone Uint8Array or null is where an adapter that spreads parameters (or takes a
        // single value as "the parameters") goes wrong.
        insert.run([new Uint8Array([1, 0, 2])]);
        insert.run([new Uint8Array(0)]);
        insert.run([null]);
        expect(
          driver.prepare('SELECT typeof(v), hex(v), quote(v) FROM lone ORDER BY rowid').all(),
        ).toEqual([
          ['blob', '010002', "X'010002'"],
          ['blob', '', "X''"],
          ['null', '', 'NULL'],
        ]);
        expect(showRows(driver.prepare('SELECT ?').all([new Uint8Array([7])]))).toEqual([
          ['BLOB x07'],
        ]);
        expect(showRows(driver.prepare('SELECT ?').all([null]))).toEqual([['NULL']]);
      },
      timeoutMs,
    );

    it(
      'a wrong parameter count (too many, too few) throws and leaves the connection usable',
      async () => {
        const driver = await harness.driver();
        driver.exec('CREATE TABLE p(a, b)');
        const insert = driver.prepare('INSERT INTO p VALUES (?, ?)');
        // Too few must not bind NULL silently: that writes a row the app never asked for.
        expect(() => insert.run([1n])).toThrow();
        expect(() => insert.run([1n, 2n, 3n])).toThrow();
        expect(() => insert.run()).toThrow();
        expect(() => driver.prepare('SELECT ?, ?').all([1n])).toThrow();
        expect(() => driver.prepare('SELECT 1').all([1n])).toThrow();
        expect(driver.prepare('SELECT count(*) FROM p').all()).toEqual([[0n]]);
        driver.exec('BEGIN');
        insert.run([1n, 2n]);
        driver.exec('COMMIT');
        expect(showRows(driver.prepare('SELECT a, b FROM p').all())).toEqual([
          ['INTEGER 1', 'INTEGER 2'],
        ]);
      },
      timeoutMs,
    );

    it(
      'close() twice is harmless; exec, prepare and statements throw after close()',
      async () => {
        const driver = await harness.driver();
        driver.exec('CREATE TABLE c(v)');
        const statement = driver.prepare('SELECT count(*) FROM c');
        driver.close();
        driver.close();
        // Any error will do, as long as it is an error and not a crash or a silent no-op.
        expect(() => driver.exec('INSERT INTO c VALUES (1)')).toThrow();
        expect(() => driver.prepare('SELECT 1').all()).toThrow();
        expect(() => statement.all()).toThrow();
        expect(() => statement.run()).toThrow();
        driver.close();
      },
      timeoutMs,
    );
  });
}

function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
