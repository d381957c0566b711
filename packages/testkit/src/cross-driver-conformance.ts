import { fc, test } from '@fast-check/vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { AFFINITY_CASES } from './affinity.js';
import { type ConformanceOptions, resolveOptions } from './conformance-options.js';
import type { DriverSetup } from './fixture.js';
import { Harness } from './harness.js';
import { runHistory } from './history-runner.js';
import { DEFAULT_HISTORY_SHAPE, historySteps } from './history-steps.js';
import type { Peer } from './peer.js';
import { showRows, toHex } from './show-value.js';
import { expectIdentical } from './suites/laws.js';
import { expectConverged, sendAll } from './suites/sync-helpers.js';
import { TODOS_SQL } from './suites/todos.js';
import { sqlValueArbitrary } from './value-arbitraries.js';

const VALUES_SQL =
  'CREATE TABLE vals(id TEXT PRIMARY KEY NOT NULL, v, i INTEGER, r REAL, t TEXT, b BLOB)';
// The decoded values (exact for every class but TEXT) beside the stored bytes of each (exact for
// TEXT, which a driver reads with U+FFFD where the bytes are not UTF-8).
const SELECT =
  'SELECT v, i, r, t, b, typeof(v), hex(v), typeof(i), hex(i), typeof(r), hex(r), typeof(t), hex(t), typeof(b), hex(b) FROM vals WHERE id = ?';
const INSERT = 'INSERT INTO vals(id, v, i, r, t, b) VALUES (?, ?, ?, ?, ?, ?)';

/** Schemas whose fingerprints must not depend on the binding (defaults, types, collations). */
const SCHEMAS: readonly string[] = [
  TODOS_SQL,
  "CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, a VARCHAR(20) DEFAULT 'x', b NUMERIC(10, 2) DEFAULT -1.5, c DEFAULT (1 + 1), d TEXT DEFAULT CURRENT_TIMESTAMP, e BLOB DEFAULT x'00ff', f INTEGER NOT NULL DEFAULT 0)",
  'CREATE TABLE todos(a TEXT NOT NULL, b INTEGER NOT NULL, "c d" REAL, PRIMARY KEY(b, a)) WITHOUT ROWID',
  'CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, n INTEGER, t TEXT COLLATE NOCASE) STRICT',
];

/**
 * Registers checks that replicas on two different SQLite drivers (say better-sqlite3 and sql.js)
 * interoperate exactly: every value written on one arrives identical on the other, the same
 * schema gives the same fingerprint, the same writes give byte-identical changesets, and random
 * histories over replicas of both drivers converge to byte-equal dumps.
 *
 * @param setupA Creates a fresh database on the first driver.
 * @param setupB Creates a fresh database on the second driver.
 * @param title Names the pair in test reports.
 * @param options Run counts and timeout.
 * @example
 * ```ts
 * runCrossDriverConformance(
 *   () => ({ driver: new BetterSqliteDriver(new Database(':memory:')) }),
 *   async () => ({ driver: await openSqlJsDriver() }),
 *   'better-sqlite3 × sql.js',
 * );
 * ```
 */
