import type { EnableSyncOptions, SchemaProblem } from '@offsync/core';
import { describe, expect, it } from 'vitest';
import type { ResolvedOptions } from '../conformance-options.js';
import { databaseImage } from '../database-image.js';
import { thrownBy } from '../expect-error.js';
import type { Harness } from '../harness.js';
import { showRows } from '../show-value.js';
import { expected, showChange } from './todos.js';

interface RefusalCase {
  readonly problem: SchemaProblem;
  readonly sql: string;
  readonly table: string;
  readonly column: string | undefined;
  /** The option that accepts the table anyway. */
  readonly allow?: EnableSyncOptions;
}

const REFUSALS: readonly RefusalCase[] = [
  { problem: 'no-such-table', sql: '', table: 'nope', column: undefined },
  {
    problem: 'reserved-name',
    sql: 'CREATE TABLE offsync_x(id TEXT PRIMARY KEY NOT NULL, v)',
    table: 'offsync_x',
    column: undefined,
  },
  { problem: 'no-primary-key', sql: 'CREATE TABLE t(a, b)', table: 't', column: undefined },
  {
    problem: 'nullable-primary-key',
    sql: 'CREATE TABLE t(id TEXT PRIMARY KEY, v)',
    table: 't',
    column: 'id',
  },
  {
    problem: 'not-null-without-default',
    sql: 'CREATE TABLE t(id TEXT PRIMARY KEY NOT NULL, v TEXT NOT NULL)',
    table: 't',
    column: 'v',
  },
  {
    problem: 'integer-primary-key',
    sql: 'CREATE TABLE t(id INTEGER PRIMARY KEY, v)',
    table: 't',
    column: 'id',
    allow: { allowIntegerPrimaryKey: true },
  },
  {
    problem: 'unique-constraint',
    sql: 'CREATE TABLE t(id TEXT PRIMARY KEY NOT NULL, email TEXT UNIQUE)',
    table: 't',
    column: 'email',
  },
  {
    problem: 'foreign-key',
    sql: 'CREATE TABLE parent(id TEXT PRIMARY KEY NOT NULL); CREATE TABLE t(id TEXT PRIMARY KEY NOT NULL, parent_id TEXT REFERENCES parent(id))',
    table: 't',
    column: 'parent_id',
    allow: { allowForeignKeys: true },
  },
  {
    problem: 'primary-key-affinity',
    sql: 'CREATE TABLE t(id NOT NULL PRIMARY KEY, v)',
    table: 't',
    column: 'id',
  },
  {
    problem: 'primary-key-affinity',
    sql: 'CREATE TABLE t(a TEXT NOT NULL, b BLOB NOT NULL, v, PRIMARY KEY (a, b)) WITHOUT ROWID',
    table: 't',
    column: 'b',
  },
  {
    problem: 'primary-key-affinity',
    sql: 'CREATE TABLE t(id ANY NOT NULL PRIMARY KEY, v ANY) STRICT',
    table: 't',
    column: 'id',
  },
  {
    problem: 'primary-key-collation',
    sql: 'CREATE TABLE t(id TEXT PRIMARY KEY NOT NULL COLLATE NOCASE, v)',
    table: 't',
    column: 'id',
  },
];

/**
 * `enableSync`'s schema checks (each refusal's exact problem and column, and that a refusal
 * changes nothing), idempotence, existing rows, and `disableSync`.
 *
 * @example
 * ```ts
 * describeSchemaChecks(harness, resolveOptions());
 * ```
 */
