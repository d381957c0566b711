import type { SqlValue } from '../changes/value.js';
import type { SqliteDriver } from './driver.js';
import { SchemaError, SchemaMismatchError } from './errors.js';

/**
 * One column of a table, as SQLite declares it.
 *
 * @example
 * ```ts
 * const id: ColumnSchema = { name: 'id', type: 'TEXT', notNull: true, defaultValue: null, primaryKey: 1 };
 * ```
 */
export interface ColumnSchema {
  /** Column name. */
  readonly name: string;
  /** Declared type, as written (`''` when none). */
  readonly type: string;
  /** Declared NOT NULL. */
  readonly notNull: boolean;
  /** The DEFAULT expression's text, or `null` when there is none. */
  readonly defaultValue: string | null;
  /** Position in the primary key, 1-based; 0 when not part of it. */
  readonly primaryKey: number;
}

/**
 * A table's schema: what its fingerprint covers.
 *
 * @example
 * ```ts
 * const schema = readTableSchema(driver, 'todos');
 * schema.primaryKey; // ['id']
 * ```
 */
export interface TableSchema {
  /** Table name. */
  readonly name: string;
  /** Stored columns in declaration order (generated columns are not synced and not listed). */
  readonly columns: readonly ColumnSchema[];
  /** Primary-key column names in key order. */
  readonly primaryKey: readonly string[];
  /** Non-key column names in declaration order: the synced values. */
  readonly valueColumns: readonly string[];
  /** The key is SQLite's rowid alias (a single `INTEGER PRIMARY KEY` on a rowid table). */
  readonly rowidKey: boolean;
}

/** Prefix reserved for OffSync's own tables and triggers. */
export const RESERVED_PREFIX = 'offsync_';

function text(value: SqlValue): string {
  return value === null ? '' : String(value);
}

/**
 * Reads a table's schema; throws {@link SchemaError} `no-such-table` if there is none.
 *
 * @example
 * ```ts
 * const schema = readTableSchema(driver, 'todos');
 * ```
 */
export function readTableSchema(driver: SqliteDriver, table: string): TableSchema {
  const rows = driver
    .prepare(
      'SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid',
    )
    .all([table]);
  if (rows.length === 0) {
    throw new SchemaError(
      table,
      'no-such-table',
      'there is no such table',
      'create the table before enabling sync',
    );
  }
  const columns: ColumnSchema[] = rows
    .filter((row) => Number(row[5]) === 0)
    .map((row) => ({
      name: text(row[0]!),
      type: text(row[1]!),
      notNull: Number(row[2]) === 1,
      defaultValue: row[3] === null ? null : text(row[3]!),
      primaryKey: Number(row[4]),
    }));
  const primaryKey = columns
    .filter((column) => column.primaryKey > 0)
    .sort((a, b) => a.primaryKey - b.primaryKey)
    .map((column) => column.name);
  const definition = driver
    .prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?")
    .all([table])[0]?.[0];
  const withoutRowid = /\)\s*(STRICT\s*,\s*)?WITHOUT\s+ROWID\b/i.test(text(definition ?? null));
  const keyColumn =
    primaryKey.length === 1 ? columns.find((column) => column.name === primaryKey[0]) : undefined;
  return {
    name: table,
    columns,
    primaryKey,
    valueColumns: columns.filter((column) => column.primaryKey === 0).map((column) => column.name),
    rowidKey:
      !withoutRowid && keyColumn !== undefined && keyColumn.type.toUpperCase() === 'INTEGER',
  };
}

/**
 * Options of `enableSync`: the checks a table may be excused from, knowingly.
 *
 * @example
 * ```ts
 * replica.enableSync('items', { allowIntegerPrimaryKey: true });
 * ```
 */
export interface EnableSyncOptions {
  /**
   * Accept a rowid `INTEGER PRIMARY KEY`. Two devices that insert offline pick the same next id
   * and their rows collide (last writer wins the whole row): only for keys assigned centrally.
   */
  readonly allowIntegerPrimaryKey?: boolean;
  /**
   * Accept FOREIGN KEY constraints. Remote changes arrive in any order and a concurrent delete
   * can orphan a child row, so a batch can be refused by the constraint; checks are deferred to
   * the end of each applied batch.
   */
  readonly allowForeignKeys?: boolean;
}

/**
 * Checks that a table can be synced; throws {@link SchemaError} naming the column and the fix.
 *
 * @example
 * ```ts
 * checkSyncable(driver, readTableSchema(driver, 'todos'), {});
 * ```
 */
