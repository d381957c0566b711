import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigrationError, ProtocolError, parseMigration, type SqliteReplica } from '@offsync/core';
import { decodeMessage, encodeMessage } from '@offsync/core/codec';
import { describe, expect, it } from 'vitest';
import {
  dumpHex,
  openClientReplica,
  type ReplicaKind,
  run,
  tableRows,
} from './support/replicas.js';

// replica.migrate on both SQLite bindings: the same file gives byte-equal schemas and
// fingerprints on every replica, a failing migration changes nothing (schema, rows, metadata,
// capture), and only schema statements are accepted.

const SCHEMA = `
  CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT, done INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, body TEXT, color TEXT);
`;
const KINDS: readonly ReplicaKind[] = ['native', 'wasm'];

async function replicaOf(kind: ReplicaKind): Promise<SqliteReplica> {
  const replica = await openClientReplica(kind, SCHEMA, ['todos', 'notes']);
  run(replica, "INSERT INTO todos(id, title) VALUES ('t1', 'milk'), ('t2', 'eggs')");
  run(replica, "INSERT INTO notes(id, body, color) VALUES ('n1', 'hi', 'red')");
  return replica;
}

function schemaText(replica: SqliteReplica): string[] {
  return replica.driver
    .prepare(
      "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'offsync%' ORDER BY name",
    )
    .all()
    .map((row) => row.map(String).join(' | '));
}

function snapshot(replica: SqliteReplica): unknown {
  return {
    schema: schemaText(replica),
    todos: tableRows(replica, 'todos'),
    notes: tableRows(replica, 'notes'),
    fingerprints: replica.syncedTables().map((table) => replica.tableInfo(table).fingerprint),
    dump: dumpHex(replica),
    version: replica.version,
  };
}

const MIGRATION = `
  -- 0002: due dates, and notes lose their colour
  ALTER TABLE todos ADD COLUMN due TEXT;
  CREATE INDEX todos_due ON todos(due);
  ALTER TABLE notes DROP COLUMN color;
  ALTER TABLE notes RENAME COLUMN body TO text;
  CREATE TABLE tags(id TEXT PRIMARY KEY NOT NULL, label TEXT);
`;

