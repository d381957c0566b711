import type { Change } from '@offsync/core';
import { encodeChangeset, MAX_CAUSAL_LENGTH, packPrimaryKey } from '@offsync/core/codec';
import { describe, expect, it } from 'vitest';
import type { ResolvedOptions } from '../conformance-options.js';
import { databaseImage } from '../database-image.js';
import { thrownBy } from '../expect-error.js';
import type { Harness } from '../harness.js';
import { MANUAL_START_MS } from '../manual-env.js';
import type { Peer } from '../peer.js';
import { expectConverged, sendAll } from './sync-helpers.js';
import { TODOS_SQL } from './todos.js';

const SCORES_SQL = 'CREATE TABLE scores(id TEXT PRIMARY KEY NOT NULL, n INTEGER CHECK (n >= 0))';

/**
 * All or nothing: every kind of bad input is refused with its typed error and leaves the
 * database byte for byte as it was, and the replica keeps working afterwards.
 *
 * @example
 * ```ts
 * describeRefusals(harness, resolveOptions());
 * ```
 */
export function describeRefusals(harness: Harness, options: ResolvedOptions): void {
  const { timeoutMs } = options;

  /** A replica with local and merged rows in both tables: what a refusal must leave alone. */
  const target = async (): Promise<Peer> => {
    const b = await harness.peer({ sql: `${TODOS_SQL}; ${SCORES_SQL}`, sync: ['todos', 'scores'] });
    const other = await harness.peer({
      sql: `${TODOS_SQL}; ${SCORES_SQL}`,
      sync: ['todos', 'scores'],
    });
    other.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['o1', 'merged']);
    other.run('INSERT INTO scores VALUES (?, ?)', ['o1', 3n]);
    sendAll(other, b);
    b.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['b1', 'local']);
    b.run('INSERT INTO scores VALUES (?, ?)', ['b1', 4n]);
    b.run('UPDATE todos SET done = 1 WHERE id = ?', ['o1']);
    return b;
  };

  /** The refused replica still captures local writes (no trigger left silenced) and merges. */
  const stillWorks = (b: Peer): void => {
    const version = b.replica.version;
    b.run('UPDATE todos SET title = ? WHERE id = ?', ['after', 'b1']);
    expect(b.replica.changesSince(version).changes.map((change) => change.column)).toEqual([
      'title',
    ]);
    const c = b.replica.changesetSince(0).bytes;
    expect(b.replica.applyChanges(c).rows).toBe(0);
  };

  describe('all or nothing', () => {
    it(
      'malformed changeset bytes: DecodeError with the offset, nothing applied',
      async () => {
        const a = await harness.peer({ sql: TODOS_SQL, sync: ['todos'] });
        const b = await target();
        a.run('INSERT INTO todos(id, title) VALUES (?, ?), (?, ?)', ['t1', 'x', 't2', 'y']);
        const good = a.replica.changesetSince(0).bytes;
        const flipped = good.slice();
        flipped[Math.floor(good.length / 2)]! ^= 0x5a;
        const cases: [string, Uint8Array][] = [
          ['a flipped byte', flipped],
          ['truncated', good.slice(0, good.length - 3)],
          ['no trailer', good.slice(0, 8)],
          ['not a changeset', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])],
          ['empty', new Uint8Array(0)],
          ['trailing bytes', new Uint8Array([...good, 0])],
        ];
        const before = databaseImage(b.replica);
        for (const [name, bytes] of cases) {
          const error = thrownBy(() => b.replica.applyChanges(bytes));
          expect(error, name).toMatchObject({ type: 'DecodeError' });
          expect(Number.isInteger(error.offset), `${name}: offset`).toBe(true);
          expect(error.offset as number, name).toBeGreaterThanOrEqual(0);
          expect(error.offset as number, name).toBeLessThanOrEqual(bytes.length);
          expect(databaseImage(b.replica), name).toEqual(before);
        }
        stillWorks(b);
      },
      timeoutMs,
    );

    it(
      'changes for a table not synced here: NotSyncedError naming it, nothing applied',
      async () => {
        const extra = 'CREATE TABLE elsewhere(id TEXT PRIMARY KEY NOT NULL, v)';
        const a = await harness.peer({
          sql: `${TODOS_SQL}; ${extra}`,
          sync: ['todos', 'elsewhere'],
        });
        const b = await target();
        b.exec(extra);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'first in the batch']);
        a.run('INSERT INTO elsewhere VALUES (?, ?)', ['e1', 'x']);
        const before = databaseImage(b.replica);
        for (const input of [
          a.replica.changesetSince(0).bytes,
          a.replica.changesSince(0).changes,
        ]) {
          const error = thrownBy(() => b.replica.applyChanges(input));
          expect(error).toMatchObject({ type: 'NotSyncedError', table: 'elsewhere' });
          expect(databaseImage(b.replica)).toEqual(before);
        }
        stillWorks(b);
      },
      timeoutMs,
    );

    it(
      'a change naming a column this replica lacks: SchemaMismatchError naming the column, nothing applied',
      async () => {
        const a = await harness.peer({
          sql: 'CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title, done INTEGER DEFAULT 0, note TEXT COLLATE NOCASE, extra)',
          sync: ['todos'],
        });
        const b = await target();
        a.run('INSERT INTO todos(id, title, extra) VALUES (?, ?, ?)', ['t1', 'x', 'e']);
        const before = databaseImage(b.replica);
        const error = thrownBy(() => b.replica.applyChanges(a.replica.changesSince(0).changes));
        expect(error).toMatchObject({
          type: 'SchemaMismatchError',
          table: 'todos',
          column: 'extra',
        });
        expect(databaseImage(b.replica)).toEqual(before);
        stillWorks(b);
      },
      timeoutMs,
    );

    it(
      'a changeset whose schema fingerprint differs: SchemaMismatchError with both fingerprints, nothing applied',
      async () => {
        const a = await harness.peer({
          sql: 'CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT, done INTEGER DEFAULT 0, note TEXT COLLATE NOCASE)',
          sync: ['todos'],
        });
        const b = await target();
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'x']);
        const local = b.replica.tableInfo('todos').fingerprint;
        const remote = a.replica.tableInfo('todos').fingerprint;
        expect(remote).not.toBe(local);
        const before = databaseImage(b.replica);
        const error = thrownBy(() => b.replica.applyChanges(a.replica.changesetSince(0).bytes));
        expect(error).toMatchObject({ type: 'SchemaMismatchError', table: 'todos', local, remote });
        expect(databaseImage(b.replica)).toEqual(before);
        stillWorks(b);
      },
      timeoutMs,
    );

    it(
      'a stamp beyond the drift bound: DriftError with the drift, nothing applied; the bound is configurable',
      async () => {
        const ahead = 10 * 60_000;
        const a = await harness.peer({
          sql: `${TODOS_SQL}; ${SCORES_SQL}`,
          sync: ['todos', 'scores'],
          startMs: MANUAL_START_MS + ahead,
        });
        const b = await target();
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'from the future']);
        const bytes = a.replica.changesetSince(0).bytes;
        const before = databaseImage(b.replica);
        const error = thrownBy(() => b.replica.applyChanges(bytes));
        expect(error).toMatchObject({
          type: 'DriftError',
          remoteMs: MANUAL_START_MS + ahead,
          nowMs: MANUAL_START_MS,
          driftMs: ahead,
          maxDriftMs: 5 * 60_000,
          site: a.replica.site,
        });
        expect(databaseImage(b.replica)).toEqual(before);
        stillWorks(b);
        // Once b's clock catches up, the same bytes apply.
        b.env.advance(ahead - 5 * 60_000);
        expect(b.replica.applyChanges(bytes).rows).toBe(1);

        const strict = await harness.peer({ sql: TODOS_SQL, sync: ['todos'], maxDriftMs: 1000 });
        const near = await harness.peer({
          sql: TODOS_SQL,
          sync: ['todos'],
          startMs: MANUAL_START_MS + 2000,
        });
        near.run('INSERT INTO todos(id) VALUES (?)', ['n1']);
        expect(thrownBy(() => sendAll(near, strict))).toMatchObject({
          type: 'DriftError',
          maxDriftMs: 1000,
          driftMs: 2000,
        });
        strict.env.advance(1000);
        sendAll(near, strict);
        expectConverged([near, strict], ['todos']);
      },
      timeoutMs,
    );

    it(
      'a NULL key, even into an INTEGER PRIMARY KEY table: DecodeError naming row.pk, nothing applied',
      async () => {
        const sql = 'CREATE TABLE items(id INTEGER PRIMARY KEY, v)';
        const a = await harness.peer({ sql });
        const b = await harness.peer({ sql });
        a.replica.enableSync('items', { allowIntegerPrimaryKey: true });
        b.replica.enableSync('items', { allowIntegerPrimaryKey: true });
        a.run('INSERT INTO items VALUES (?, ?)', [7n, 'kept']);
        sendAll(a, b);
        a.run('INSERT INTO items VALUES (?, ?)', [8n, 'new']);
        // Every change of the batch, with row 8's key replaced by NULL.
        const nullKey = packPrimaryKey([null]);
        const eight = packPrimaryKey([8n]).join();
        const changes: Change[] = a.replica
          .changesSince(0)
          .changes.map((change) =>
            change.pk.join() === eight ? { ...change, pk: nullKey } : change,
          );
        expect(changes.filter((change) => change.pk === nullKey)).toHaveLength(2);
        const before = databaseImage(b.replica);
        for (const input of [encodeChangeset({ changes }), changes]) {
          const error = thrownBy(() => b.replica.applyChanges(input));
          expect(error).toMatchObject({ type: 'DecodeError' });
          expect(String(error.reason)).toMatch(/NULL/);
          expect(databaseImage(b.replica)).toEqual(before);
        }
        expect(b.all('SELECT count(*) FROM items')).toEqual([[1n]]);
      },
      timeoutMs,
    );

    it(
      'a key with the wrong number of columns: InvalidChangeError naming the table, nothing applied',
      async () => {
        const a = await harness.peer({ sql: TODOS_SQL, sync: ['todos'] });
        const b = await target();
        a.run('INSERT INTO todos(id, title) VALUES (?, ?), (?, ?)', ['t1', 'x', 't2', 'y']);
        const good = a.replica.changesSince(0).changes;
        for (const key of [
          ['t2', 'extra'],
          ['t2', 1n, 2.5],
        ]) {
          const pk = packPrimaryKey(key);
          const changes = good.map((change, i) =>
            i >= good.length / 2 ? { ...change, pk } : change,
          );
          const before = databaseImage(b.replica);
          for (const input of [encodeChangeset({ changes }), changes]) {
            const error = thrownBy(() => b.replica.applyChanges(input));
            expect(error, String(key.length)).toMatchObject({
              type: 'InvalidChangeError',
              table: 'todos',
            });
            expect(String(error.reason)).toMatch(/key has \d+ column/);
            expect(databaseImage(b.replica)).toEqual(before);
          }
        }
        stillWorks(b);
      },
      timeoutMs,
    );

    it(
      'a causal length beyond 2^31: refused at decode or as a change, nothing applied, the replica keeps deleting and syncing',
      async () => {
        const a = await harness.peer({
          sql: `${TODOS_SQL}; ${SCORES_SQL}`,
          sync: ['todos', 'scores'],
        });
        const b = await target();
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'x']);
        const before = databaseImage(b.replica);
        for (const cl of [2 ** 53 - 1, MAX_CAUSAL_LENGTH + 1]) {
          // A sentinel only: cells cannot sit in a deleted life, and this life may be even.
          const changes = a.replica
            .changesSince(0)
            .changes.filter((change) => change.column === null)
            .map((change) => ({ ...change, cl }));
          const error = thrownBy(() => b.replica.applyChanges(changes));
          expect(error).toMatchObject({ type: 'InvalidChangeError', table: 'todos' });
          expect(databaseImage(b.replica)).toEqual(before);
        }
        // The largest accepted causal length leaves room for every local step after it.
        const top = a.replica
          .changesSince(0)
          .changes.filter((change) => change.column === null)
          .map((change) => ({ ...change, cl: MAX_CAUSAL_LENGTH - 1 }));
        b.replica.applyChanges(encodeChangeset({ changes: top }));
        b.run('DELETE FROM todos WHERE id = ?', ['t1']);
        const after = b.replica.changesetSince(0).bytes;
        expect(a.replica.applyChanges(after).rows).toBeGreaterThan(0);
        expect(a.all('SELECT count(*) FROM todos WHERE id = ?', ['t1'])).toEqual([[0n]]);
        stillWorks(b);
      },
      timeoutMs,
    );

    it(
      'a batch whose 2nd of many rows violates a CHECK constraint: ApplyError, no row applied',
      async () => {
        // The sender's table lacks the CHECK (fingerprints do not cover CHECK constraints).
        const a = await harness.peer({
          sql: `${TODOS_SQL}; CREATE TABLE scores(id TEXT PRIMARY KEY NOT NULL, n INTEGER)`,
          sync: ['todos', 'scores'],
        });
        const b = await target();
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'before the scores']);
        for (let i = 0; i < 20; i++) {
          a.run('INSERT INTO scores VALUES (?, ?)', [
            `s${String(i).padStart(2, '0')}`,
            i === 1 ? -1n : BigInt(i),
          ]);
        }
        const before = databaseImage(b.replica);
        for (const input of [
          a.replica.changesetSince(0).bytes,
          a.replica.changesSince(0).changes,
        ]) {
          const error = thrownBy(() => b.replica.applyChanges(input));
          expect(error).toMatchObject({ type: 'ApplyError', table: 'scores' });
          expect(String(error.reason)).toMatch(/CHECK/i);
          expect(databaseImage(b.replica)).toEqual(before);
        }
        stillWorks(b);
      },
      timeoutMs,
    );
  });
}
