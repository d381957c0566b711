import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DriftError,
  defaultEnv,
  type Env,
  SchemaError,
  SQL_INTEGER_MAX,
  SQL_INTEGER_MIN,
  type SqlValue,
} from '@offsync/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PersistenceError, SqliteError } from './errors.js';
import { openReplica, type WasmReplica } from './open-replica.js';
import {
  openReplicaFile,
  openReplicaFromIndexedDb,
  saveReplicaFile,
} from './replica-persistence.js';
import { SqlJsDriver } from './sqljs-driver.js';

const NOTES =
  'CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, i INTEGER, r REAL, t TEXT, b BLOB, n)';
const INSERT = 'INSERT INTO notes(id, i, r, t, b, n) VALUES (?, ?, ?, ?, ?, ?)';
const BLOB = new Uint8Array(4096).map((_, i) => (i * 131) & 0xff);

let directory: string;
const opened: WasmReplica[] = [];

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'offsync-wasm-replica-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

afterEach(() => {
  for (const replica of opened.splice(0)) replica.close();
});

function track(replica: WasmReplica): WasmReplica {
  opened.push(replica);
  return replica;
}

async function notesReplica(): Promise<WasmReplica> {
  const replica = track(await openReplica());
  replica.driver.exec(NOTES);
  replica.enableSync('notes');
  return replica;
}

function rows(replica: WasmReplica): SqlValue[][] {
  return replica.driver.prepare('SELECT id, i, r, t, b, n FROM notes ORDER BY id').all();
}

/** Sends everything `from` has after `since` to `to`, as encoded bytes; returns `from`'s cursor. */
function send(from: WasmReplica, to: WasmReplica, since = 0): number {
  const { bytes, cursor, hasMore } = from.changesetSince(since);
  expect(hasMore).toBe(false);
  to.applyChanges(bytes);
  return cursor;
}

describe('openReplica (sql.js)', () => {
  it('captures plain SQL written through the driver and converges with a second replica', async () => {
    const a = await notesReplica();
    const b = await notesReplica();
    expect(a.site).not.toBe(b.site);
    expect(a.driver).toBeInstanceOf(SqlJsDriver);
    expect(a.driver.prepare('PRAGMA temp_store').all()).toEqual([[2n]]); // 2 = MEMORY

    const insert = a.driver.prepare(INSERT);
    insert.run(['n1', SQL_INTEGER_MAX, 0.1, 'Grüße 🙂', BLOB, null]);
    insert.run(['n2', SQL_INTEGER_MIN, -0, '', new Uint8Array(0), 2.5]);
    a.driver.exec("INSERT INTO notes(id, t) VALUES ('n3', 'exec')");
    a.driver.exec("UPDATE notes SET t = 'edited' WHERE id = 'n3'");

    // Decoded changes one way, an encoded changeset the other.
    const page = a.changesSince(0);
    expect(page.rows).toBe(3);
    expect(page.hasMore).toBe(false);
    expect(b.applyChanges(page.changes).rows).toBe(3);
    expect(rows(b)).toEqual(rows(a));
    expect(rows(b)).toEqual([
      ['n1', SQL_INTEGER_MAX, 0.1, 'Grüße 🙂', BLOB, null],
      ['n2', SQL_INTEGER_MIN, 0, '', new Uint8Array(0), 2.5], // a REAL column keeps -0 as 0
      ['n3', null, null, 'edited', null, null],
    ]);
    expect(b.dump()).toEqual(a.dump());

    // Concurrent edits on both sides, a delete against an update, then a re-insert.
    const bSince = b.version;
    const aSince = a.version;
    a.driver.prepare('UPDATE notes SET t = ? WHERE id = ?').run(['from a', 'n1']);
    b.driver.prepare('UPDATE notes SET i = ? WHERE id = ?').run([42n, 'n1']);
    a.driver.prepare('DELETE FROM notes WHERE id = ?').run(['n2']);
    b.driver.prepare('UPDATE notes SET t = ? WHERE id = ?').run(['kept?', 'n2']);
    b.driver.prepare('DELETE FROM notes WHERE id = ?').run(['n3']);
    b.driver.prepare(INSERT).run(['n3', 3n, 3.5, 'again', null, 'x']);
    send(a, b, aSince);
    send(b, a, bSince);

    expect(b.dump()).toEqual(a.dump());
    expect(rows(a)).toEqual(rows(b));
    expect(rows(a)).toEqual([
      ['n1', 42n, 0.1, 'from a', BLOB, null],
      ['n3', 3n, 3.5, 'again', null, 'x'],
    ]);
  });

  it('passes env and maxDriftMs to the replica', async () => {
    let now = 1_700_000_000_000;
    const env: Env = {
      ...defaultEnv,
      now: () => now,
      randomBytes: (bytes) => bytes.fill(0xab),
    };
    const strict = track(await openReplica({ env, maxDriftMs: 1000 }));
    expect(strict.site).toBe('ab'.repeat(16));
    strict.driver.exec(NOTES);
    strict.enableSync('notes');

    const ahead = await notesReplica();
    ahead.driver.exec("INSERT INTO notes(id) VALUES ('future')");
    now = Date.now() - 60_000; // the strict replica's clock is a minute behind the sender's
    const before = strict.dump();
    expect(() => strict.applyChanges(ahead.changesetSince(0).bytes)).toThrow(DriftError);
    expect(strict.dump()).toEqual(before);
  });

  it('opens the bytes of a saved replica with its site id, version and rows', async () => {
    const a = await notesReplica();
    a.driver.prepare(INSERT).run(['n1', 1n, 1.5, 'one', BLOB, null]);
    const version = a.version;
    const copy = track(await openReplica({ data: a.driver.export() }));
    expect(copy.site).toBe(a.site);
    expect(copy.version).toBe(version);
    expect(copy.syncedTables()).toEqual(['notes']);
    expect(copy.dump()).toEqual(a.dump());
  });

  it('refuses bytes that are not a SQLite database, and OffSync metadata it cannot read', async () => {
    await expect(openReplica({ data: new TextEncoder().encode('not a database') })).rejects.toThrow(
      SqliteError,
    );
    const a = await notesReplica();
    a.driver.exec("UPDATE offsync_state SET value = 999 WHERE key = 'format'");
    await expect(openReplica({ data: a.driver.export() })).rejects.toThrow(SchemaError);
  });
});

