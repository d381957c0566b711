import { type Change, compareHlc, WRITE_TIME_SQL } from '@offsync/core';
import { packPrimaryKey } from '@offsync/core/codec';
import { describe, expect, it } from 'vitest';
import type { ResolvedOptions } from '../conformance-options.js';
import type { Harness } from '../harness.js';
import type { Peer } from '../peer.js';
import { toHex } from '../show-value.js';
import { expectConverged, sendAll } from './sync-helpers.js';

/** 2100-01-01: a manual clock this far ahead leaves SQLite's own clock as the earlier time. */
const FAR_AHEAD_MS = 4_102_444_800_000;
const NOTES_SQL = 'CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, title TEXT, body TEXT)';

/** SQLite's wall time (ms), as the capture triggers record it. */
function sqliteNow(peer: Peer): number {
  return Number(peer.all(`SELECT ${WRITE_TIME_SQL}`)[0]![0]);
}

/**
 * Waits until SQLite's clock has moved past `ms`, so that the next write is strictly later (no
 * assertion depends on how long that takes).
 */
function afterSqliteTick(peer: Peer, ms: number): number {
  let now = sqliteNow(peer);
  while (now <= ms) now = sqliteNow(peer);
  return now;
}

/** Every cell of `notes` as storage class and hex bytes, in key order. */
function noteBytes(peer: Peer): string[] {
  return peer
    .all(
      `SELECT typeof(id) || ':' || hex(id) || ' ' || typeof(title) || ':' || hex(title) || ' ' ||
              typeof(body) || ':' || hex(body) FROM notes ORDER BY id`,
    )
    .map((row) => String(row[0]));
}

/** The change of one cell of `notes` among `changes`. */
function cellIn(changes: readonly Change[], id: string, column: string): Change {
  const pk = toHex(packPrimaryKey([id]));
  const change = changes.find(
    (candidate) => candidate.column === column && toHex(candidate.pk) === pk,
  );
  if (!change) throw new Error(`no change for ${id}.${column}`);
  return change;
}

function cellOf(peer: Peer, id: string, column: string): Change {
  return cellIn(peer.replica.changesSince(0).changes, id, column);
}

/**
 * Last-writer-wins uses the time of the write, not the time the captured write was folded into
 * the metadata: an edit folded hours after it was made still loses to a later edit of another
 * device; writes of one statement share a stamp; a database of the previous metadata format is
 * upgraded in place.
 *
 * @example
 * ```ts
 * describeWriteTime(harness, resolveOptions());
 * ```
 */
