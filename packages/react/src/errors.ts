import { OffsyncError } from '@offsync/core';

/**
 * A hook found no replica or no sync client: neither passed to it nor given by an enclosing
 * {@link OffsyncProvider}.
 *
 * @example
 * ```ts
 * try { renderToString(createElement(App)); } catch (e) { if (e instanceof MissingSourceError) e.missing; }
 * ```
 */
export class MissingSourceError extends OffsyncError {
  readonly type = 'MissingSourceError';
  /** What was missing. */
  readonly missing: 'replica' | 'client';
  /** The hook that needed it. */
  readonly hook: string;

  constructor(hook: string, missing: 'replica' | 'client') {
    super(
      `${hook}: no ${missing === 'replica' ? 'replica' : 'sync client'}: wrap the component in ` +
        `<OffsyncProvider ${missing}={…}> or pass { ${missing} } to the hook`,
    );
    this.hook = hook;
    this.missing = missing;
  }
}

/**
 * `useRow` cannot address a row of `table`: the table does not exist or has no primary key, or
 * the key given has the wrong number of values.
 *
 * @example
 * ```ts
 * if (error instanceof RowKeyError) console.warn(error.table, error.reason);
 * ```
 */
export class RowKeyError extends OffsyncError {
  readonly type = 'RowKeyError';
  /** The table. */
  readonly table: string;
  /** The primary-key columns found (empty when none). */
  readonly keyColumns: readonly string[];
  /** How many key values were given. */
  readonly given: number;
  /** What is wrong. */
  readonly reason: 'no-primary-key' | 'key-length';

  constructor(table: string, keyColumns: readonly string[], given: number) {
    const reason = keyColumns.length === 0 ? 'no-primary-key' : 'key-length';
    super(
      reason === 'no-primary-key'
        ? `useRow: table ${table} does not exist or has no primary key`
        : `useRow: table ${table} has ${keyColumns.length} primary-key column(s) ` +
            `(${keyColumns.join(', ')}) but ${given} key value(s) were given`,
    );
    this.table = table;
    this.keyColumns = keyColumns;
    this.given = given;
    this.reason = reason;
  }
}
