import { test } from '@fast-check/vitest';
import type { SqlValue } from '@offsync/core';
import { packPrimaryKey } from '@offsync/core/codec';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AFFINITY_CASES,
  type AffinityColumn,
  detectRealToText,
  expectedStored,
  storedWithoutAffinity,
} from '../affinity.js';
import type { ResolvedOptions } from '../conformance-options.js';
import { thrownBy } from '../expect-error.js';
import type { Harness } from '../harness.js';
import { limitationNote } from '../limitations.js';
import type { Peer } from '../peer.js';
import { showRows, showSqlValue, toHex } from '../show-value.js';
import {
  EDGE_BLOBS,
  EDGE_INTEGERS,
  EDGE_REALS,
  EDGE_TEXTS,
  hasNul,
  LARGE_BLOB,
  LARGE_TEXT,
  sqlValueArbitrary,
} from '../value-arbitraries.js';

/** A column without declared type (no affinity) and one of each declared type. */
const VALUES_SQL =
  'CREATE TABLE vals(id TEXT PRIMARY KEY NOT NULL, v, i INTEGER, r REAL, t TEXT, b BLOB)';
const COLUMNS: readonly [string, AffinityColumn][] = [
  ['v', ''],
  ['i', 'INTEGER'],
  ['r', 'REAL'],
  ['t', 'TEXT'],
  ['b', 'BLOB'],
];
// The decoded values (exact for every class but TEXT) beside the stored bytes of each (exact for
// TEXT, which a driver reads with U+FFFD where the bytes are not UTF-8).
const SELECT =
  'SELECT v, i, r, t, b, typeof(v), hex(v), typeof(i), hex(i), typeof(r), hex(r), typeof(t), hex(t), typeof(b), hex(b) FROM vals WHERE id = ?';
const INSERT = 'INSERT INTO vals(id, v, i, r, t, b) VALUES (?, ?, ?, ?, ?, ?)';
const UPDATE = 'UPDATE vals SET v = ?, i = ?, r = ?, t = ?, b = ? WHERE id = ?';

interface Trio {
  readonly source: Peer;
  readonly viaList: Peer;
  readonly viaBytes: Peer;
  cursor: number;
  next: number;
}

/**
 * Exact values: every SQL value written through the driver reaches other replicas exactly, in
 * columns without and with declared types; NaN and -0.0 behave as SQLite documents.
 *
 * @example
 * ```ts
 * describeValueRoundTrips(harness, resolveOptions());
 * ```
 */