export function runCrossDriverConformance(
  setupA: DriverSetup,
  setupB: DriverSetup,
  title: string,
  options: ConformanceOptions = {},
): void {
  const { numRuns, historyRuns, timeoutMs, seed } = resolveOptions(options);
  describe(`cross-driver conformance: ${title}`, () => {
    const a = new Harness(setupA);
    const b = new Harness(setupB);
    let pair: { onA: Peer; onB: Peer; next: number } | undefined;
    afterEach(async () => {
      pair = undefined;
      await a.dispose();
      await b.dispose();
    });

    it(
      'the same schema has the same fingerprint on both drivers',
      async () => {
        for (const sql of SCHEMAS) {
          const onA = await a.peer({ sql, sync: ['todos'] });
          const onB = await b.peer({ sql, sync: ['todos'] });
          expect(onB.replica.tableInfo('todos').canonical, sql).toBe(
            onA.replica.tableInfo('todos').canonical,
          );
          expect(onB.replica.tableInfo('todos').fingerprint, sql).toBe(
            onA.replica.tableInfo('todos').fingerprint,
          );
        }
      },
      timeoutMs,
    );

    it(
      'both drivers store every affinity case identically, and pass them on unchanged',
      async () => {
        const onA = await a.peer({ sql: VALUES_SQL, sync: ['vals'] });
        const onB = await b.peer({ sql: VALUES_SQL, sync: ['vals'] });
        for (const { name, value } of AFFINITY_CASES) {
          onA.run(INSERT, [`a ${name}`, value, value, value, value, value]);
          onB.run(INSERT, [`b ${name}`, value, value, value, value, value]);
        }
        sendAll(onA, onB);
        sendAll(onB, onA);
        for (const { name } of AFFINITY_CASES) {
          const stored = showRows(onA.all(SELECT, [`a ${name}`]));
          expect(showRows(onB.all(SELECT, [`b ${name}`])), name).toEqual(stored);
          for (const peer of [onA, onB]) {
            for (const id of [`a ${name}`, `b ${name}`])
              expect(showRows(peer.all(SELECT, [id])), name).toEqual(stored);
          }
        }
        expectConverged([onA, onB], ['vals']);
      },
      timeoutMs,
    );

    test.prop([sqlValueArbitrary({ large: true })], { numRuns, seed })(
      'every value written on one driver reads back identically on the other, both ways',
      async (value) => {
        pair ??= {
          onA: await a.peer({ sql: VALUES_SQL, sync: ['vals'] }),
          onB: await b.peer({ sql: VALUES_SQL, sync: ['vals'] }),
          next: 0,
        };
        const { onA, onB } = pair;
        const n = pair.next++;
        const five = [value, value, value, value, value];
        const cursorA = onA.replica.version;
        const cursorB = onB.replica.version;
        onA.run(INSERT, [`a${n}`, ...five]);
        onB.run(INSERT, [`b${n}`, ...five]);
        onB.replica.applyChanges(onA.replica.changesetSince(cursorA).bytes);
        onA.replica.applyChanges(onB.replica.changesetSince(cursorB).bytes);
        const stored = showRows(onA.all(SELECT, [`a${n}`]));
        expect(showRows(onB.all(SELECT, [`b${n}`])), 'stored alike').toEqual(stored);
        expect(showRows(onB.all(SELECT, [`a${n}`])), 'A → B').toEqual(stored);
        expect(showRows(onA.all(SELECT, [`b${n}`])), 'B → A').toEqual(stored);
      },
      timeoutMs,
    );

    it(
      'the same writes under the same clock and site give byte-identical changesets and dumps',
      async () => {
        const onA = await a.peer({ sql: TODOS_SQL, sync: ['todos'], seed: 42 });
        const onB = await b.peer({ sql: TODOS_SQL, sync: ['todos'], seed: 42 });
        expect(onB.replica.site).toBe(onA.replica.site);
        for (const peer of [onA, onB]) {
          peer.run('INSERT INTO todos VALUES (?, ?, ?, ?)', ['t1', 'milk', 1n, 'n']);
          peer.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t2', 2.5]);
          peer.env.advance(3);
          peer.run('UPDATE todos SET title = ?, done = ? WHERE id = ?', [
            new Uint8Array([1, 2]),
            2n ** 62n,
            't1',
          ]);
          peer.run('DELETE FROM todos WHERE id = ?', ['t2']);
        }
        expect(toHex(onB.replica.changesetSince(0).bytes)).toBe(
          toHex(onA.replica.changesetSince(0).bytes),
        );
        expect(toHex(onB.replica.dump())).toBe(toHex(onA.replica.dump()));
      },
      timeoutMs,
    );

    const mixes = fc
      .array(fc.boolean(), {
        minLength: DEFAULT_HISTORY_SHAPE.replicas,
        maxLength: DEFAULT_HISTORY_SHAPE.replicas,
      })
      .filter((onB) => onB.includes(true) && onB.includes(false));
    test.prop([historySteps(), fc.integer(), mixes], { numRuns: historyRuns, seed })(
      'random histories over replicas of both drivers converge to byte-equal dumps',
      async (steps, seed, onB) => {
        try {
          const outcome = await runHistory(steps, {
            harnesses: onB.map((useB) => (useB ? b : a)),
            seed,
          });
          expectIdentical(outcome.peers);
        } finally {
          await a.dispose();
          await b.dispose();
        }
      },
      timeoutMs,
    );
  });
}
