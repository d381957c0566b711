import { fc, test } from '@fast-check/vitest';
import {
  InvalidValueError,
  SQL_INTEGER_MAX,
  SQL_INTEGER_MIN,
  type SqlValue,
  sqlValuesEqual,
} from '@offsync/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DatabaseClosedError,
  ParameterCountError,
  SqliteError,
  StatementCountError,
  UnsupportedPlaceholderError,
} from './errors.js';
import { loadSqlJs } from './loader.js';
import type { SqlJsDatabase, SqlJsStatement } from './sqljs-api.js';
import { openSqlJsDriver, SqlJsDriver } from './sqljs-driver.js';

const FC_RUNS = Number(process.env.FC_RUNS ?? 1000);

const LARGE_BLOB = new Uint8Array(100_000).map((_, i) => (i * 131 + 7) & 0xff);
const LARGE_TEXT = 'große ✓ 日本語 🙂 '.repeat(5_000);

/** Any SQL value, biased to the edges (as core's test arbitraries). */
const sqlValue: fc.Arbitrary<SqlValue> = fc.oneof(
  fc.constant(null),
  fc.bigInt({ min: SQL_INTEGER_MIN, max: SQL_INTEGER_MAX }),
  fc.constantFrom(
    0n,
    1n,
    -1n,
    2n ** 31n - 1n,
    2n ** 31n,
    -(2n ** 31n),
    -(2n ** 31n) - 1n,
    2n ** 53n + 1n,
    SQL_INTEGER_MAX,
    SQL_INTEGER_MIN,
  ),
  fc.double(),
  fc.integer().map((n) => n + 0.0),
  fc.constantFrom(0, -0, Number.NaN, Infinity, -Infinity, 2.0, -2.0, 0.1, 1e308, 5e-324, 2 ** 53),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 8 }).filter((s) => !/[\uD800-\uDFFF]/u.test(s)),
  fc.constantFrom('', 'é', '日本語', '🙂👍🏽', 'nul\u0000inside', '42', '4.0', ' 7'),
  fc.uint8Array({ maxLength: 40 }),
  fc.constant(new Uint8Array(0)),
);

/** The one documented change a value undergoes in a column without declared type: NaN → NULL. */
function storedInUntypedColumn(value: SqlValue): SqlValue {
  return typeof value === 'number' && Number.isNaN(value) ? null : value;
}

function expectSameValue(actual: SqlValue | undefined, expected: SqlValue): void {
  if (!sqlValuesEqual(actual ?? null, expected) || actual === undefined) {
    const show = (v: SqlValue | undefined) =>
      v instanceof Uint8Array
        ? `BLOB(${v.length})`
        : typeof v === 'bigint'
          ? `${v}n`
          : Object.is(v, -0)
            ? '-0'
            : JSON.stringify(v);
    expect.fail(`expected ${show(expected)}, read ${show(actual)}`);
  }
}

let driver: SqlJsDriver;

beforeEach(async () => {
  driver = await openSqlJsDriver();
});

afterEach(() => {
  driver.close();
});