export function describeValueRoundTrips(harness: Harness, options: ResolvedOptions): void {
  const { timeoutMs, numRuns } = options;
  // A binding that cuts TEXT at NUL declares it; its random values then carry no NUL.
  const nul = limitationNote(options.limitations, 'text-nul') === undefined;
  describe('value round trips', () => {
    let trio: Trio | undefined;
    afterEach(() => {
      trio = undefined;
    });
    const open = async (): Promise<Trio> => {
      const sync = { sql: VALUES_SQL, sync: ['vals'] };
      return {
        source: await harness.peer(sync),
        viaList: await harness.peer(sync),
        viaBytes: await harness.peer(sync),
        cursor: 0,
        next: 0,
      };
    };

    test.prop([sqlValueArbitrary({ large: true, nul })], { numRuns, seed: options.seed })(
      'every value reaches other replicas exactly, through changesSince and through changeset bytes, inserted or updated',
      async (value) => {
        trio ??= await open();
        checkRoundTrip(trio, value);
      },
      timeoutMs,
    );

    it(
      'every edge value reaches other replicas exactly, in every run whatever the seed',
      async () => {
        const edges = [...EDGE_VALUES, ...AFFINITY_CASES.map((c) => c.value)].filter(
          (value) => nul || !hasNul(value),
        );
        const shared = await open();
        const failures: string[] = [];
        for (const value of edges) {
          try {
            checkRoundTrip(shared, value);
          } catch (error) {
            failures.push(`${showSqlValue(value).slice(0, 60)}: ${String(error).split('\n')[0]}`);
          }
        }
        expect(failures, `edge values that did not round-trip:\n${failures.join('\n')}`).toEqual(
          [],
        );
      },
      timeoutMs,
    );

    it(
      'stores NaN, -0.0, 2.0, 64-bit and numeric-looking values as SQLite documents, identically after sync',
      async () => {
        const source = await harness.peer({ sql: VALUES_SQL, sync: ['vals'] });
        const sink = await harness.peer({ sql: VALUES_SQL, sync: ['vals'] });
        // What sync needs is the same stored value everywhere, not one SQLite's REAL-to-TEXT
        // printing: the expectations follow the conversion this binding's SQLite does.
        const conversion = detectRealToText(source.driver);
        const cases = AFFINITY_CASES.filter((c) => nul || !hasNul(c.value));
        for (const { name, value } of cases) {
          source.run(INSERT, [name, value, value, value, value, value]);
        }
        sink.replica.applyChanges(source.replica.changesetSince(0).bytes);
        // Every mismatch at once, as a table: one wrong case rarely comes alone.
        const mismatches: string[] = [];
        for (const c of cases) {
          const stored = source.all(SELECT, [c.name])[0];
          const synced = sink.all(SELECT, [c.name])[0];
          COLUMNS.forEach(([column, type], i) => {
            const want = showSqlValue(expectedStored(c, type, conversion));
            const got = stored === undefined ? 'no row' : showSqlValue(stored[i]!);
            const after = synced === undefined ? 'no row' : showSqlValue(synced[i]!);
            if (got !== want || after !== want) {
              mismatches.push(
                `| ${c.name} | ${column || '(none)'} ${type} | ${want} | ${got} | ${after} |`,
              );
            }
          });
          if (
            stored &&
            synced &&
            JSON.stringify(showRows([synced])) !== JSON.stringify(showRows([stored]))
          ) {
            mismatches.push(
              `| ${c.name} | bytes (hex) | as stored | ${showRows([stored]).join(' ')} | ${showRows([synced]).join(' ')} |`,
            );
          }
        }
        const table = [
          `affinity mismatches (REAL-to-TEXT conversion: ${conversion}):`,
          '| case | column | expected | got | after sync |',
          '| --- | --- | --- | --- | --- |',
          ...mismatches,
        ].join('\n');
        expect(mismatches, table).toEqual([]);
      },
      timeoutMs,
    );

    it(
      'TEXT with an embedded NUL is stored and synced whole',
      async (context) => {
        const note = limitationNote(options.limitations, 'text-nul');
        if (note) context.skip(note);
        const source = await harness.peer({ sql: VALUES_SQL, sync: ['vals'] });
        const sink = await harness.peer({ sql: VALUES_SQL, sync: ['vals'] });
        for (const text of ['a\u0000b', '\u0000', 'end\u0000']) {
          source.run('INSERT INTO vals(id, v, t) VALUES (?, ?, ?)', [text, text, text]);
        }
        sink.replica.applyChanges(source.replica.changesetSince(0).bytes);
        const exact =
          'SELECT hex(id), typeof(v), hex(v), typeof(t), hex(t), length(CAST(v AS BLOB)) FROM vals ORDER BY id';
        expect(source.all(exact)).toEqual([
          ['00', 'text', '00', 'text', '00', 1n],
          ['610062', 'text', '610062', 'text', '610062', 3n],
          ['656E6400', 'text', '656E6400', 'text', '656E6400', 4n],
        ]);
        expect(sink.all(exact)).toEqual(source.all(exact));
        expect(showRows(source.all('SELECT v FROM vals ORDER BY id'))).toEqual(
          showRows([['\u0000'], ['a\u0000b'], ['end\u0000']]),
        );
      },
      timeoutMs,
    );

    it(
      'a REAL written into a TEXT column keeps 17 significant digits (SQLite that prints doubles exactly)',
      async (context) => {
        const note = limitationNote(options.limitations, 'real-to-text-digits');
        if (note) context.skip(note);
        const driver = await harness.driver();
        const version = String(driver.prepare('SELECT sqlite_version()').all()[0]?.[0]);
        expect(
          detectRealToText(driver),
          `SQLite ${version} converts REAL to TEXT with 15 significant digits (the TEXT of 2^53 is ` +
            "'9.00719925474099e+15'). Sync is unaffected; declare the known limitation " +
            "{ id: 'real-to-text-digits', reason: ... } or use a newer SQLite.",
        ).toBe('17-digits');
      },
      timeoutMs,
    );

    it(
      'INTEGER 2 and REAL 2.0 stay distinct through sync, and so do TEXT and BLOB with the same bytes',
      async () => {
        const source = await harness.peer({ sql: VALUES_SQL, sync: ['vals'] });
        const sink = await harness.peer({ sql: VALUES_SQL, sync: ['vals'] });
        const values: SqlValue[] = [2n, 2.0, 'a', new Uint8Array([0x61])];
        values.forEach((value, i) => {
          source.run('INSERT INTO vals(id, v) VALUES (?, ?)', [`k${i}`, value]);
        });
        sink.replica.applyChanges(source.replica.changesetSince(0).bytes);
        expect(
          sink
            .all('SELECT v, typeof(v) FROM vals ORDER BY id')
            .map((row) => showSqlValue(row[0]!) + ' ' + String(row[1])),
        ).toEqual(['INTEGER 2 integer', 'REAL 2 real', 'TEXT "a" text', 'BLOB x61 blob']);
      },
      timeoutMs,
    );

    it(
      'TEXT that is not valid UTF-8 is refused with InvalidTextError naming table, key and column, never sent changed',
      async (context) => {
        const note = limitationNote(options.limitations, 'invalid-text-read');
        if (note) context.skip(note);
        const source = await harness.peer({ sql: VALUES_SQL, sync: ['vals'] });
        const sink = await harness.peer({ sql: VALUES_SQL, sync: ['vals'] });
        // Real U+FFFD is valid text and travels as it is.
        source.run('INSERT INTO vals(id, t) VALUES (?, ?)', ['fine', 'ok \uFFFD ok']);
        const cursor = source.replica.version;
        sink.replica.applyChanges(source.replica.changesetSince(0).bytes);
        const exact = 'SELECT id, typeof(t), hex(t), typeof(v), hex(v) FROM vals ORDER BY id';
        expect(sink.all(exact)).toEqual(source.all(exact));
        const bad: [string, string, string, SqlValue[]][] = [
          // A lone surrogate bound by the app: the binding stores it as WTF-8 (ED A0 80).
          ['lone', 't', 'INSERT INTO vals(id, t) VALUES (?, ?)', ['lone', 'a\uD800b']],
          ['cast', 'v', "INSERT INTO vals(id, v) VALUES (?, CAST(x'ff41c3' AS TEXT))", ['cast']],
          ['key', 'id', "INSERT INTO vals(id, v) VALUES (CAST(x'6bff' AS TEXT), 1)", []],
        ];
        for (const [name, column, sql, params] of bad) {
          const stored = source.replica.dump();
          source.run(sql, params);
          for (const read of [
            () => source.replica.changesSince(cursor),
            () => source.replica.changesetSince(cursor),
            () => source.replica.dump(),
          ]) {
            expect(thrownBy(read), name).toMatchObject({
              type: 'InvalidTextError',
              table: 'vals',
              column,
            });
          }
          // A key is the row's identity even after a delete: only values can be repaired.
          if (column === 'id') continue;
          // Rewritten as a BLOB the row syncs, byte for byte.
          source.run(`UPDATE vals SET ${column} = CAST(${column} AS BLOB) WHERE id = ?`, [name]);
          sink.replica.applyChanges(source.replica.changesetSince(cursor).bytes);
          expect(sink.all(exact), name).toEqual(source.all(exact));
          expect(sink.replica.dump(), name).not.toEqual(stored);
          expect(sink.replica.dump(), name).toEqual(source.replica.dump());
        }
      },
      timeoutMs,
    );

    it(
      'changing only the sign of a zero (0.0 → -0.0) is not a change, on every binding',
      async () => {
        // SQL compares 0.0 and -0.0 equal, and no core SQL function tells them apart (printf,
        // quote and CAST all print 0.0; only the optional math functions could), so capture treats
        // the update as a no-op: a documented limitation, the same on every binding. An INSERT of
        // -0.0 (a new value, not a change of sign) travels exactly: see the round-trip property.
        const a = await harness.peer({ sql: VALUES_SQL, sync: ['vals'] });
        a.run('INSERT INTO vals(id, v) VALUES (?, ?)', ['z', 0]);
        const cursor = a.replica.version;
        a.run('UPDATE vals SET v = ? WHERE id = ?', [-0, 'z']);
        expect(showSqlValue(a.all('SELECT v FROM vals')[0]![0]!)).toBe('REAL -0');
        expect(a.replica.changesSince(cursor).changes).toEqual([]);
        expect(a.replica.version).toBe(cursor);
      },
      timeoutMs,
    );
  });
}

