import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlValue } from '@offsync/core';
import Database from 'libsql';
import { afterEach, describe, expect, it } from 'vitest';
import { LibsqlDriver } from './libsql-driver.js';
import { openLibsqlReplica } from './open-replica.js';
import { parameterCount } from './parameter-count.js';

const PACKAGE = dirname(dirname(fileURLToPath(import.meta.url)));
const EXACT = 'SELECT typeof(v), quote(v), hex(v) FROM t ORDER BY rowid';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

function tempFile(): string {
  const directory = mkdtempSync(join(tmpdir(), 'offsync-libsql-'));
  directories.push(directory);
  return join(directory, 'replica.db');
}

function memory(): LibsqlDriver {
  const driver = new LibsqlDriver(new Database(':memory:'));
  driver.exec('CREATE TABLE t(v)');
  return driver;
}

/** Runs `code` in a fresh Node process beside libsql, for behaviour that aborts the process. */
function inChild(code: string): { status: number | null; signal: string | null; stderr: string } {
  const child = spawnSync(process.execPath, ['-e', code], { cwd: PACKAGE, encoding: 'utf8' });
  return { status: child.status, signal: child.signal, stderr: child.stderr };
}

describe('LibsqlDriver binds exactly', () => {
  it('binds a lone BLOB and a lone NULL, which libsql takes for named parameters', () => {
    // What libsql itself does with one argument: it takes it for an object of named parameters,
    // so a lone Buffer aborts the process (a panic) and a lone null throws.
    const blob = inChild(
      "const D = require('libsql'); new D(':memory:').prepare('SELECT ?').raw().all(Buffer.from([7]));",
    );
    expect(blob.status === 0 && blob.signal === null).toBe(false);
    expect(blob.stderr).toContain('panicked');
    const raw = new Database(':memory:');
    expect(() => raw.prepare('SELECT ?').raw().all(null)).toThrow(TypeError);
    raw.close();
    const driver = memory();
    const insert = driver.prepare('INSERT INTO t(v) VALUES (?)');
    insert.run([new Uint8Array([7, 0, 255])]);
    insert.run([null]);
    insert.run([Buffer.from([])]);
    // A view into a larger buffer binds its own bytes only.
    insert.run([new Uint8Array([1, 2, 3, 4]).subarray(1, 3)]);
    expect(driver.prepare(EXACT).all()).toEqual([
      ['blob', "X'0700FF'", '0700FF'],
      ['null', 'NULL', ''],
      ['blob', "X''", ''],
      ['blob', "X'0203'", '0203'],
    ]);
    expect(driver.prepare('SELECT ?').all([null])).toEqual([[null]]);
    driver.close();
  });

  it('binds whole numbers as REAL and reads INTEGER as bigint, to 64 bits', () => {
    const driver = memory();
    const values: SqlValue[] = [2, -0, 2 ** 53, 2n ** 63n - 1n, -(2n ** 63n), 0n, 0.1];
    for (const value of values) driver.prepare('INSERT INTO t(v) VALUES (?)').run([value]);
    expect(driver.prepare(EXACT).all()).toEqual([
      ['real', '2.0', '322E30'],
      ['real', '0.0', '302E30'],
      // hex() converts the REAL to TEXT first: 15 digits on SQLite 3.45.1 (real-to-text-digits).
      ['real', '9.007199254740992e+15', '392E3030373139393235343734303939652B3135'],
      ['integer', '9223372036854775807', '39323233333732303336383534373735383037'],
      ['integer', '-9223372036854775808', '2D39323233333732303336383534373735383038'],
      ['integer', '0', '30'],
      ['real', '0.1', '302E31'],
    ]);
    expect(driver.prepare('SELECT v FROM t ORDER BY rowid').all()).toEqual(
      values.map((value) => [value]),
    );
    driver.close();
  });

  it('refuses a boolean, undefined or an object with a TypeError, where libsql aborts the process', () => {
    const child = inChild(
      "const D = require('libsql'); new D(':memory:').prepare('SELECT ?').raw().all([true]);",
    );
    expect(child.status === 0 && child.signal === null).toBe(false);
    expect(child.stderr).toContain('not yet implemented: bool');
    const driver = memory();
    const insert = driver.prepare('INSERT INTO t(v) VALUES (?)');
    for (const value of [true, undefined, {}, [1]]) {
      expect(() => insert.run([value as unknown as SqlValue])).toThrow(TypeError);
    }
    expect(driver.prepare('SELECT count(*) FROM t').all()).toEqual([[0n]]);
    driver.close();
  });

  it('refuses a wrong parameter count with a RangeError and writes nothing, where libsql binds NULL', () => {
    const raw = new Database(':memory:');
    expect(raw.prepare('SELECT ?, ?').raw().all([1])).toEqual([[1, null]]);
    raw.close();
    const driver = memory();
    const insert = driver.prepare('INSERT INTO t(v) VALUES (?)');
    expect(() => insert.run([])).toThrow(RangeError);
    expect(() => insert.run([1n, 2n])).toThrow(RangeError);
    expect(() => driver.prepare("SELECT '?', ?2").all([1n])).toThrow(RangeError);
    expect(driver.prepare("SELECT '?', ?2").all([1n, 2n])).toEqual([['?', 2n]]);
    expect(driver.prepare('SELECT count(*) FROM t').all()).toEqual([[0n]]);
    driver.close();
  });

  it('counts parameters as SQLite does', () => {
    const cases = [
      'SELECT 1',
      'SELECT ?, ?',
      'SELECT ?3, ?',
      'SELECT :a, @b, $c, :a, ?',
      "SELECT '?' AS [?], 'it''s ?' AS `?`, ? -- ?\n, ? /* ? */",
      'SELECT ?1, ?1, ?2',
      "SELECT x'3f', ?",
    ];
    const db = new Database(':memory:');
    for (const sql of cases) {
      // SQLite numbers each parameter in its program: the largest is its count.
      const program = db.prepare(`EXPLAIN ${sql}`).raw().all([]) as unknown[][];
      const indexes = program.filter((op) => op[1] === 'Variable').map((op) => Number(op[2]));
      expect(parameterCount(sql), sql).toBe(Math.max(0, ...indexes));
    }
    db.close();
  });

  it('throws on use after close(), and close() twice is harmless', () => {
    const driver = memory();
    const statement = driver.prepare('SELECT count(*) FROM t');
    driver.close();
    driver.close();
    expect(() => statement.all()).toThrow(TypeError);
    expect(() => driver.exec('SELECT 1')).toThrow(TypeError);
  });
});