export function describeSchemaChecks(harness: Harness, options: ResolvedOptions): void {
  const { timeoutMs } = options;
  const SYNCED = 'CREATE TABLE synced(id TEXT PRIMARY KEY NOT NULL, v)';
  describe('schema checks', () => {
    for (const refusal of REFUSALS) {
      it(
        `refuses ${refusal.problem}${refusal.column ? ` naming column ${refusal.column}` : ''}, and changes nothing`,
        async () => {
          const peer = await harness.peer({ sql: SYNCED, sync: ['synced'] });
          if (refusal.sql) peer.exec(refusal.sql);
          peer.run('INSERT INTO synced VALUES (?, ?)', ['s1', 'kept']);
          const before = databaseImage(peer.replica);
          const error = thrownBy(() => peer.replica.enableSync(refusal.table));
          expect(error).toMatchObject({
            type: 'SchemaError',
            table: refusal.table,
            problem: refusal.problem,
            column: refusal.column,
          });
          expect(String(error.fix)).not.toBe('');
          expect(databaseImage(peer.replica)).toEqual(before);
          expect(peer.replica.syncedTables()).toEqual(['synced']);
          expect(
            peer.all("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?", [
              refusal.table,
            ]),
          ).toEqual([]);
        },
        timeoutMs,
      );
      const allow = refusal.allow;
      if (allow) {
        it(
          `accepts ${refusal.problem} with ${JSON.stringify(allow)}, and syncs the table`,
          async () => {
            const sync = { sql: refusal.sql };
            const a = await harness.peer(sync);
            const b = await harness.peer(sync);
            a.replica.enableSync(refusal.table, allow);
            b.replica.enableSync(refusal.table, allow);
            const id = refusal.problem === 'integer-primary-key' ? 7n : 'r1';
            a.run(`INSERT INTO ${refusal.table}(id) VALUES (?)`, [id]);
            b.replica.applyChanges(a.replica.changesetSince(0).bytes);
            expect(b.rows(refusal.table)).toEqual(a.rows(refusal.table));
            expect(b.rows(refusal.table)).toHaveLength(1);
          },
          timeoutMs,
        );
      }
    }

    it(
      'accepts a WITHOUT ROWID table whose key is implicitly NOT NULL, and a rowid table with a TEXT key',
      async () => {
        const peer = await harness.peer({
          sql: 'CREATE TABLE w(id TEXT PRIMARY KEY, v) WITHOUT ROWID; CREATE TABLE r(id TEXT PRIMARY KEY NOT NULL, v)',
          sync: ['w', 'r'],
        });
        expect(peer.replica.syncedTables()).toEqual(['r', 'w']);
      },
      timeoutMs,
    );

    it(
      'accepts keys of every affinity that gives equal keys one storage class, and they converge byte for byte',
      async () => {
        const declared = ['INTEGER NOT NULL', 'REAL NOT NULL', 'NUMERIC NOT NULL', 'TEXT NOT NULL'];
        for (const type of declared) {
          const sql = `CREATE TABLE k(id ${type} PRIMARY KEY, v) WITHOUT ROWID`;
          const a = await harness.peer({ sql, sync: ['k'] });
          const b = await harness.peer({ sql, sync: ['k'] });
          a.run('INSERT INTO k VALUES (?, ?)', [2.0, 'x']);
          b.replica.applyChanges(a.replica.changesetSince(0).bytes);
          // SQLite holds 2.0 and 2 equal: under these affinities they are also one storage class.
          a.run('UPDATE k SET id = ? WHERE id = ?', [2n, 2.0]);
          a.run('UPDATE k SET v = ? WHERE id = ?', ['y', 2n]);
          b.replica.applyChanges(a.replica.changesetSince(0).bytes);
          const exact = 'SELECT typeof(id), quote(id), typeof(v), hex(v) FROM k ORDER BY id';
          expect(b.all(exact), type).toEqual(a.all(exact));
          expect(b.all(exact), type).toHaveLength(1);
        }
        const strict = 'CREATE TABLE k(id BLOB NOT NULL PRIMARY KEY, v ANY) STRICT';
        const a = await harness.peer({ sql: strict, sync: ['k'] });
        expect(a.replica.syncedTables()).toEqual(['k']);
      },
      timeoutMs,
    );

    it(
      'enableSync is idempotent',
      async () => {
        const peer = await harness.peer({ sql: SYNCED, sync: ['synced'] });
        peer.run('INSERT INTO synced VALUES (?, ?)', ['s1', 'a']);
        const before = databaseImage(peer.replica);
        peer.replica.enableSync('synced');
        expect(databaseImage(peer.replica)).toEqual(before);
        expect(peer.replica.changesSince(0).changes).toHaveLength(2);
      },
      timeoutMs,
    );

    it(
      'records the rows a table already holds as changes when sync is enabled',
      async () => {
        const a = await harness.peer({ sql: SYNCED });
        const b = await harness.peer({ sql: SYNCED, sync: ['synced'] });
        a.run('INSERT INTO synced VALUES (?, ?), (?, ?), (?, ?)', ['x', 1n, 'y', 'two', 'z', null]);
        expect(a.replica.version).toBe(0);
        a.replica.enableSync('synced');
        expect(a.replica.changesSince(0).changes.map(showChange)).toEqual([
          expected('synced', ['x'], null, null, 1),
          expected('synced', ['x'], 'v', 1n, 1),
          expected('synced', ['y'], null, null, 1),
          expected('synced', ['y'], 'v', 'two', 1),
          expected('synced', ['z'], null, null, 1),
          expected('synced', ['z'], 'v', null, 1),
        ]);
        b.replica.applyChanges(a.replica.changesetSince(0).bytes);
        expect(b.rows('synced')).toEqual(a.rows('synced'));
        expect(b.rows('synced')).toEqual([
          ['TEXT "x"', 'INTEGER 1'],
          ['TEXT "y"', 'TEXT "two"'],
          ['TEXT "z"', 'NULL'],
        ]);
      },
      timeoutMs,
    );

    it(
      'disableSync removes the triggers and metadata, keeps the data, and stops capture',
      async () => {
        const peer = await harness.peer({
          sql: `${SYNCED}; CREATE TABLE other(id TEXT PRIMARY KEY NOT NULL, v)`,
          sync: ['synced', 'other'],
        });
        const pristine = await harness.peer({
          sql: `${SYNCED}; CREATE TABLE other(id TEXT PRIMARY KEY NOT NULL, v)`,
          sync: ['other'],
        });
        peer.run('INSERT INTO synced VALUES (?, ?)', ['s1', 'kept']);
        peer.replica.disableSync('synced');
        expect(peer.replica.syncedTables()).toEqual(['other']);
        expect(showRows(peer.all('SELECT * FROM synced'))).toEqual([['TEXT "s1"', 'TEXT "kept"']]);
        const objects = (p: typeof peer): string[] =>
          p
            .all("SELECT type, name FROM sqlite_schema WHERE name LIKE 'offsync%' ORDER BY name")
            .map((row) => `${String(row[0])} ${String(row[1])}`)
            .map((name) => name.replace(/_\d+/g, '_N'));
        expect(objects(peer)).toEqual(objects(pristine));
        expect(
          peer.all("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'synced'"),
        ).toEqual([]);
        expect(peer.all("SELECT name FROM offsync_tables WHERE name = 'synced'")).toEqual([]);
        const version = peer.replica.version;
        peer.run('UPDATE synced SET v = ? WHERE id = ?', ['changed', 's1']);
        expect(peer.replica.version).toBe(version);
        expect(peer.replica.changesSince(0).changes).toEqual([]);
        peer.replica.enableSync('synced');
        expect(peer.replica.changesSince(version).changes.map((change) => change.column)).toEqual([
          null,
          'v',
        ]);
      },
      timeoutMs,
    );
  });
}
