import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fc, test } from '@fast-check/vitest';
import { InvalidValueError, SQL_INTEGER_MAX, SQL_INTEGER_MIN, type SqlValue } from '@offsync/core';
import { thrownBy } from '@offsync/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DatabaseClosedError,
  ParameterCountError,
  SqliteError,
  StatementCountError,
  UnsupportedPlaceholderError,
} from '../errors.js';
import { SqliteWasmDriver } from './driver.js';
import { loadSqliteWasm } from './load.js';
import { openSqliteWasmDriver } from './open.js';

const RUNS = Math.max(20, Math.floor(Number(process.env.FC_RUNS ?? 1000) / 5));

let open: SqliteWasmDriver[] = [];
async function driver(options: Parameters<typeof openSqliteWasmDriver>[0] = {}) {
  const d = await openSqliteWasmDriver(options);
  open.push(d);
  return d;
}
afterEach(() => {
  for (const d of open) d.close();
  open = [];
});

/** The stored class and bytes of `?` bound to `value`, as SQLite sees them. */
function stored(d: SqliteWasmDriver, value: SqlValue): [SqlValue, SqlValue] {
  d.exec('DROP TABLE IF EXISTS s; CREATE TABLE s(v)');
  d.prepare('INSERT INTO s VALUES (?)').run([value]);
  return d.prepare('SELECT typeof(v), quote(v) FROM s').all()[0] as [SqlValue, SqlValue];
}

describe('SqliteWasmDriver binding', () => {
  it('binds by JavaScript type, never by value: a whole number is REAL, a bigint INTEGER', async () => {
    const d = await driver();
    expect(stored(d, 2)).toEqual(['real', '2.0']);
    expect(stored(d, -0)).toEqual(['real', '0.0']);
    expect(stored(d, 2n)).toEqual(['integer', '2']);
    expect(stored(d, SQL_INTEGER_MAX)).toEqual(['integer', '9223372036854775807']);
    expect(stored(d, SQL_INTEGER_MIN)).toEqual(['integer', '-9223372036854775808']);
    expect(stored(d, 2 ** 53 + 2)).toEqual(['real', '9007199254740994.0']);
    expect(stored(d, Number.NaN)).toEqual(['null', 'NULL']);
    expect(d.prepare('SELECT ?').all([-0])).toEqual([[-0]]);
  });

  it('keeps TEXT whole: NUL inside, empty, non-ASCII, and lone surrogates as WTF-8', async () => {
    const d = await driver();
    expect(d.prepare('SELECT hex(?), length(CAST(? AS BLOB))').all(['a\0b', 'a\0b'])).toEqual([
      ['610062', 3n],
    ]);
    expect(d.prepare('SELECT ?').all(['a\0b'])).toEqual([['a\0b']]);
    expect(stored(d, '')).toEqual(['text', "''"]);
    expect(d.prepare('SELECT hex(?)').all(['é日🙂'])).toEqual([['C3A9E697A5F09F9982']]);
    // Lone surrogates are stored as better-sqlite3 stores them, so replicas refuse them alike.
    expect(d.prepare('SELECT hex(?), hex(?)').all(['a\uD800b', '\uDC00'])).toEqual([
      ['61EDA08062', 'EDB080'],
    ]);
    const long = 'große ✓ 日本語 🙂 '.repeat(5_000);
    expect(d.prepare('SELECT ?').all([long])).toEqual([[long]]);
  });

  it('binds a lone BLOB, an empty BLOB and a lone NULL as themselves', async () => {
    const d = await driver();
    expect(
      d.prepare('SELECT ?, typeof(?)').all([new Uint8Array([0, 255]), new Uint8Array([1])]),
    ).toEqual([[new Uint8Array([0, 255]), 'blob']]);
    expect(stored(d, new Uint8Array(0))).toEqual(['blob', "X''"]);
    expect(d.prepare('SELECT ?').all([new Uint8Array(0)])).toEqual([[new Uint8Array(0)]]);
    expect(stored(d, null)).toEqual(['null', 'NULL']);
    expect(d.prepare('SELECT ?').all([null])).toEqual([[null]]);
  });

  it('copies a BLOB larger than the heap had room for, and older statements still work', async () => {
    const d = await driver();
    const select = d.prepare('SELECT ?');
    const big = new Uint8Array(8 * 1024 * 1024).map((_, i) => (i * 131 + 7) & 0xff);
    const [[back]] = d.prepare('SELECT ?').all([big]) as [[Uint8Array]];
    expect(back.byteLength).toBe(big.byteLength);
    expect(Buffer.compare(back, big)).toBe(0);
    expect(select.all([1n])).toEqual([[1n]]);
  });

  test.prop(
    [
      fc.oneof(
        fc.constant(null),
        fc.bigInt({ min: SQL_INTEGER_MIN, max: SQL_INTEGER_MAX }),
        fc.double({ noNaN: true }),
        fc.string({ unit: 'grapheme' }),
        fc.uint8Array({ maxLength: 64 }),
      ),
    ],
    { numRuns: RUNS },
  )('every value reads back as it was bound (class and value)', async (value) => {
    const d = await driver();
    const [[back, type]] = d.prepare('SELECT ?, typeof(?)').all([value, value]);
    expect(back).toEqual(value);
    const expected =
      value === null
        ? 'null'
        : typeof value === 'bigint'
          ? 'integer'
          : typeof value === 'number'
            ? 'real'
            : typeof value === 'string'
              ? 'text'
              : 'blob';
    expect(type).toBe(expected);
  });
});