describe('SqlJsDriver values', () => {
  it('reads every storage class back exactly from an expression', () => {
    const values: SqlValue[] = [
      null,
      0n,
      SQL_INTEGER_MAX,
      SQL_INTEGER_MIN,
      2.0,
      0.1,
      -0,
      Infinity,
      'unicode ✓ 日本語 🙂👍🏽',
      '',
      LARGE_TEXT,
      new Uint8Array([0, 1, 255]),
      new Uint8Array(0),
      LARGE_BLOB,
    ];
    const select = driver.prepare(`SELECT ${values.map(() => '?, typeof(?)').join(', ')}`);
    const [row] = select.all(values.flatMap((v) => [v, v]));
    const kinds = { null: 'null', bigint: 'integer', number: 'real', string: 'text' } as const;
    values.forEach((value, i) => {
      expectSameValue(row![2 * i], value);
      const kind = value instanceof Uint8Array ? 'blob' : kinds[typeof value as keyof typeof kinds];
      expect(row![2 * i + 1]).toBe(value === null ? 'null' : kind);
    });
  });

  it('binds the 64-bit extremes as INTEGER, exactly', () => {
    const rows = driver
      .prepare('SELECT ?, typeof(?), ? - 1, ? + 1')
      .all([SQL_INTEGER_MAX, SQL_INTEGER_MAX, SQL_INTEGER_MAX, SQL_INTEGER_MIN]);
    expect(rows).toEqual([
      [SQL_INTEGER_MAX, 'integer', SQL_INTEGER_MAX - 1n, SQL_INTEGER_MIN + 1n],
    ]);
  });

  it('binds integral numbers, -0 included, as REAL', () => {
    const rows = driver.prepare('SELECT typeof(?), typeof(?), typeof(?), ?').all([2, -0, 0, -0]);
    expect(rows[0]!.slice(0, 3)).toEqual(['real', 'real', 'real']);
    expect(Object.is(rows[0]![3], -0)).toBe(true);
  });

  it('stores NaN as NULL, as sqlite3_bind_double does', () => {
    expect(driver.prepare('SELECT ?, typeof(?)').all([Number.NaN, Number.NaN])).toEqual([
      [null, 'null'],
    ]);
  });

  it('refuses values that are not SQL values', () => {
    const select = driver.prepare('SELECT ?');
    expect(() => select.all([2n ** 63n])).toThrow(InvalidValueError);
    expect(() => select.all([SQL_INTEGER_MIN - 1n])).toThrow(InvalidValueError);
    expect(() => select.all([true as unknown as SqlValue])).toThrow(InvalidValueError);
    expect(() => select.all([undefined as unknown as SqlValue])).toThrow(InvalidValueError);
    expect(() => select.all([[1, 2] as unknown as SqlValue])).toThrow(InvalidValueError);
  });

  // What each declared type does to each value is SQLite's column affinity
  // (https://sqlite.org/datatype3.html), identical in better-sqlite3, which binds the same way:
  // - no type and BLOB: no affinity, every value is kept as bound.
  // - INTEGER and NUMERIC: TEXT that looks like a number becomes INTEGER (or REAL when it is not
  //   integral); a REAL with an integral value becomes INTEGER (2.0 → 2n, -0.0 → 0n).
  // - REAL: INTEGER and numeric TEXT become REAL (2^63-1 rounds to 2^63); an integral REAL is
  //   written to disk as an integer and read back as REAL, so -0.0 reads back as +0.
  // - TEXT: INTEGER and REAL become their text (-0.0 → '0.0', Infinity → 'Inf'); BLOB stays BLOB.
  // - TEXT beyond the INTEGER range becomes REAL in INTEGER columns; hex TEXT is never numeric.
  const AFFINITY_CASES: readonly { value: SqlValue; by: Record<string, SqlValue> }[] = [
    { value: null, by: { none: null, INTEGER: null, REAL: null, TEXT: null, BLOB: null } },
    { value: 5n, by: { none: 5n, INTEGER: 5n, REAL: 5, TEXT: '5', BLOB: 5n } },
    {
      value: SQL_INTEGER_MAX,
      by: {
        none: SQL_INTEGER_MAX,
        INTEGER: SQL_INTEGER_MAX,
        REAL: 2 ** 63,
        TEXT: '9223372036854775807',
        BLOB: SQL_INTEGER_MAX,
      },
    },
    {
      value: SQL_INTEGER_MIN,
      by: {
        none: SQL_INTEGER_MIN,
        INTEGER: SQL_INTEGER_MIN,
        REAL: -(2 ** 63),
        TEXT: '-9223372036854775808',
        BLOB: SQL_INTEGER_MIN,
      },
    },
    { value: 2.0, by: { none: 2.0, INTEGER: 2n, REAL: 2.0, TEXT: '2.0', BLOB: 2.0 } },
    { value: 2.5, by: { none: 2.5, INTEGER: 2.5, REAL: 2.5, TEXT: '2.5', BLOB: 2.5 } },
    { value: -0, by: { none: -0, INTEGER: 0n, REAL: 0, TEXT: '0.0', BLOB: -0 } },
    {
      value: 1e300,
      by: { none: 1e300, INTEGER: 1e300, REAL: 1e300, TEXT: '1.0e+300', BLOB: 1e300 },
    },
    {
      value: Infinity,
      by: { none: Infinity, INTEGER: Infinity, REAL: Infinity, TEXT: 'Inf', BLOB: Infinity },
    },
    {
      value: 2 ** 53,
      by: {
        none: 2 ** 53,
        INTEGER: 2n ** 53n,
        REAL: 2 ** 53,
        TEXT: '9007199254740992.0',
        BLOB: 2 ** 53,
      },
    },
    { value: '-0.0', by: { none: '-0.0', INTEGER: 0n, REAL: 0, TEXT: '-0.0', BLOB: '-0.0' } },
    {
      value: '9223372036854775808',
      by: {
        none: '9223372036854775808',
        INTEGER: 2 ** 63,
        REAL: 2 ** 63,
        TEXT: '9223372036854775808',
        BLOB: '9223372036854775808',
      },
    },
    {
      value: '0x10',
      by: { none: '0x10', INTEGER: '0x10', REAL: '0x10', TEXT: '0x10', BLOB: '0x10' },
    },
    {
      value: 'milk',
      by: { none: 'milk', INTEGER: 'milk', REAL: 'milk', TEXT: 'milk', BLOB: 'milk' },
    },
    { value: '42', by: { none: '42', INTEGER: 42n, REAL: 42, TEXT: '42', BLOB: '42' } },
    { value: '4.0', by: { none: '4.0', INTEGER: 4n, REAL: 4, TEXT: '4.0', BLOB: '4.0' } },
    {
      value: new Uint8Array([1, 2]),
      by: {
        none: new Uint8Array([1, 2]),
        INTEGER: new Uint8Array([1, 2]),
        REAL: new Uint8Array([1, 2]),
        TEXT: new Uint8Array([1, 2]),
        BLOB: new Uint8Array([1, 2]),
      },
    },
  ];
  const COLUMNS = ['none', 'INTEGER', 'REAL', 'TEXT', 'BLOB'] as const;

  it.each(AFFINITY_CASES)('stores $value by declared column type', ({ value, by }) => {
    driver.exec('CREATE TABLE typed(none, i INTEGER, r REAL, t TEXT, b BLOB)');
    driver
      .prepare('INSERT INTO typed VALUES (?, ?, ?, ?, ?)')
      .run([value, value, value, value, value]);
    const [row] = driver.prepare('SELECT none, i, r, t, b FROM typed').all();
    COLUMNS.forEach((column, i) => {
      expectSameValue(row![i], by[column]!);
    });
  });

  test.prop([fc.array(sqlValue, { minLength: 1, maxLength: 8 })], { numRuns: FC_RUNS })(
    'any value written to a column without declared type reads back identical (NaN as NULL)',
    (values) => {
      driver.exec('CREATE TABLE IF NOT EXISTS cells(id INTEGER PRIMARY KEY, v)');
      driver.exec('DELETE FROM cells');
      const insert = driver.prepare('INSERT INTO cells(id, v) VALUES (?, ?)');
      values.forEach((value, i) => {
        insert.run([BigInt(i), value]);
      });
      const rows = driver.prepare('SELECT id, v FROM cells ORDER BY id').all();
      expect(rows.length).toBe(values.length);
      rows.forEach(([id, read], i) => {
        expect(id).toBe(BigInt(i));
        expectSameValue(read, storedInUntypedColumn(values[i]!));
      });
    },
  );

  test.prop([sqlValue, sqlValue], { numRuns: FC_RUNS })(
    'comparisons see the bound value, not a CAST affinity',
    (stored, probe) => {
      driver.exec('CREATE TABLE IF NOT EXISTS cmp(v)');
      driver.exec('DELETE FROM cmp');
      driver.prepare('INSERT INTO cmp VALUES (?)').run([stored]);
      const [[matches]] = driver.prepare('SELECT count(*) FROM cmp WHERE v = ?').all([probe]) as [
        [bigint],
      ];
      // With no affinity on either side SQLite compares storage classes first; only numbers of
      // equal value (INTEGER against REAL exactly) or identical TEXT or BLOB compare equal.
      const equal = sqlEquals(storedInUntypedColumn(stored), storedInUntypedColumn(probe));
      expect(matches).toBe(equal ? 1n : 0n);
    },
  );

  it('compares TEXT "5" and INTEGER 5 as different, as with a plain bound parameter', () => {
    driver.exec("CREATE TABLE loose(v); INSERT INTO loose VALUES ('5'), (5)");
    expect(driver.prepare('SELECT typeof(v) FROM loose WHERE v = ?').all([5n])).toEqual([
      ['integer'],
    ]);
    expect(driver.prepare('SELECT typeof(v) FROM loose WHERE v = ?').all([5])).toEqual([
      ['integer'],
    ]);
    expect(driver.prepare('SELECT typeof(v) FROM loose WHERE v = ?').all(['5'])).toEqual([
      ['text'],
    ]);
  });
});

