import type { SqliteReplica } from '@offsync/core';
import { exactRows } from './exact-rows.js';
import { toHex } from './show-value.js';

/**
 * Everything a replica's database holds, in a form `toEqual` compares exactly: the replica's
 * version and dump, the schema (tables, indexes, triggers), and every row of every table, OffSync's
 * metadata included. Equal images mean the database is byte for byte the same.
 *
 * @example
 * ```ts
 * const before = databaseImage(replica);
 * expect(() => replica.applyChanges(bad)).toThrow();
 * expect(databaseImage(replica)).toEqual(before);
 * ```
 */
export interface DatabaseImage {
  /** `replica.version`. */
  readonly version: number;
  /** `replica.dump()` in hex. */
  readonly dump: string;
  /** `type name (tbl_name): sql` of every schema object, sorted. */
  readonly schema: readonly string[];
  /** Per table, its rows shown by their stored bytes ({@link exactRows}), sorted. */
  readonly tables: Readonly<Record<string, readonly string[]>>;
}

/**
 * Takes a {@link DatabaseImage} of a replica's database. Reading `version` and `dump` folds
 * pending local writes first, as any replica call does.
 *
 * @example
 * ```ts
 * expect(databaseImage(b)).toEqual(databaseImage(a)); // only if every table is identical
 * ```
 */
export function databaseImage(replica: SqliteReplica): DatabaseImage {
  const version = replica.version;
  const dump = toHex(replica.dump());
  const objects = replica.driver
    .prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'")
    .all();
  const schema = objects
    .map(
      ([type, name, table, sql]) =>
        `${String(type)} ${String(name)} (${String(table)}): ${String(sql)}`,
    )
    .sort();
  const tables: Record<string, readonly string[]> = {};
  for (const [type, name] of objects) {
    if (type !== 'table') continue;
    tables[String(name)] = exactRows(replica.driver, String(name))
      .map((row) => row.join(' | '))
      .sort();
  }
  return { version, dump, schema, tables };
}