describe('saveReplicaFile / openReplicaFile', () => {
  it('reopens a saved replica with the same site id, version, clock and rows, and keeps syncing', async () => {
    const path = join(directory, 'a.db');
    const a = await notesReplica();
    const b = await notesReplica();
    a.driver.prepare(INSERT).run(['n1', SQL_INTEGER_MAX, 0.25, 'one', BLOB, null]);
    a.driver.prepare(INSERT).run(['n2', 2n, 2.5, 'two', null, 'n']);
    const synced = send(a, b);
    // Captured but not folded when saved: folded after reopening, nothing lost.
    a.driver.prepare(INSERT).run(['n3', 3n, 3.5, 'three', null, null]);
    await saveReplicaFile(a, path);
    const saved = { site: a.site, rows: rows(a) };
    a.close();
    opened.splice(opened.indexOf(a), 1);

    const reopened = track(await openReplicaFile(path, { mustExist: true }));
    expect(reopened.site).toBe(saved.site);
    expect(reopened.syncedTables()).toEqual(['notes']);
    expect(rows(reopened)).toEqual(saved.rows);
    expect(reopened.version).toBeGreaterThan(synced);
    expect(reopened.driver.prepare('PRAGMA temp_store').all()).toEqual([[2n]]);

    // The clock is at least where it was: a new local write sorts after every saved stamp.
    const clockBefore = reopened.clock;
    reopened.driver.prepare('UPDATE notes SET t = ? WHERE id = ?').run(['one, edited', 'n1']);
    const cursor = send(reopened, b, synced);
    expect(reopened.clock.wall * 65_536 + reopened.clock.counter).toBeGreaterThan(
      clockBefore.wall * 65_536 + clockBefore.counter,
    );
    expect(cursor).toBe(reopened.version);
    expect(b.dump()).toEqual(reopened.dump());
    expect(rows(b)).toEqual([
      ['n1', SQL_INTEGER_MAX, 0.25, 'one, edited', BLOB, null],
      ['n2', 2n, 2.5, 'two', null, 'n'],
      ['n3', 3n, 3.5, 'three', null, null],
    ]);

    // And the other way: b's write reaches the reopened replica, which saves and reopens again.
    const bSince = b.version;
    b.driver.prepare('DELETE FROM notes WHERE id = ?').run(['n2']);
    send(b, reopened, bSince);
    await saveReplicaFile(reopened, path);
    const again = track(await openReplicaFile(path));
    expect(again.site).toBe(saved.site);
    expect(again.version).toBe(reopened.version);
    expect(again.dump()).toEqual(b.dump());
  });

  it('opens an empty replica for a missing file, unless mustExist', async () => {
    const missing = join(directory, 'missing.db');
    const fresh = track(await openReplicaFile(missing));
    expect(fresh.syncedTables()).toEqual([]);
    expect(fresh.version).toBe(0);
    await expect(openReplicaFile(missing, { mustExist: true })).rejects.toThrow(PersistenceError);
  });
});

describe('openReplicaFromIndexedDb', () => {
  it('fails with PersistenceError where there is no IndexedDB (Node)', async () => {
    const error = await openReplicaFromIndexedDb('todos').catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(PersistenceError);
    expect((error as PersistenceError).location).toBe('indexeddb:offsync-wasm/sqlite-images/todos');
  });
});