describe('SqlJsDriver statements', () => {
  it('runs several statements in exec, and transactions', () => {
    driver.exec(`
      CREATE TABLE todos(id TEXT PRIMARY KEY, title TEXT); -- a comment; with a semicolon
      INSERT INTO todos VALUES ('t1', 'milk; eggs');
      INSERT INTO todos VALUES ('t2', 'bread');
    `);
    driver.exec('BEGIN');
    driver.prepare('DELETE FROM todos WHERE id = ?').run(['t1']);
    driver.exec('ROLLBACK');
    expect(driver.prepare('SELECT id, title FROM todos ORDER BY id').all()).toEqual([
      ['t1', 'milk; eggs'],
      ['t2', 'bread'],
    ]);
  });

  it('runs RETURNING statements to the end and returns their rows', () => {
    driver.exec('CREATE TABLE seqs(id INTEGER PRIMARY KEY, v)');
    const insert = driver.prepare('INSERT INTO seqs(v) VALUES (?), (?) RETURNING id, v');
    expect(insert.all(['a', 2n])).toEqual([
      [1n, 'a'],
      [2n, 2n],
    ]);
    driver.prepare('INSERT INTO seqs(v) VALUES (?), (?) RETURNING id').run([null, null]);
    expect(driver.prepare('SELECT count(*) FROM seqs').all()).toEqual([[4n]]);
  });

  it('reuses one prepared statement with values of changing types', () => {
    driver.exec('CREATE TABLE mixed(v)');
    const insert = driver.prepare('INSERT INTO mixed VALUES (?)');
    const values: SqlValue[] = [1n, 1, '1', null, new Uint8Array([1]), SQL_INTEGER_MIN, 0.5, 1n];
    for (const value of values) insert.run([value]);
    const read = driver.prepare('SELECT v FROM mixed ORDER BY rowid').all();
    read.forEach(([value], i) => {
      expectSameValue(value, values[i]!);
    });
  });

  it('placeholders inside strings, identifiers and comments are not parameters', () => {
    driver.exec('CREATE TABLE "q?" ("a?b" TEXT, [c?] TEXT)');
    driver.prepare(`INSERT INTO "q?" ("a?b", [c?]) VALUES ('?', ?) -- trailing ?`).run(['x?']);
    const rows = driver.prepare('SELECT "a?b", `c?`, ? /* ? */ FROM "q?"').all([7n]);
    expect(rows).toEqual([['?', 'x?', 7n]]);
  });

  it('keeps statements usable after export', () => {
    driver.exec('CREATE TABLE kept(v)');
    const insert = driver.prepare('INSERT INTO kept VALUES (?)');
    const count = driver.prepare('SELECT count(*) FROM kept');
    insert.run([1n]);
    const bytes = driver.export();
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.byteLength).toBe(bytes.buffer.byteLength);
    insert.run([2n]);
    expect(count.all()).toEqual([[2n]]);
  });

  it('refuses to export inside a write transaction', () => {
    driver.exec('CREATE TABLE tx(v); BEGIN; INSERT INTO tx VALUES (1)');
    expect(() => driver.export()).toThrow(SqliteError);
    driver.exec('COMMIT');
    expect(driver.export().length).toBeGreaterThan(0);
  });

  it('opens the bytes of an exported database', async () => {
    driver.exec(
      "CREATE TABLE copied(v); INSERT INTO copied VALUES (x'00ff'), (9223372036854775807)",
    );
    const copy = await openSqlJsDriver({ data: driver.export() });
    try {
      expect(copy.prepare('SELECT v FROM copied ORDER BY rowid').all()).toEqual([
        [new Uint8Array([0, 255])],
        [SQL_INTEGER_MAX],
      ]);
    } finally {
      copy.close();
    }
  });

  it('keeps working when the statement cache is smaller than the statements in use', async () => {
    const small = await openSqlJsDriver({ statementCacheSize: 2 });
    try {
      const statements = [1n, 2n, 3n, 4n, 5n].map((n) => ({
        n,
        statement: small.prepare(`SELECT ? + ${n}`),
      }));
      for (let round = 0; round < 3; round++) {
        for (const { n, statement } of statements) {
          expect(statement.all([BigInt(round)])).toEqual([[BigInt(round) + n]]);
          expect(statement.all([round + 0.5])).toEqual([[round + 0.5 + Number(n)]]);
        }
      }
    } finally {
      small.close();
    }
  });
});

