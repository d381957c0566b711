import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQL_INTEGER_MAX, SQL_INTEGER_MIN } from '@offsync/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PersistenceError, SqliteError } from './errors.js';
import { openSqlJsDriverFromFile, saveDatabaseFile } from './node-file.js';
import { openSqlJsDriver } from './sqljs-driver.js';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'offsync-wasm-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const BLOB = new Uint8Array(100_000).map((_, i) => (i * 31) & 0xff);

describe('saveDatabaseFile / openSqlJsDriverFromFile', () => {
  it('saves a SQLite file atomically and reopens it with every value intact', async () => {
    const path = join(directory, 'replica.db');
    const driver = await openSqlJsDriver();
    driver.exec('CREATE TABLE cells(id INTEGER PRIMARY KEY, v)');
    const insert = driver.prepare('INSERT INTO cells(v) VALUES (?)');
    for (const value of [null, SQL_INTEGER_MAX, SQL_INTEGER_MIN, 2.0, -0, 'ü 🙂', BLOB]) {
      insert.run([value]);
    }
    await saveDatabaseFile(driver, path);
    // The statement survives the export the save made.
    insert.run(['after save']);
    driver.close();

    expect(await readdir(directory)).toEqual(['replica.db']); // no .tmp left behind
    const header = new TextDecoder().decode((await readFile(path)).subarray(0, 15));
    expect(header).toBe('SQLite format 3');

    const reopened = await openSqlJsDriverFromFile(path, { mustExist: true });
    try {
      const rows = reopened.prepare('SELECT v FROM cells ORDER BY id').all();
      expect(rows).toEqual([
        [null],
        [SQL_INTEGER_MAX],
        [SQL_INTEGER_MIN],
        [2.0],
        [-0],
        ['ü 🙂'],
        [BLOB],
      ]);
      expect(Object.is(rows[4]![0], -0)).toBe(true);
    } finally {
      reopened.close();
    }
  });

  it('replaces the previous file, and serialises saves to one path', async () => {
    const path = join(directory, 'overwrite.db');
    const driver = await openSqlJsDriver();
    driver.exec('CREATE TABLE n(v)');
    const saves: Promise<void>[] = [];
    for (let i = 1n; i <= 5n; i++) {
      driver.prepare('INSERT INTO n VALUES (?)').run([i]);
      saves.push(saveDatabaseFile(driver, path));
    }
    await Promise.all(saves);
    driver.close();
    const reopened = await openSqlJsDriverFromFile(path);
    expect(reopened.prepare('SELECT count(*), max(v) FROM n').all()).toEqual([[5n, 5n]]);
    reopened.close();
    await rm(path);
  });

  it('opens an empty database for a missing file, or refuses with mustExist', async () => {
    const path = join(directory, 'missing.db');
    const fresh = await openSqlJsDriverFromFile(path);
    expect(fresh.prepare('SELECT count(*) FROM sqlite_schema').all()).toEqual([[0n]]);
    fresh.close();
    await expect(openSqlJsDriverFromFile(path, { mustExist: true })).rejects.toMatchObject({
      type: 'PersistenceError',
      operation: 'load',
      location: path,
    });
  });

  it('refuses a file that is not a SQLite database', async () => {
    const path = join(directory, 'not-a-database.db');
    await writeFile(path, 'hello, this is not SQLite'.repeat(100));
    await expect(openSqlJsDriverFromFile(path)).rejects.toBeInstanceOf(SqliteError);
    await rm(path);
  });

  it('reports an unwritable path as PersistenceError and leaves no temporary file', async () => {
    const driver = await openSqlJsDriver();
    const path = join(directory, 'no-such-dir', 'x.db');
    await expect(saveDatabaseFile(driver, path)).rejects.toBeInstanceOf(PersistenceError);
    await expect(saveDatabaseFile(driver, path)).rejects.toMatchObject({
      operation: 'save',
      location: path,
    });
    driver.close();
  });

  it('refuses to save inside a write transaction', async () => {
    const driver = await openSqlJsDriver();
    driver.exec('CREATE TABLE t(v); BEGIN; INSERT INTO t VALUES (1)');
    await expect(saveDatabaseFile(driver, join(directory, 'tx.db'))).rejects.toBeInstanceOf(
      SqliteError,
    );
    driver.exec('ROLLBACK');
    driver.close();
  });
});