describe('SqliteWasmDriver refusals change nothing', () => {
  it('refuses values that are not SQL values, and bigints beyond 64 bits, with InvalidValueError', async () => {
    const d = await driver();
    d.exec('CREATE TABLE t(v)');
    const insert = d.prepare('INSERT INTO t VALUES (?)');
    const bad: unknown[] = [
      SQL_INTEGER_MAX + 1n,
      SQL_INTEGER_MIN - 1n,
      undefined,
      true,
      {},
      [1],
      new Int8Array([1]),
      () => 1,
      Symbol('x'),
    ];
    for (const value of bad) {
      expect(thrownBy(() => insert.run([value as SqlValue]))).toBeInstanceOf(InvalidValueError);
    }
    expect(d.prepare('SELECT count(*) FROM t').all()).toEqual([[0n]]);
    insert.run([1n]);
    expect(d.prepare('SELECT v FROM t').all()).toEqual([[1n]]);
  });

  it('refuses the wrong number of parameters with ParameterCountError', async () => {
    const d = await driver();
    const select = d.prepare('SELECT ?, ?');
    expect(thrownBy(() => select.all([1n]))).toMatchObject({
      type: 'ParameterCountError',
      expected: 2,
      received: 1,
    });
    expect(thrownBy(() => select.all([1n, 2n, 3n]))).toBeInstanceOf(ParameterCountError);
    expect(thrownBy(() => d.prepare('SELECT 1').all([1n]))).toBeInstanceOf(ParameterCountError);
    expect(select.all([1n, 2n])).toEqual([[1n, 2n]]);
  });

  it('refuses named and numbered placeholders, no statement and several statements', async () => {
    const d = await driver();
    for (const [sql, placeholder] of [
      ['SELECT :id', ':id'],
      ['SELECT @a', '@a'],
      ['SELECT $a', '$a'],
      ['SELECT ?1', '?1'],
      ["SELECT ':x', ?2", '?2'],
    ] as const) {
      expect(
        thrownBy(() => d.prepare(sql)),
        sql,
      ).toMatchObject({
        type: 'UnsupportedPlaceholderError',
        placeholder,
        offset: sql.indexOf(placeholder),
      });
    }
    expect(thrownBy(() => d.prepare(' -- nothing\n'))).toMatchObject({
      type: 'StatementCountError',
      found: 'none',
    });
    expect(thrownBy(() => d.prepare('SELECT 1; SELECT 2'))).toMatchObject({ found: 'several' });
    expect(d.prepare('SELECT 1; -- trailing comment').all()).toEqual([[1n]]);
    expect(thrownBy(() => d.prepare('SELEC 1'))).toMatchObject({
      type: 'SqliteError',
      reason: 'near "SELEC": syntax error',
    });
    expect(
      thrownBy(() => d.exec('CREATE TABLE t(v); INSERT INTO missing VALUES (1)')),
    ).toMatchObject({
      type: 'SqliteError',
      reason: 'no such table: missing',
    });
    expect(StatementCountError).toBeDefined();
    expect(UnsupportedPlaceholderError).toBeDefined();
  });

  it('a constraint failure throws SqliteError and leaves the statement reusable', async () => {
    const d = await driver();
    d.exec('CREATE TABLE u(id TEXT PRIMARY KEY NOT NULL)');
    const insert = d.prepare('INSERT INTO u VALUES (?)');
    insert.run(['a']);
    expect(thrownBy(() => insert.run(['a']))).toMatchObject({
      type: 'SqliteError',
      reason: 'UNIQUE constraint failed: u.id',
    });
    insert.run(['b']);
    expect(d.prepare('SELECT id FROM u ORDER BY id').all()).toEqual([['a'], ['b']]);
  });
});