describe('SqlJsDriver errors', () => {
  it('reports bad SQL at prepare as SqliteError with SQLite message and the SQL', () => {
    const error = catchError(() => driver.prepare('SELEC 1'));
    expect(error).toBeInstanceOf(SqliteError);
    expect(error).toMatchObject({
      type: 'SqliteError',
      reason: 'near "SELEC": syntax error',
      sql: 'SELEC 1',
    });
    expect(catchError(() => driver.prepare('SELECT * FROM missing'))).toMatchObject({
      type: 'SqliteError',
      reason: 'no such table: missing',
    });
  });

  it('reports exec and run failures as SqliteError', () => {
    expect(catchError(() => driver.exec('CREATE TABLE; '))).toBeInstanceOf(SqliteError);
    driver.exec('CREATE TABLE u(id TEXT PRIMARY KEY)');
    const insert = driver.prepare('INSERT INTO u VALUES (?)');
    insert.run(['a']);
    const error = catchError(() => insert.run(['a']));
    expect(error).toMatchObject({
      type: 'SqliteError',
      reason: 'UNIQUE constraint failed: u.id',
      sql: 'INSERT INTO u VALUES (?)',
    });
    // The statement was reset: it works again.
    insert.run(['b']);
    expect(driver.prepare('SELECT count(*) FROM u').all()).toEqual([[2n]]);
  });

  it('reports errors of a rewritten statement with the SQL as written', () => {
    driver.exec('CREATE TABLE n(v INTEGER NOT NULL CHECK (v > 0))');
    expect(catchError(() => driver.prepare('INSERT INTO n VALUES (?)').run([-1n]))).toMatchObject({
      type: 'SqliteError',
      sql: 'INSERT INTO n VALUES (?)',
    });
  });

  it.each(['?1', '?12', ':id', '@id', '$id', '$a::b', '#id'])(
    'refuses the named or numbered placeholder %s',
    (placeholder) => {
      const sql = `SELECT 1 WHERE 1 = ${placeholder}`;
      const error = catchError(() => driver.prepare(sql));
      expect(error).toBeInstanceOf(UnsupportedPlaceholderError);
      expect(error).toMatchObject({
        type: 'UnsupportedPlaceholderError',
        placeholder: placeholder === '$a::b' ? '$a' : placeholder,
        offset: sql.indexOf(placeholder),
        sql,
      });
    },
  );

  it('refuses a wrong number of parameters', () => {
    const select = driver.prepare('SELECT ?, ?');
    expect(catchError(() => select.all([1n]))).toMatchObject({
      type: 'ParameterCountError',
      expected: 2,
      received: 1,
    });
    expect(catchError(() => select.run([1n, 2n, 3n]))).toBeInstanceOf(ParameterCountError);
    expect(catchError(() => driver.prepare('SELECT 1').all([1n]))).toBeInstanceOf(
      ParameterCountError,
    );
  });

  it('refuses SQL that is not exactly one statement in prepare', () => {
    expect(catchError(() => driver.prepare(' -- nothing\n'))).toMatchObject({
      type: 'StatementCountError',
      found: 'none',
    });
    expect(catchError(() => driver.prepare('SELECT 1; SELECT 2'))).toMatchObject({
      type: 'StatementCountError',
      found: 'several',
    });
    expect(catchError(() => driver.prepare('SELECT ?; SELECT ?'))).toBeInstanceOf(
      StatementCountError,
    );
    expect(driver.prepare('SELECT 1; -- done\n ;').all()).toEqual([[1n]]);
    driver.exec('CREATE TABLE log(v)');
    driver.prepare(`CREATE TRIGGER t AFTER INSERT ON log BEGIN SELECT 1; SELECT 2; END`).run();
  });

  it('errors are plain data that survive structuredClone', () => {
    const error = catchError(() => driver.prepare('SELECT :x')) as UnsupportedPlaceholderError;
    expect(structuredClone(error.toJSON())).toEqual({
      type: 'UnsupportedPlaceholderError',
      name: 'UnsupportedPlaceholderError',
      message: error.message,
      placeholder: ':x',
      offset: 7,
      sql: 'SELECT :x',
    });
  });
});