export function checkSyncable(
  driver: SqliteDriver,
  schema: TableSchema,
  options: EnableSyncOptions,
): void {
  const table = schema.name;
  if (
    table.toLowerCase().startsWith(RESERVED_PREFIX) ||
    table.toLowerCase().startsWith('sqlite_')
  ) {
    throw new SchemaError(
      table,
      'reserved-name',
      `names starting with ${RESERVED_PREFIX} or sqlite_ are reserved`,
      'rename the table',
    );
  }
  if (schema.primaryKey.length === 0) {
    throw new SchemaError(
      table,
      'no-primary-key',
      'it has no primary key, so rows have no identity across devices',
      'declare a PRIMARY KEY (a TEXT uuid is the usual choice)',
    );
  }
  for (const column of schema.columns) {
    if (column.primaryKey > 0 && !column.notNull && !schema.rowidKey) {
      throw new SchemaError(
        table,
        'nullable-primary-key',
        'a primary-key column accepts NULL (SQLite allows it outside INTEGER PRIMARY KEY)',
        `declare ${column.name} NOT NULL`,
        column.name,
      );
    }
    if (column.primaryKey === 0 && column.notNull && column.defaultValue === null) {
      throw new SchemaError(
        table,
        'not-null-without-default',
        'it is NOT NULL without a DEFAULT, so a row that arrives column by column cannot be written',
        `give ${column.name} a DEFAULT or drop its NOT NULL`,
        column.name,
      );
    }
  }
  checkKeyAffinity(driver, schema);
  if (schema.rowidKey && !options.allowIntegerPrimaryKey) {
    throw new SchemaError(
      table,
      'integer-primary-key',
      'its key is an INTEGER PRIMARY KEY (the rowid): devices inserting offline choose the same ids and collide',
      `use a TEXT key holding a uuid, or pass { allowIntegerPrimaryKey: true } if ids are assigned centrally`,
      schema.primaryKey[0],
    );
  }
  for (const index of driver
    .prepare('SELECT name, "unique", origin FROM pragma_index_list(?)')
    .all([table])) {
    const [name, unique, origin] = index;
    if (Number(unique) === 1 && origin !== 'pk') {
      const columns = driver
        .prepare('SELECT name FROM pragma_index_info(?) ORDER BY seqno')
        .all([name!])
        .map((row) => text(row[0]!));
      throw new SchemaError(
        table,
        'unique-constraint',
        `a UNIQUE constraint on (${columns.join(', ')}) can be violated by merging concurrent inserts, which would block sync`,
        'drop the UNIQUE constraint (enforce uniqueness in the app, or make it the primary key)',
        columns.length === 1 ? columns[0] : undefined,
      );
    }
    if (origin === 'pk') {
      for (const column of driver
        .prepare('SELECT name, coll FROM pragma_index_xinfo(?) WHERE key = 1')
        .all([name!])) {
        if (text(column[1]!).toUpperCase() !== 'BINARY') {
          throw new SchemaError(
            table,
            'primary-key-collation',
            `primary-key column uses COLLATE ${text(column[1]!)}, so keys that differ only by case would merge into one row on some devices`,
            'use the default BINARY collation on primary-key columns',
            text(column[0]!),
          );
        }
      }
    }
  }
  const foreignKeys = driver
    .prepare('SELECT "table", "from" FROM pragma_foreign_key_list(?)')
    .all([table]);
  if (foreignKeys.length > 0 && !options.allowForeignKeys) {
    const [parent, from] = foreignKeys[0]!;
    throw new SchemaError(
      table,
      'foreign-key',
      `column ${text(from!)} references ${text(parent!)}: changes arrive in any order and a concurrent delete can orphan a row, which the constraint would refuse`,
      `drop the FOREIGN KEY, or pass { allowForeignKeys: true } to accept that such batches are refused`,
      text(from!),
    );
  }
}

// SQLite's column affinity for a declared type ("Determination Of Column Affinity", in order).
function columnAffinity(declaredType: string): 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC' {
  const type = declaredType.toUpperCase();
  if (type.includes('INT')) return 'INTEGER';
  if (type.includes('CHAR') || type.includes('CLOB') || type.includes('TEXT')) return 'TEXT';
  if (type.includes('BLOB') || type === '') return 'BLOB';
  if (type.includes('REAL') || type.includes('FLOA') || type.includes('DOUB')) return 'REAL';
  return 'NUMERIC';
}

