import type { SqliteDriver } from './driver.js';
import type { TableSchema } from './schema.js';
import { quoteIdentifier } from './sql.js';

/** Bits used per mask column of the change log (SQLite integers are signed 64-bit). */
export const MASK_BITS = 62;

/** Log operation codes written by the triggers. */
export const LogOp = { Insert: 1, Update: 2, Delete: 3 } as const;

/**
 * Names and column lists of a synced table's shadow tables and triggers. The change log
 * (`offsync_log_<id>`) receives one row per captured write; the metadata table
 * (`offsync_meta_<id>`) holds each row's causal length and clocks, indexed by sequence.
 *
 * @example
 * ```ts
 * const shadow = shadowNames(7, schema);
 * shadow.meta; // '"offsync_meta_7"'
 * ```
 */
export interface ShadowNames {
  /** Quoted base table name. */
  readonly table: string;
  /** Quoted log table name. */
  readonly log: string;
  /** Quoted metadata table name. */
  readonly meta: string;
  /** Quoted name of the metadata index on `seq`. */
  readonly seqIndex: string;
  /** Quoted key columns of the shadow tables (`k0`, `k1`, ...). */
  readonly keys: readonly string[];
  /** Quoted primary-key columns of the base table, in key order. */
  readonly baseKeys: readonly string[];
  /** Quoted mask columns of the log (`m0`, ...). */
  readonly masks: readonly string[];
  /** Trigger names, unquoted. */
  readonly triggers: readonly string[];
}

/**
 * The shadow names of table `id` with schema `schema`, for `valueColumnCount` synced columns.
 *
 * @example
 * ```ts
 * const shadow = shadowNames(1, schema, schema.valueColumns.length);
 * ```
 */
export function shadowNames(
  id: number,
  schema: TableSchema,
  valueColumnCount: number,
): ShadowNames {
  return {
    table: quoteIdentifier(schema.name),
    log: quoteIdentifier(`offsync_log_${id}`),
    meta: quoteIdentifier(`offsync_meta_${id}`),
    seqIndex: quoteIdentifier(`offsync_meta_${id}_by_seq`),
    keys: schema.primaryKey.map((_, i) => `k${i}`),
    baseKeys: schema.primaryKey.map(quoteIdentifier),
    masks: Array.from(
      { length: Math.max(1, Math.ceil(valueColumnCount / MASK_BITS)) },
      (_, i) => `m${i}`,
    ),
    triggers: ['insert', 'update', 'rekey', 'delete'].map((kind) => `offsync_${id}_${kind}`),
  };
}

/**
 * Creates the log and metadata tables of a synced table.
 *
 * @example
 * ```ts
 * createShadowTables(driver, shadow, schema);
 * ```
 */
export function createShadowTables(
  driver: SqliteDriver,
  shadow: ShadowNames,
  schema: TableSchema,
): void {
  const keyTypes = schema.primaryKey.map(
    (name) => schema.columns.find((column) => column.name === name)!.type,
  );
  // The metadata key keeps the base key's declared type, so SQLite applies the same affinity to
  // both; a rowid key stays a rowid (no second copy of the key).
  const metaKeys = schema.rowidKey
    ? 'k0 INTEGER PRIMARY KEY'
    : shadow.keys.map((key, i) => `${key} ${keyTypes[i] ?? ''} NOT NULL`).join(', ');
  const metaPrimaryKey = schema.rowidKey ? '' : `, PRIMARY KEY(${shadow.keys.join(', ')})`;
  driver.exec(`
    CREATE TABLE IF NOT EXISTS ${shadow.log}(
      id INTEGER PRIMARY KEY,
      op INTEGER NOT NULL,
      w INTEGER,
      ${shadow.masks.map((mask) => `${mask} INTEGER`).join(', ')},
      ${shadow.keys.join(', ')}
    );
    CREATE TABLE IF NOT EXISTS ${shadow.meta}(
      ${metaKeys},
      cl INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      sid INTEGER NOT NULL,
      dseq INTEGER,
      clocks BLOB${metaPrimaryKey}
    )${schema.rowidKey ? '' : ' WITHOUT ROWID'};
    CREATE INDEX IF NOT EXISTS ${shadow.seqIndex} ON ${shadow.meta}(seq);
  `);
}

/**
 * SQLite's wall time in Unix milliseconds, as the triggers record it with each log entry. It is
 * built from `julianday('now')` because that works on every SQLite version we support and on any
 * connection (a trigger cannot call a user-defined function: another connection may not have
 * it), and SQLite keeps `'now'` fixed within one statement, so a bulk statement shares one time.
 * `+ 0.5` rounds the double back to the millisecond it came from.
 *
 * @example
 * ```ts
 * driver.prepare(`SELECT ${WRITE_TIME_SQL}`).all(); // [[1733270400123n]]
 * ```
 */
export const WRITE_TIME_SQL = `CAST((julianday('now') - 2440587.5) * 86400000 + 0.5 AS INTEGER)`;

