import type { SqlValue } from '../changes/value.js';
import { OffsyncError } from '../errors.js';

/**
 * Why a table cannot be synced.
 *
 * @example
 * ```ts
 * const problem: SchemaProblem = 'nullable-primary-key';
 * ```
 */
export type SchemaProblem =
  | 'no-such-table'
  | 'reserved-name'
  | 'no-primary-key'
  | 'nullable-primary-key'
  | 'primary-key-collation'
  | 'primary-key-affinity'
  | 'not-null-without-default'
  | 'integer-primary-key'
  | 'unique-constraint'
  | 'foreign-key'
  | 'no-value-columns-limit'
  | 'altering'
  | 'schema-drift';

/**
 * A table's schema does not allow sync. Names the table, the column where there is one, the
 * problem and the fix; nothing was changed.
 *
 * @example
 * ```ts
 * try {
 *   replica.enableSync('notes');
 * } catch (error) {
 *   if (error instanceof SchemaError) console.log(error.column, error.fix);
 * }
 * ```
 */
export class SchemaError extends OffsyncError {
  readonly type = 'SchemaError';
  /** The table. */
  readonly table: string;
  /** The offending column, if the problem is one column's. */
  readonly column: string | undefined;
  /** What is wrong. */
  readonly problem: SchemaProblem;
  /** How to fix it. */
  readonly fix: string;

  constructor(table: string, problem: SchemaProblem, detail: string, fix: string, column?: string) {
    super(
      `cannot sync table ${table}${column === undefined ? '' : `, column ${column}`}: ${detail}. Fix: ${fix}`,
    );
    this.table = table;
    this.column = column;
    this.problem = problem;
    this.fix = fix;
  }
}

/**
 * Changes arrived for a table that is not synced on this replica. The batch is refused whole.
 *
 * @example
 * ```ts
 * if (error instanceof NotSyncedError) await replica.enableSync(error.table);
 * ```
 */
export class NotSyncedError extends OffsyncError {
  readonly type = 'NotSyncedError';
  /** The table. */
  readonly table: string;

  constructor(table: string) {
    super(
      `table ${table} is not synced on this replica: enable sync for it (enableSync('${table}')) before exchanging its changes`,
    );
    this.table = table;
  }
}

/**
 * Local and remote schemas of a synced table differ; sync of that table stops until both run the
 * same schema. Names the table, the column where one is at fault, and the difference.
 *
 * @example
 * ```ts
 * if (error instanceof SchemaMismatchError) console.log(error.table, error.difference);
 * ```
 */
export class SchemaMismatchError extends OffsyncError {
  readonly type = 'SchemaMismatchError';
  /** The table. */
  readonly table: string;
  /** The column at fault, when one is. */
  readonly column: string | undefined;
  /** Local schema fingerprint. */
  readonly local: string;
  /** Remote schema fingerprint (or what the remote side sent). */
  readonly remote: string;
  /** Human-readable difference. */
  readonly difference: string;

  constructor(table: string, local: string, remote: string, difference: string, column?: string) {
    super(
      `schema of table ${table} differs between replicas: ${difference} (local ${local}, remote ${remote}); migrate both to the same schema`,
    );
    this.table = table;
    this.column = column;
    this.local = local;
    this.remote = remote;
    this.difference = difference;
  }
}

/**
 * SQLite refused a write while applying remote changes (a CHECK or foreign-key constraint, a
 * STRICT type). The whole batch was rolled back.
 *
 * @example
 * ```ts
 * if (error instanceof ApplyError) console.log(error.table, error.reason);
 * ```
 */
export class ApplyError extends OffsyncError {
  readonly type = 'ApplyError';
  /** The table being written, when known. */
  readonly table: string | undefined;
  /** SQLite's message. */
  readonly reason: string;

  constructor(reason: string, table?: string) {
    super(
      `remote changes were refused${table === undefined ? '' : ` by table ${table}`} and nothing was applied: ${reason}`,
    );
    this.table = table;
    this.reason = reason;
  }
}

/**
 * A TEXT value in a synced table is not valid UTF-8 (SQLite stores whatever bytes it is given: a
 * lone UTF-16 surrogate bound by the app lands as WTF-8, `CAST(x'ff' AS TEXT)` as a bare byte).
 * JavaScript can only read such text with U+FFFD in place of the bad bytes, so sending it would
 * make other replicas hold different bytes than this one. Nothing is sent until the value is
 * rewritten (as valid text, or as a BLOB); names the table, the row's key and the column.
 *
 * @example
 * ```ts
 * if (error instanceof InvalidTextError) console.log(error.table, error.key, error.column);
 * ```
 */
export class InvalidTextError extends OffsyncError {
  readonly type = 'InvalidTextError';
  /** The table. */
  readonly table: string;
  /** The row's primary-key values, as JavaScript reads them. */
  readonly key: readonly SqlValue[];
  /** The column holding the text (a key column when the key itself is the bad text). */
  readonly column: string;
  /** The bytes SQLite holds, in hex. */
  readonly bytes: string;

  constructor(table: string, key: readonly SqlValue[], column: string, bytes: string) {
    super(
      `TEXT in ${table}.${column} (key ${JSON.stringify(key, (_, v) => (typeof v === 'bigint' ? `${v}` : v))}) is not valid UTF-8 (bytes ${bytes}), so it cannot sync without changing: rewrite it as valid text, or store it as a BLOB`,
    );
    this.table = table;
    this.key = key;
    this.column = column;
    this.bytes = bytes;
  }
}