describe('SqliteWasmDriver lifetime', () => {
  it('a statement stays usable until close, however many others were prepared since', async () => {
    const d = await driver({ statementCacheSize: 4 });
    d.exec('CREATE TABLE t(v)');
    const insert = d.prepare('INSERT INTO t VALUES (?)');
    for (let i = 0; i < 600; i++) d.prepare(`SELECT ${i}`).all();
    insert.run([1n]);
    expect(d.prepare('SELECT v FROM t').all()).toEqual([[1n]]);
    expect(d.prepare('INSERT INTO t VALUES (?)')).not.toBe(insert);
    const again = d.prepare('SELECT v FROM t');
    expect(d.prepare('SELECT v FROM t')).toBe(again);
  });

  it('finalizes forgotten statements once nothing references them, and only those', async () => {
    const d = await driver({ statementCacheSize: 4 });
    const capi = d.sqlite3.capi;
    const live = (): number => {
      let n = 0;
      for (
        let s = capi.sqlite3_next_stmt(d.pointer, 0);
        s;
        s = capi.sqlite3_next_stmt(d.pointer, s)
      ) {
        n++;
      }
      return n;
    };
    const kept = d.prepare('SELECT 42');
    for (let i = 0; i < 2_000; i++) d.prepare(`SELECT ${i}`).all();
    expect(live()).toBe(2_001);
    // A real collection, not a simulated one: node's gc() exposed for this test only.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    for (let round = 0; round < 5 && live() > 5; round++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    // The four the cache remembers, and the one still referenced.
    expect(live()).toBe(5);
    expect(kept.all()).toEqual([[42n]]);
  });

  it('close is idempotent; every use after close throws DatabaseClosedError', async () => {
    const d = await openSqliteWasmDriver();
    const select = d.prepare('SELECT 1');
    d.close();
    d.close();
    expect(d.closed).toBe(true);
    for (const [operation, use] of [
      ['exec', () => d.exec('SELECT 1')],
      ['prepare', () => d.prepare('SELECT 1')],
      ['run', () => select.run()],
      ['all', () => select.all()],
      ['export', () => d.export()],
    ] as const) {
      expect(thrownBy(use)).toMatchObject({ type: 'DatabaseClosedError', operation });
    }
    expect(thrownBy(() => select.all())).toBeInstanceOf(DatabaseClosedError);
  });

  it('wraps an oo1 DB and closes it with the driver', async () => {
    const sqlite3 = await loadSqliteWasm();
    const db = new sqlite3.oo1.DB(':memory:');
    const d = new SqliteWasmDriver(sqlite3, db);
    expect(d.prepare('SELECT ?').all([3])).toEqual([[3]]);
    d.close();
    expect(db.pointer).toBeUndefined();
    expect(thrownBy(() => new SqliteWasmDriver(sqlite3, 0))).toBeInstanceOf(SqliteError);
  });

  it('opens named memdb databases that a second connection shares, and refuses an unknown VFS', async () => {
    const a = await driver({ filename: 'file:/shared-test.db?vfs=memdb' });
    const b = await driver({ filename: 'file:/shared-test.db?vfs=memdb' });
    a.exec("CREATE TABLE t(v); INSERT INTO t VALUES ('x')");
    expect(b.prepare('SELECT v FROM t').all()).toEqual([['x']]);
    await expect(
      openSqliteWasmDriver({ filename: '/x.db', vfs: 'no-such-vfs' }),
    ).rejects.toMatchObject({
      type: 'SqliteError',
      reason: 'no VFS named no-such-vfs is registered',
    });
  });

  it('exports the database as the bytes of a SQLite file', async () => {
    const d = await driver();
    d.exec("CREATE TABLE t(v); INSERT INTO t VALUES ('x')");
    const bytes = d.export();
    expect(new TextDecoder().decode(bytes.subarray(0, 15))).toBe('SQLite format 3');
  });
});