describe('SqlJsDriver close', () => {
  it('finalizes every statement it compiled, then closes the database', async () => {
    const SQL = await loadSqlJs();
    const events: string[] = [];
    const live = new Set<SqlJsStatement>();
    const real = new SQL.Database();
    const spy: SqlJsDatabase = {
      run: (sql) => real.run(sql),
      export: () => real.export(),
      prepare: (sql) => {
        const statement = real.prepare(sql);
        live.add(statement);
        const free = statement.free.bind(statement);
        statement.free = () => {
          live.delete(statement);
          return free();
        };
        return statement;
      },
      close: () => {
        events.push(`close with ${live.size} live statement(s)`);
        real.close();
      },
    };
    const spied = new SqlJsDriver(spy);
    spied.exec('CREATE TABLE c(v)');
    const insert = spied.prepare('INSERT INTO c VALUES (?)');
    insert.run([1n]);
    insert.run([1]);
    insert.run(['x']);
    spied.prepare('SELECT * FROM c').all();
    expect(live.size).toBe(4); // the plain form of each, and the INTEGER and REAL forms
    spied.close();
    expect(events).toEqual(['close with 0 live statement(s)']);
    expect(spied.closed).toBe(true);
    spied.close(); // twice is fine
    expect(catchError(() => insert.run([2n]))).toMatchObject({
      type: 'DatabaseClosedError',
      operation: 'run',
    });
    expect(catchError(() => spied.prepare('SELECT 1'))).toBeInstanceOf(DatabaseClosedError);
    expect(catchError(() => spied.exec('SELECT 1'))).toBeInstanceOf(DatabaseClosedError);
    expect(catchError(() => spied.export())).toBeInstanceOf(DatabaseClosedError);
  });

  it('keeps at most statementCacheSize compiled statements', async () => {
    const SQL = await loadSqlJs();
    const real = new SQL.Database();
    let live = 0;
    const counting: SqlJsDatabase = {
      run: (sql) => real.run(sql),
      export: () => real.export(),
      close: () => real.close(),
      prepare: (sql) => {
        const statement = real.prepare(sql);
        live++;
        const free = statement.free.bind(statement);
        statement.free = () => {
          live--;
          return free();
        };
        return statement;
      },
    };
    const bounded = new SqlJsDriver(counting, { statementCacheSize: 8 });
    for (let i = 0; i < 100; i++) bounded.prepare(`SELECT ${i}, ?`).all([BigInt(i)]);
    expect(live).toBeLessThanOrEqual(8);
    bounded.close();
    expect(live).toBe(0);
  });
});

/** SQLite's `=` between two values without affinity (BINARY collation). */
function sqlEquals(a: SqlValue, b: SqlValue): boolean {
  if (a === null || b === null) return false;
  if (typeof a === 'bigint' && typeof b === 'number') return Number.isInteger(b) && BigInt(b) === a;
  if (typeof a === 'number' && typeof b === 'bigint') return Number.isInteger(a) && BigInt(a) === b;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  return sqlValuesEqual(a, b);
}

function catchError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