describe('replica.migrate', () => {
  it('gives the same schema and fingerprints on better-sqlite3 and sql.js, and reports each change', async () => {
    const [native, wasm] = await Promise.all(KINDS.map(replicaOf));
    const before = native!.tableInfo('todos').fingerprint;
    const a = native!.migrate(MIGRATION);
    const b = wasm!.migrate(MIGRATION);
    expect(a).toEqual(b);
    expect(a.applied).toBe(true);
    expect(a.tables.map(({ table, kind, previous }) => ({ table, kind, previous }))).toEqual([
      { table: 'notes', kind: 'destructive', previous: expect.stringMatching(/^v1:/) },
      { table: 'todos', kind: 'additive', previous: before },
    ]);
    expect(schemaText(native!)).toEqual(schemaText(wasm!));
    for (const table of ['todos', 'notes']) {
      expect(native!.tableInfo(table).canonical).toBe(wasm!.tableInfo(table).canonical);
      expect(native!.tableInfo(table).fingerprint).toBe(wasm!.tableInfo(table).fingerprint);
    }
    // The rename kept the column's history: the old value is a change of column `text` now.
    const renamed = native!.changesSince(0).changes.filter((change) => change.table === 'notes');
    expect(renamed.map((change) => change.column)).toEqual([null, 'text']);
    // Writes after the migration are captured, new column included.
    run(native!, "UPDATE todos SET due = '2027-01-01' WHERE id = 't1'");
    const later = native!.changesSince(native!.version - 1).changes;
    expect(later.map((change) => [change.column, change.value])).toEqual([['due', '2027-01-01']]);
    // The same file again does nothing.
    expect(native!.migrate(MIGRATION)).toEqual({ applied: false, tables: [] });
    native!.close();
    wasm!.close();
  });

  it.each(KINDS)(
    'leaves schema, rows, metadata and capture untouched when a statement fails (%s)',
    async (kind) => {
      const replica = await replicaOf(kind);
      const before = snapshot(replica);
      const failing = [
        // SQLite refuses the second statement: the first must be undone with it.
        'ALTER TABLE todos ADD COLUMN due TEXT; ALTER TABLE todos ADD COLUMN due TEXT',
        // A UNIQUE index would block sync: refused when the table's schema is taken up.
        'ALTER TABLE todos ADD COLUMN code TEXT; CREATE UNIQUE INDEX todos_code ON todos(code)',
        // Renaming the key changes the primary key.
        'ALTER TABLE notes ADD COLUMN x TEXT; ALTER TABLE notes RENAME COLUMN id TO key',
        'ALTER TABLE todos ADD COLUMN due TEXT; ALTER TABLE missing ADD COLUMN x TEXT',
      ];
      const codes: string[] = [];
      for (const sql of failing) {
        try {
          replica.migrate(sql);
          codes.push('applied');
        } catch (error) {
          expect(error).toBeInstanceOf(MigrationError);
          codes.push((error as MigrationError).code);
        }
        expect(snapshot(replica)).toEqual(before);
      }
      expect(codes).toEqual(['statement-failed', 'schema', 'schema', 'unknown-table']);
      // Capture still works and the replica still migrates.
      run(replica, "UPDATE todos SET title = 'oat milk' WHERE id = 't1'");
      expect(replica.changesSince(replica.version - 1).changes.map((c) => c.value)).toEqual([
        'oat milk',
      ]);
      expect(replica.migrate('ALTER TABLE todos ADD COLUMN due TEXT').applied).toBe(true);
      replica.close();
    },
  );

  it('refuses anything but schema statements, naming the statement', async () => {
    const replica = await replicaOf('native');
    const before = snapshot(replica);
    const refused: [string, string, number | undefined][] = [
      ['', 'empty', undefined],
      ['-- only a comment\n;', 'empty', undefined],
      ["ALTER TABLE todos ADD COLUMN due TEXT DEFAULT 'x", 'parse', 1],
      ['ALTER TABLE todos ADD COLUMN due TEXT /* open', 'parse', undefined],
      ['ALTER TABLE todos ADD COLUMN due TEXT; DELETE FROM todos', 'statement-not-allowed', 2],
      ['UPDATE todos SET done = 1', 'statement-not-allowed', 1],
      ['DROP TABLE notes', 'statement-not-allowed', 1],
      ['INSERT INTO todos(id) VALUES (1)', 'statement-not-allowed', 1],
      ['CREATE TRIGGER t AFTER INSERT ON todos BEGIN SELECT 1; END', 'statement-not-allowed', 1],
      ['PRAGMA writable_schema = 1', 'statement-not-allowed', 1],
      ['ATTACH DATABASE "x.db" AS x', 'statement-not-allowed', 1],
      ['ALTER TABLE other.todos ADD COLUMN due TEXT', 'statement-not-allowed', 1],
      ['ALTER TABLE todos RENAME TO tasks', 'rename-synced-table', 1],
      ['ALTER TABLE todos ALTER COLUMN title INTEGER', 'parse', 1],
    ];
    for (const [sql, code, statement] of refused) {
      let caught: unknown;
      try {
        replica.migrate(sql);
      } catch (error) {
        caught = error;
      }
      expect(caught, sql).toBeInstanceOf(MigrationError);
      expect({ sql, code: (caught as MigrationError).code }).toEqual({ sql, code });
      expect((caught as MigrationError).statement).toBe(statement);
    }
    expect(snapshot(replica)).toEqual(before);
    replica.close();
  });

  it('reads quoted names, comments and schema-qualified tables', () => {
    expect(
      parseMigration(`
        ALTER TABLE "my ""odd"" table" ADD COLUMN [due date] TEXT DEFAULT ';';
        /* a ; in a comment */ ALTER TABLE main.todos RENAME COLUMN \`title\` TO "name";
        CREATE UNIQUE INDEX IF NOT EXISTS i ON todos(name);
        create table if not exists tags(id text primary key not null)
      `).map(({ action, table, from, to }) => ({ action, table, from, to })),
    ).toEqual([
      { action: 'add-column', table: 'my "odd" table', from: undefined, to: 'due date' },
      { action: 'rename-column', table: 'todos', from: 'title', to: 'name' },
      { action: 'create-index', table: 'todos', from: undefined, to: undefined },
      { action: 'create-table', table: 'tags', from: undefined, to: undefined },
    ]);
  });

  it('docs/migrations.md shows the SQL of the files its worked example runs', () => {
    const docs = join(import.meta.dirname, '../../../docs');
    const guide = readFileSync(join(docs, 'migrations.md'), 'utf8');
    const blocks = [...guide.matchAll(/```sql\n([\s\S]*?)```/g)].map((match) => match[1]!.trim());
    for (const file of ['0001-todos.sql', '0002-due-dates.sql', '0003-plain-notes.sql']) {
      expect(guide).toContain(`(migrations/${file})`);
      const statements = readFileSync(join(docs, 'migrations', file), 'utf8')
        .split('\n')
        .filter((line) => !line.startsWith('--'))
        .join('\n')
        .trim();
      expect(blocks).toContain(statements);
    }
  });

  it('decodes the migration fields of sync messages totally', () => {
    const welcome = {
      type: 'welcome',
      id: 1,
      serverSite: 'ab',
      serverVersion: 3,
      acked: 0,
      tables: ['todos'],
      refused: {},
      filtered: false,
      resync: false,
      migration: 2,
      upgrades: [{ table: 'todos', fingerprint: 'v1:00', kind: 'additive', migration: 2 }],
    } as const;
    expect(decodeMessage(encodeMessage(welcome))).toEqual(welcome);
    const pull = {
      type: 'pull',
      id: 2,
      site: 'ab',
      cursor: 0,
      limit: 10,
      tables: ['todos'],
      pending: 0,
      fingerprints: { todos: 'v1:00' },
    } as const;
    expect(decodeMessage(encodeMessage(pull))).toEqual(pull);
    const notify = { type: 'notify', id: 0, serverVersion: 4, migration: 1 } as const;
    expect(decodeMessage(encodeMessage(notify))).toEqual(notify);
    const forged: Record<string, unknown>[] = [
      { ...welcome, migration: -1 },
      { ...welcome, migration: '2' },
      { ...welcome, upgrades: {} },
      { ...welcome, upgrades: [{ ...welcome.upgrades[0], kind: 'sideways' }] },
      { ...welcome, upgrades: [{ ...welcome.upgrades[0], migration: 1.5 }] },
      { ...welcome, upgrades: [{ table: 'todos' }] },
      { ...pull, fingerprints: ['v1:00'] },
      { ...pull, fingerprints: { todos: 7 } },
      { ...notify, migration: null },
    ];
    for (const message of forged) {
      const bytes = encodeMessage(message as unknown as Parameters<typeof encodeMessage>[0]);
      expect(() => decodeMessage(bytes), JSON.stringify(message)).toThrow(ProtocolError);
    }
  });
});