describe('LibsqlDriver ends every statement', () => {
  it('INSERT ... RETURNING through run() releases the write lock', () => {
    const path = tempFile();
    const a = new LibsqlDriver(new Database(path));
    a.exec('PRAGMA journal_mode = WAL');
    a.exec('CREATE TABLE t(v)');
    const b = new LibsqlDriver(new Database(path));
    a.prepare('INSERT INTO t(v) VALUES (1), (2) RETURNING v').run();
    b.exec('INSERT INTO t(v) VALUES (3)');
    expect(a.prepare('SELECT count(*) FROM t').all()).toEqual([[3n]]);
    a.close();
    b.close();
  });

  it('sees commits of another connection after an EXPLAIN', () => {
    const path = tempFile();
    const a = new LibsqlDriver(new Database(path));
    a.exec('PRAGMA journal_mode = WAL');
    a.exec('CREATE TABLE t(v)');
    const b = new LibsqlDriver(new Database(path));
    a.prepare('/* why */ EXPLAIN SELECT v FROM t').all();
    a.prepare('SELECT count(*) FROM t').all();
    b.exec('INSERT INTO t(v) VALUES (1)');
    expect(a.prepare('SELECT count(*) FROM t').all()).toEqual([[1n]]);
    a.close();
    b.close();
  });
});

describe('limitations of libsql 0.5.29 no driver can hide', () => {
  it("text-nul: 'a\\0b' is stored whole but reads as 'a'", () => {
    const driver = memory();
    driver.prepare('INSERT INTO t(v) VALUES (?)').run(['a\0b']);
    expect(driver.prepare(EXACT).all()).toEqual([['text', "'a'", '610062']]);
    expect(driver.prepare('SELECT v, length(v) FROM t').all()).toEqual([['a', 1n]]);
    driver.close();
  });

  it('real-to-text-digits: REAL converts to TEXT with 15 significant digits (SQLite 3.45.1)', () => {
    const driver = memory();
    expect(driver.prepare('SELECT sqlite_version()').all()).toEqual([['3.45.1']]);
    expect(
      driver.prepare('SELECT CAST(? AS TEXT), CAST(? AS TEXT)').all([2 ** 53, 0.1 + 0.2]),
    ).toEqual([['9.00719925474099e+15', '0.3']]);
    driver.close();
  });

  it('a lone surrogate: libsql stores U+FFFD, so the driver refuses it and stores nothing', () => {
    const raw = new Database(':memory:');
    expect(raw.prepare('SELECT hex(?)').raw().all(['a\uD800b'])).toEqual([['61EFBFBD62']]);
    raw.close();
    const driver = memory();
    const insert = driver.prepare('INSERT INTO t(v) VALUES (?)');
    for (const text of ['a\uD800b', '\uDC00', 'x\uDE00\uD83D']) {
      expect(() => insert.run([text])).toThrow(/lone UTF-16 surrogate/);
    }
    insert.run(['\u{1F600}\uFFFD']);
    expect(driver.prepare(EXACT).all()).toEqual([['text', "'\u{1F600}\uFFFD'", 'F09F9880EFBFBD']]);
    driver.close();
  });

  it('reading TEXT that is not valid UTF-8 aborts the process', () => {
    const child = inChild(
      "const D = require('libsql'); new D(':memory:').prepare(\"SELECT CAST(x'ff41' AS TEXT)\").raw().all([]);",
    );
    expect(child.status === 0 && child.signal === null).toBe(false);
    expect(child.stderr).toContain('Utf8Error');
  });
});

describe('openLibsqlReplica', () => {
  it('opens a WAL file replica whose rows and pending changes survive a reopen', () => {
    const path = tempFile();
    const replica = openLibsqlReplica(path, { synchronous: 'FULL' });
    expect(replica.db.prepare('PRAGMA journal_mode').raw().all([])).toEqual([['wal']]);
    expect(replica.db.prepare('PRAGMA synchronous').raw().all([])).toEqual([[2]]);
    replica.db.exec('CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT, n INTEGER)');
    replica.enableSync('todos');
    replica.db.prepare('INSERT INTO todos VALUES (?, ?, ?)').run(['t1', 'milk', 2n ** 62n]);
    const pending = replica.changesetSince(0).bytes;
    replica.close();
    const again = openLibsqlReplica(path, { fileMustExist: true });
    expect(again.changesetSince(0).bytes).toEqual(pending);
    expect(
      again.db.prepare('SELECT quote(id), quote(title), quote(n) FROM todos').raw().all([]),
    ).toEqual([["'t1'", "'milk'", '4611686018427387904']]);
    again.close();
    expect(() =>
      openLibsqlReplica(join(dirname(path), 'missing.db'), { fileMustExist: true }),
    ).toThrow();
  });
});