/**
 * Creates the capture triggers. They only append to the log (op, write time, changed-column
 * masks, key), so an app's write pays one small append; metadata is folded in bulk later, and
 * stamped with the time each write was made, not the time of the fold. They carry no "applying
 * remote changes" test (it cost every local write a subquery): a merge instead deletes the log
 * entries its own writes produced, in the same transaction.
 *
 * An UPDATE records which columns changed, compared by bytes and storage class (so `'a'` → `'A'`
 * under NOCASE and `2` → `2.0` both count); one that changes nothing records a zero mask, which the
 * fold ignores. An UPDATE of the key is a delete of the old key and an insert of the new one (keys
 * have BINARY collation, checked by `enableSync`, so `IS` compares them exactly).
 *
 * @example
 * ```ts
 * createTriggers(driver, shadow, schema.columns.filter((column) => column.primaryKey === 0));
 * ```
 */
export function createTriggers(
  driver: SqliteDriver,
  shadow: ShadowNames,
  valueColumns: readonly { readonly name: string; readonly type: string }[],
): void {
  const [insert, update, rekey, remove] = shadow.triggers.map(quoteIdentifier);
  const changed = (column: string, type: string): string =>
    keepsStorageClass(type)
      ? `(NEW.${column} IS NOT OLD.${column} COLLATE BINARY)`
      : `(NEW.${column} IS NOT OLD.${column} COLLATE BINARY OR typeof(NEW.${column}) <> typeof(OLD.${column}))`;
  const sameKey = shadow.baseKeys.map((key) => `NEW.${key} IS OLD.${key}`).join(' AND ');
  const keyList = shadow.keys.join(', ');
  const newKey = shadow.baseKeys.map((key) => `NEW.${key}`).join(', ');
  const oldKey = shadow.baseKeys.map((key) => `OLD.${key}`).join(', ');
  const maskExpressions = shadow.masks.map((_, chunk) => {
    const bits = valueColumns
      .slice(chunk * MASK_BITS, (chunk + 1) * MASK_BITS)
      .map((column, bit) => `(${changed(quoteIdentifier(column.name), column.type)} << ${bit})`);
    return bits.length === 0 ? '0' : bits.join(' | ');
  });
  const w = WRITE_TIME_SQL;
  driver.exec(`
    CREATE TRIGGER ${insert} AFTER INSERT ON ${shadow.table}
    BEGIN
      INSERT INTO ${shadow.log}(op, w, ${keyList}) VALUES (${LogOp.Insert}, ${w}, ${newKey});
    END;
    CREATE TRIGGER ${update} AFTER UPDATE ON ${shadow.table} WHEN ${sameKey}
    BEGIN
      INSERT INTO ${shadow.log}(op, w, ${shadow.masks.join(', ')}, ${keyList})
        VALUES (${LogOp.Update}, ${w}, ${maskExpressions.join(', ')}, ${newKey});
    END;
    CREATE TRIGGER ${rekey} AFTER UPDATE ON ${shadow.table} WHEN NOT (${sameKey})
    BEGIN
      INSERT INTO ${shadow.log}(op, w, ${keyList}) VALUES (${LogOp.Delete}, ${w}, ${oldKey});
      INSERT INTO ${shadow.log}(op, w, ${keyList}) VALUES (${LogOp.Insert}, ${w}, ${newKey});
    END;
    CREATE TRIGGER ${remove} AFTER DELETE ON ${shadow.table}
    BEGIN
      INSERT INTO ${shadow.log}(op, w, ${keyList}) VALUES (${LogOp.Delete}, ${w}, ${oldKey});
    END;
  `);
}

/**
 * Whether a column's type affinity makes equal values share a storage class, so `IS NOT` alone
 * sees every change: INTEGER, REAL, NUMERIC and TEXT affinity turn `2.0` and `2` into one class.
 * Only columns without affinity (no declared type, BLOB, or STRICT's ANY) can hold both `2` and
 * `2.0`, which compare equal, and need the storage class compared too (the trigger is leaner
 * without it: `write.update` measures it).
 *
 * @example
 * ```ts
 * keepsStorageClass('INTEGER'); // true
 * keepsStorageClass(''); // false
 * ```
 */
export function keepsStorageClass(declaredType: string): boolean {
  const type = declaredType.toUpperCase();
  if (type.includes('INT')) return true;
  if (type.includes('CHAR') || type.includes('CLOB') || type.includes('TEXT')) return true;
  if (type === '' || type.includes('BLOB') || type === 'ANY') return false;
  return true;
}

/**
 * Drops the capture triggers (for an ALTER TABLE, or when sync is disabled).
 *
 * @example
 * ```ts
 * dropTriggers(driver, shadow);
 * ```
 */
export function dropTriggers(driver: SqliteDriver, shadow: ShadowNames): void {
  driver.exec(
    shadow.triggers.map((name) => `DROP TRIGGER IF EXISTS ${quoteIdentifier(name)};`).join('\n'),
  );
}

/**
 * Drops the triggers, the log and the metadata of a table. The table's data is left alone.
 *
 * @example
 * ```ts
 * dropShadowTables(driver, shadow);
 * ```
 */
export function dropShadowTables(driver: SqliteDriver, shadow: ShadowNames): void {
  dropTriggers(driver, shadow);
  driver.exec(`DROP TABLE IF EXISTS ${shadow.log}; DROP TABLE IF EXISTS ${shadow.meta};`);
}