const EDGE_VALUES: readonly SqlValue[] = [
  null,
  ...EDGE_INTEGERS,
  ...EDGE_REALS,
  ...EDGE_TEXTS,
  ...EDGE_BLOBS,
  LARGE_TEXT,
  LARGE_BLOB,
];

/** Writes `value` into every column, inserted and updated, and checks both receivers by bytes. */
function checkRoundTrip(trio: Trio, value: SqlValue): void {
  const { source, viaList, viaBytes } = trio;
  const n = trio.next++;
  const inserted = `insert-${n}`;
  const updated = `update-${n}`;
  const five = [value, value, value, value, value];
  source.run(INSERT, [inserted, ...five]);
  source.run('INSERT INTO vals(id) VALUES (?)', [updated]);
  source.run(UPDATE, [...five, updated]);

  const page = source.replica.changesSince(trio.cursor);
  const changeset = source.replica.changesetSince(trio.cursor);
  expect(changeset.cursor).toBe(page.cursor);
  viaList.replica.applyChanges(page.changes);
  viaBytes.replica.applyChanges(changeset.bytes);
  trio.cursor = page.cursor;

  for (const id of [inserted, updated]) {
    const stored = source.all(SELECT, [id]);
    expect(stored).toHaveLength(1);
    expect(showSqlValue(stored[0]![0]), 'no affinity: the value itself').toBe(
      showSqlValue(storedWithoutAffinity(value)),
    );
    expect(showRows(viaList.all(SELECT, [id])), 'via changesSince').toEqual(showRows(stored));
    expect(showRows(viaBytes.all(SELECT, [id])), 'via changeset bytes').toEqual(showRows(stored));
  }
  const pk = toHex(packPrimaryKey([inserted]));
  const sent = page.changes.filter((change) => toHex(change.pk) === pk && change.column);
  expect(sent.map((change) => `${change.column} ${showSqlValue(change.value)}`)).toEqual(
    COLUMNS.map(
      ([column], i) => `${column} ${showSqlValue(source.all(SELECT, [inserted])[0]![i]!)}`,
    ),
  );
}