export function describeWriteTime(harness: Harness, options: ResolvedOptions): void {
  const { timeoutMs } = options;
  const notes = { sql: NOTES_SQL, sync: ['notes'], startMs: FAR_AHEAD_MS };

  describe('the time of a write', () => {
    for (const foldFirst of [false, true]) {
      it(
        `an older write loses to a later write of another device, however late it is folded${foldFirst ? ' (folded before the later write arrives)' : ''}`,
        async () => {
          const a = await harness.peer(notes);
          const b = await harness.peer(notes);
          a.run('INSERT INTO notes(id, title) VALUES (?, ?)', ['n1', 'draft']);
          sendAll(a, b);
          // A edits offline; its write is captured now but folded only much later.
          a.run('UPDATE notes SET title = ? WHERE id = ?', ['from a, earlier', 'n1']);
          // Read after the write: the write happened at or before this millisecond.
          const wroteA = sqliteNow(a);
          afterSqliteTick(b, wroteA);
          b.env.advance(3 * 3_600_000);
          b.run('UPDATE notes SET title = ? WHERE id = ?', ['from b, later', 'n1']);
          // A's own clock runs far ahead of the time of its write when it finally folds it.
          a.env.advance(9 * 3_600_000);
          if (foldFirst) a.replica.flush();
          sendAll(b, a);
          sendAll(a, b);
          expect(noteBytes(a)).toEqual([
            `text:${hexText('n1')} text:${hexText('from b, later')} null:`,
          ]);
          expect(noteBytes(b)).toEqual(noteBytes(a));
          expectConverged([a, b], ['notes']);
        },
        timeoutMs,
      );
    }

    it(
      'a write is stamped with the time it was made, never later than the replica clock',
      async () => {
        const a = await harness.peer(notes);
        const before = sqliteNow(a);
        a.run('INSERT INTO notes(id, title) VALUES (?, ?)', ['n1', 'one']);
        const after = sqliteNow(a);
        a.env.advance(24 * 3_600_000);
        const stamp = cellOf(a, 'n1', 'title').stamp;
        expect(stamp.wall).toBeGreaterThanOrEqual(before);
        expect(stamp.wall).toBeLessThanOrEqual(after);

        // With the replica's clock behind SQLite's, the replica's clock is the bound.
        const behind = await harness.peer({ sql: NOTES_SQL, sync: ['notes'] });
        behind.run('INSERT INTO notes(id, title) VALUES (?, ?)', ['n1', 'one']);
        expect(cellOf(behind, 'n1', 'title').stamp.wall).toBe(behind.env.now());
      },
      timeoutMs,
    );

    it(
      'rows written in one statement share one stamp; writes of later milliseconds get later stamps',
      async () => {
        const a = await harness.peer(notes);
        a.run(
          `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
           INSERT INTO notes(id, title) SELECT printf('bulk%03d', i), 'x' FROM n`,
        );
        const bulk = a.replica.changesSince(0).changes;
        expect(new Set(bulk.map((change) => change.stamp.wall)).size).toBe(1);
        expect(new Set(bulk.map((change) => change.stamp.counter)).size).toBe(1);

        // Fresh inserts of two milliseconds, and updates of two columns of one row in two
        // milliseconds, all folded together.
        const cursor = a.replica.version;
        a.run('INSERT INTO notes(id, title) VALUES (?, ?)', ['early', 'x']);
        a.run('UPDATE notes SET title = ? WHERE id = ?', ['t', 'bulk001']);
        // Read after the writes: they happened at or before this millisecond.
        const first = sqliteNow(a);
        const second = afterSqliteTick(a, first);
        a.run('INSERT INTO notes(id, title) VALUES (?, ?)', ['late', 'x']);
        a.run('UPDATE notes SET body = ? WHERE id = ?', ['b', 'bulk001']);
        a.env.advance(3_600_000);
        const changes = a.replica.changesSince(cursor).changes;
        const stampOf = (id: string, column: string): Change['stamp'] =>
          cellIn(changes, id, column).stamp;
        expect(compareHlc(stampOf('early', 'title'), stampOf('late', 'title'))).toBeLessThan(0);
        expect(compareHlc(stampOf('bulk001', 'title'), stampOf('bulk001', 'body'))).toBeLessThan(0);
        expect(stampOf('early', 'title').wall).toBeLessThan(second);
        expect(stampOf('late', 'title').wall).toBeGreaterThanOrEqual(second);
        expect(stampOf('bulk001', 'body').wall).toBeGreaterThanOrEqual(second);
      },
      timeoutMs,
    );

    it(
      'writes folded together are stamped in the order they were made, an update before an insert included',
      async () => {
        const a = await harness.peer(notes);
        a.run('INSERT INTO notes(id, title) VALUES (?, ?)', ['old', 'x']);
        a.replica.flush();
        const cursor = a.replica.version;
        // An update of a folded row, then a fresh insert, folded together. Their write times are
        // set in the log (ahead of every stamp issued so far, behind the replica clock) so that
        // the order does not depend on how fast the test runs.
        a.run('UPDATE notes SET title = ? WHERE id = ?', ['edited', 'old']);
        a.run('INSERT INTO notes(id, title) VALUES (?, ?)', ['new', 'y']);
        const log = a
          .all("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'offsync_log_%'")
          .map((row) => String(row[0]));
        expect(log).toHaveLength(1);
        expect(a.all(`SELECT op FROM ${log[0]} ORDER BY id`)).toEqual([[2n], [1n]]);
        const updatedAt = a.replica.clock.wall + 1_000;
        a.run(`UPDATE ${log[0]} SET w = ? WHERE op = 2`, [BigInt(updatedAt)]);
        a.run(`UPDATE ${log[0]} SET w = ? WHERE op = 1`, [BigInt(updatedAt + 5)]);
        const changes = a.replica.changesSince(cursor).changes;
        const edited = cellIn(changes, 'old', 'title').stamp;
        const inserted = cellIn(changes, 'new', 'title').stamp;
        expect(edited.wall).toBe(updatedAt);
        expect(inserted.wall).toBe(updatedAt + 5);
        expect(compareHlc(edited, inserted)).toBeLessThan(0);
      },
      timeoutMs,
    );

    it(
      'a replica of the previous metadata format is upgraded: pending writes survive, new ones carry their time',
      async () => {
        const a = await harness.peer(notes);
        const b = await harness.peer(notes);
        a.run('INSERT INTO notes(id, title) VALUES (?, ?)', ['n1', 'synced']);
        sendAll(a, b);
        downgradeToFormat1(a);
        a.run('UPDATE notes SET body = ? WHERE id = ?', ['pending before upgrade', 'n1']);
        expect(a.all('SELECT count(*) FROM offsync_log_1 WHERE op = 2')).toEqual([[1n]]);

        const upgraded = await harness.restart(a);
        expect(upgraded.all("SELECT value FROM offsync_state WHERE key = 'format'")).toEqual([
          [2n],
        ]);
        const triggers = upgraded
          .all("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'notes'")
          .map((row) => String(row[0]));
        expect(triggers).toHaveLength(4);
        for (const sql of triggers) expect(sql).toContain(WRITE_TIME_SQL);
        const before = sqliteNow(upgraded);
        upgraded.run('INSERT INTO notes(id, title) VALUES (?, ?)', ['n2', 'after upgrade']);
        expect(cellOf(upgraded, 'n2', 'title').stamp.wall).toBeGreaterThanOrEqual(before);
        sendAll(upgraded, b);
        sendAll(b, upgraded);
        expect(noteBytes(b)).toEqual([
          `text:${hexText('n1')} text:${hexText('synced')} text:${hexText('pending before upgrade')}`,
          `text:${hexText('n2')} text:${hexText('after upgrade')} null:`,
        ]);
        expectConverged([upgraded, b], ['notes']);
      },
      timeoutMs,
    );
  });
}

function hexText(text: string): string {
  return [...new TextEncoder().encode(text)]
    .map((byte) => byte.toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
}

/**
 * Turns a replica's database back into metadata format 1, as an older release wrote it: change
 * logs without the write-time column, triggers that do not record it.
 */
function downgradeToFormat1(peer: Peer): void {
  const triggers = peer
    .all("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'offsync_%'")
    .map((row) => String(row[0]));
  const names = peer
    .all("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'offsync_%'")
    .map((row) => String(row[0]));
  for (const name of names) peer.exec(`DROP TRIGGER "${name}"`);
  for (const [log] of peer.all(
    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'offsync_log_%'",
  )) {
    peer.exec(`ALTER TABLE "${String(log)}" DROP COLUMN w`);
  }
  for (const sql of triggers) {
    peer.exec(sql.replaceAll('(op, w, ', '(op, ').replaceAll(`, ${WRITE_TIME_SQL}, `, ', '));
  }
  peer.exec("UPDATE offsync_state SET value = 1 WHERE key = 'format'");
}