// A key column that stores values as given (BLOB affinity, or ANY in a STRICT table) holds REAL
// 2.0 and INTEGER 2 as equal keys of different storage class: an UPDATE from one to the other is
// no change to SQLite (so no trigger sees it) yet packs to a different key, and replicas keep
// different rows. Every other affinity converts such values to one storage class (measured on
// INTEGER, REAL, NUMERIC and TEXT, -0.0 included). A STRICT BLOB column accepts only BLOBs.
function checkKeyAffinity(driver: SqliteDriver, schema: TableSchema): void {
  const definition = driver
    .prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?")
    .all([schema.name])[0]?.[0];
  const strict = /\)\s*(WITHOUT\s+ROWID\s*,\s*)?STRICT\s*(,\s*WITHOUT\s+ROWID\s*)?;?\s*$/i.test(
    text(definition ?? null),
  );
  for (const column of schema.columns) {
    if (column.primaryKey === 0) continue;
    const type = column.type.trim().toUpperCase();
    const loose = strict ? type === 'ANY' : columnAffinity(type) === 'BLOB';
    if (!loose) continue;
    throw new SchemaError(
      schema.name,
      'primary-key-affinity',
      `primary-key column ${column.name} is declared ${type === '' ? 'without a type' : type}, so it keeps REAL 2.0 and INTEGER 2 as one key in two storage classes, which replicas would hold apart`,
      `declare ${column.name} TEXT or INTEGER (for binary keys: BLOB in a STRICT table)`,
      column.name,
    );
  }
}

/**
 * The canonical text of what a fingerprint covers: column names, declared types, key order,
 * NOT NULL and defaults, in declaration order.
 *
 * @example
 * ```ts
 * canonicalSchema(schema); // '[["id","TEXT",1,null,1],["title","TEXT",0,null,0]]'
 * ```
 */
export function canonicalSchema(schema: TableSchema): string {
  return JSON.stringify(
    schema.columns.map((column) => [
      column.name,
      column.type.toUpperCase(),
      column.notNull ? 1 : 0,
      column.defaultValue,
      column.primaryKey,
    ]),
  );
}

/**
 * A short stable fingerprint of a schema: `'v1:'` + 16 hex digits of FNV-1a/64 over
 * {@link canonicalSchema}. Equal schemas give equal fingerprints on every platform.
 *
 * @example
 * ```ts
 * schemaFingerprint(schema); // 'v1:3b9c0f2a7d41e605'
 * ```
 */
export function schemaFingerprint(schema: TableSchema): string {
  return `v1:${fnv1a64(canonicalSchema(schema))}`;
}

function fnv1a64(input: string): string {
  const bytes = new TextEncoder().encode(input);
  let hash = 0xcbf29ce484222325n;
  for (const byte of bytes) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffff_ffff_ffff_ffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

/**
 * Describes how two versions of a table's schema differ (for {@link SchemaMismatchError}), or
 * `undefined` when they are the same. `remote` is the other side's {@link canonicalSchema}.
 *
 * @example
 * ```ts
 * describeSchemaDifference(local, remoteCanonical); // { column: 'done', text: 'column done: local INTEGER, remote TEXT' }
 * ```
 */
export function describeSchemaDifference(
  local: TableSchema,
  remote: string,
): { readonly text: string; readonly column: string | undefined } | undefined {
  if (canonicalSchema(local) === remote) return undefined;
  let remoteColumns: [string, string, number, string | null, number][];
  try {
    remoteColumns = JSON.parse(remote);
    if (!Array.isArray(remoteColumns)) throw new Error('not an array');
  } catch {
    return { text: 'the remote schema description is unreadable', column: undefined };
  }
  const localColumns = JSON.parse(canonicalSchema(local)) as typeof remoteColumns;
  const remoteByName = new Map(remoteColumns.map((column) => [column[0], column]));
  const localByName = new Map(localColumns.map((column) => [column[0], column]));
  for (const column of localColumns) {
    if (!remoteByName.has(column[0]))
      return { text: `column ${column[0]} exists locally but not remotely`, column: column[0] };
  }
  for (const column of remoteColumns) {
    if (!localByName.has(column[0]))
      return { text: `column ${column[0]} exists remotely but not locally`, column: column[0] };
  }
  const fields = ['name', 'declared type', 'NOT NULL', 'default', 'primary-key position'];
  for (const column of localColumns) {
    const other = remoteByName.get(column[0])!;
    for (let i = 1; i < fields.length; i++) {
      if (JSON.stringify(column[i]) !== JSON.stringify(other[i])) {
        return {
          text: `column ${column[0]} ${fields[i]}: local ${JSON.stringify(column[i])}, remote ${JSON.stringify(other[i])}`,
          column: column[0],
        };
      }
    }
  }
  return { text: 'columns are declared in a different order', column: undefined };
}

/**
 * Throws {@link SchemaMismatchError} unless `remote` (a canonical schema) matches `local`.
 *
 * @example
 * ```ts
 * assertSameSchema(localSchema, hello.schemas.todos);
 * ```
 */
export function assertSameSchema(
  local: TableSchema,
  remote: string,
  remoteFingerprint: string,
): void {
  const difference = describeSchemaDifference(local, remote);
  if (difference) {
    throw new SchemaMismatchError(
      local.name,
      schemaFingerprint(local),
      remoteFingerprint,
      difference.text,
      difference.column,
    );
  }
}
