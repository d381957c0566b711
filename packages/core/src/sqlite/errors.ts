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
  | 'not-null-without-default'
  | 'integer-primary-key'
  | 'unique-constraint'
  | 'foreign-key'
  | 'no-value-columns-limit'
  | 'altering';

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
