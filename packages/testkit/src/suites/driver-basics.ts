import { describe, expect, it } from 'vitest';
import type { ResolvedOptions } from '../conformance-options.js';
import type { Harness } from '../harness.js';
import { showRows } from '../show-value.js';

/**
 * The driver contract itself: `exec`, `prepare`, `run`, `all`, exact binding, errors, reuse,
 * transactions.
 *
 * @example
 * ```ts
 * describeDriverBasics(harness, resolveOptions());
 * ```
 */
export function describeDriverBasics(harness: Harness, options: ResolvedOptions): void {
  const { timeoutMs } = options;
  describe('driver basics', () => {
    it(
      'exec runs several statements, comments included',
      async () => {
        const driver = await harness.driver();
        driver.exec(`
          CREATE TABLE a(x);
          INSERT INTO a VALUES (1); -- a comment; with a semicolon
          INSERT INTO a VALUES (2);
          /* another; comment */ INSERT INTO a VALUES ('three;');
        `);
        expect(showRows(driver.prepare('SELECT x FROM a ORDER BY rowid').all())).toEqual([
          ['INTEGER 1'],
          ['INTEGER 2'],
          ['TEXT "three;"'],
        ]);
      },
      timeoutMs,
    );

    it(
      'exec creates triggers whose bodies hold several statements',
      async () => {
        const driver = await harness.driver();
        driver.exec(`
          CREATE TABLE a(x);
          CREATE TABLE log(y);
          CREATE TRIGGER a_insert AFTER INSERT ON a BEGIN
            INSERT INTO log VALUES (NEW.x);
            INSERT INTO log VALUES (NEW.x * 10);
          END;
          INSERT INTO a VALUES (4);
        `);
        expect(showRows(driver.prepare('SELECT y FROM log ORDER BY rowid').all())).toEqual([
          ['INTEGER 4'],
          ['INTEGER 40'],
        ]);
      },
      timeoutMs,
    );

    it(
      'binds positional parameters exactly: bigint INTEGER, number REAL, string TEXT, Uint8Array BLOB, null NULL',
      async () => {
        const driver = await harness.driver();
        const params = [2n, 2, 'x', new Uint8Array([0, 255]), null];
        const select = driver.prepare(
          'SELECT ?, ?, ?, ?, ?, typeof(?), typeof(?), typeof(?), typeof(?), typeof(?)',
        );
        const rows = select.all([...params, ...params]);
        expect(Array.isArray(rows)).toBe(true);
        expect(rows).toHaveLength(1);
        expect(Array.isArray(rows[0])).toBe(true);
        expect(showRows(rows)).toEqual([
          [
            'INTEGER 2',
            'REAL 2',
            'TEXT "x"',
            'BLOB x00ff',
            'NULL',
            'TEXT "integer"',
            'TEXT "real"',
            'TEXT "text"',
            'TEXT "blob"',
            'TEXT "null"',
          ],
        ]);
        const blob = rows[0]![3];
        expect(blob).toBeInstanceOf(Uint8Array);
      },
      timeoutMs,
    );

    it(
      'reads every storage class exactly, INTEGER beyond 2^53 as bigint',
      async () => {
        const driver = await harness.driver();
        const rows = driver
          .prepare(
            "SELECT 9223372036854775807, -9223372036854775808, 9007199254740993, 2.0, 0.1, 'é🙂', x'00ff', NULL, 1 = 1",
          )
          .all();
        expect(showRows(rows)).toEqual([
          [
            'INTEGER 9223372036854775807',
            'INTEGER -9223372036854775808',
            'INTEGER 9007199254740993',
            'REAL 2',
            'REAL 0.1',
            'TEXT "é🙂"',
            'BLOB x00ff',
            'NULL',
            'INTEGER 1',
          ],
        ]);
      },
      timeoutMs,
    );

    it(
      'all returns [] for statements without rows and the rows of INSERT … RETURNING; run discards them',
      async () => {
        const driver = await harness.driver();
        driver.exec('CREATE TABLE r(id INTEGER PRIMARY KEY, v)');
        expect(driver.prepare('SELECT * FROM r').all()).toEqual([]);
        expect(driver.prepare('INSERT INTO r(v) VALUES (?)').all(['a'])).toEqual([]);
        const returning = driver.prepare('INSERT INTO r(v) VALUES (?) RETURNING id, v');
        expect(showRows(returning.all(['b']))).toEqual([['INTEGER 2', 'TEXT "b"']]);
        returning.run(['c']);
        expect(showRows(driver.prepare('SELECT id, v FROM r ORDER BY id').all())).toEqual([
          ['INTEGER 1', 'TEXT "a"'],
          ['INTEGER 2', 'TEXT "b"'],
          ['INTEGER 3', 'TEXT "c"'],
        ]);
      },
      timeoutMs,
    );

    it(
      'a failing statement throws and leaves the connection and its statements usable',
      async () => {
        const driver = await harness.driver();
        expect(() => driver.exec('SELEC 1')).toThrow();
        expect(() => driver.prepare('SELECT * FROM missing').all()).toThrow();
        driver.exec('CREATE TABLE u(id TEXT PRIMARY KEY NOT NULL, n CHECK (n >= 0))');
        const insert = driver.prepare('INSERT INTO u VALUES (?, ?)');
        insert.run(['a', 1n]);
        expect(() => insert.run(['a', 1n])).toThrow();
        expect(() => insert.run(['b', -1n])).toThrow();
        expect(() =>
          driver.exec("INSERT INTO u VALUES ('c', 1); INSERT INTO u VALUES (NULL, 1)"),
        ).toThrow();
        // Not left inside a transaction: BEGIN works, and the statement that failed runs again.
        driver.exec('BEGIN');
        insert.run(['d', 2n]);
        driver.exec('COMMIT');
        expect(
          showRows(
            driver.prepare("SELECT id FROM u WHERE id IN ('a', 'b', 'd') ORDER BY id").all(),
          ),
        ).toEqual([['TEXT "a"'], ['TEXT "d"']]);
        expect(driver.prepare('SELECT id FROM u WHERE id IS NULL').all()).toEqual([]);
      },
      timeoutMs,
    );

    it(
      'statements are reusable, and the same text prepared twice gives independent statements',
      async () => {
        const driver = await harness.driver();
        driver.exec('CREATE TABLE kv(k INTEGER PRIMARY KEY, v)');
        const insert = driver.prepare('INSERT INTO kv VALUES (?, ?)');
        for (let i = 0; i < 100; i++) insert.run([BigInt(i), i % 2 === 0 ? `v${i}` : i + 0.5]);
        const first = driver.prepare('SELECT v FROM kv WHERE k = ?');
        const second = driver.prepare('SELECT v FROM kv WHERE k = ?');
        for (let i = 0; i < 100; i += 7) {
          expect(showRows(first.all([BigInt(i)]))).toEqual(
            showRows([[i % 2 === 0 ? `v${i}` : i + 0.5]]),
          );
          expect(showRows(second.all([BigInt(99 - i)]))).toEqual(
            showRows([[(99 - i) % 2 === 0 ? `v${99 - i}` : 99 - i + 0.5]]),
          );
        }
        expect(first.all([1000n])).toEqual([]);
      },
      timeoutMs,
    );

    it(
      'binds 999 parameters in one statement (the most OffSync uses)',
      async () => {
        const driver = await harness.driver();
        const params = Array.from({ length: 999 }, (_, i) => BigInt(i * 3));
        const rows = driver.prepare(`SELECT ${new Array(999).fill('?').join(', ')}`).all(params);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toEqual(params);
      },
      timeoutMs,
    );

    it(
      'transactions and nested savepoints commit and roll back',
      async () => {
        const driver = await harness.driver();
        driver.exec('CREATE TABLE t(v)');
        const insert = driver.prepare('INSERT INTO t VALUES (?)');
        const count = (): unknown => driver.prepare('SELECT count(*) FROM t').all()[0]![0];
        driver.exec('BEGIN');
        insert.run([1n]);
        driver.exec('SAVEPOINT inner');
        insert.run([2n]);
        driver.exec('ROLLBACK TO inner');
        driver.exec('RELEASE inner');
        driver.exec('COMMIT');
        expect(count()).toBe(1n);
        driver.exec('BEGIN');
        insert.run([3n]);
        driver.exec('ROLLBACK');
        expect(count()).toBe(1n);
        // A savepoint outside a transaction is one (how OffSync wraps each operation).
        driver.exec('SAVEPOINT outer');
        insert.run([4n]);
        driver.exec('SAVEPOINT nested');
        insert.run([5n]);
        driver.exec('RELEASE nested');
        driver.exec('ROLLBACK TO outer');
        driver.exec('RELEASE outer');
        expect(count()).toBe(1n);
        driver.exec('SAVEPOINT outer');
        insert.run([6n]);
        driver.exec('RELEASE outer');
        expect(count()).toBe(2n);
      },
      timeoutMs,
    );
  });
}
