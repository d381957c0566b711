import { MAX_PARAMETERS, quoteIdentifier, type SqliteDriver, type SqlValue } from '@offsync/core';
import { bindClaims } from './bind-claims.js';
import { type CompiledPolicy, compilePolicy } from './compile-policy.js';
import { driverMessage } from './driver-message.js';
import { PolicyError } from './policy-error.js';
import type { PolicyOperation } from './policy-operation.js';

/**
 * Which rows {@link queryKeys} returns among those the keys name: the ones the policy lets
 * through, or the ones it does not (false or NULL).
 *
 * @example
 * ```ts
 * const outcome: PolicyOutcome = 'denied';
 * ```
 */
export type PolicyOutcome = 'allowed' | 'denied';

/**
 * Where a keyed policy query comes from, for its errors.
 *
 * @example
 * ```ts
 * const target: PolicyTarget = { table: 'todos', operation: 'select' };
 * ```
 */
export interface PolicyTarget {
  /** The table. */
  readonly table: string;
  /** The operation, when the caller names it. */
  readonly operation?: PolicyOperation | undefined;
}

function compiledOf(policy: string | CompiledPolicy, target: PolicyTarget): CompiledPolicy {
  if (typeof policy !== 'string') return policy;
  try {
    return compilePolicy(policy);
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    throw new PolicyError({
      problem: error.problem,
      reason: error.reason,
      expression: error.expression,
      table: target.table,
      operation: target.operation,
    });
  }
}

/**
 * Evaluates a policy on the rows of `table` whose primary key is among `keys`, and returns the
 * keys (as stored, in key-column order) of the existing rows with the wanted outcome. Keys with no
 * row are in neither outcome.
 *
 * Rows are found with `WHERE (k1, k2) IN (VALUES (?, ?), ...)`, chunked so that keys plus claims
 * stay within {@link MAX_PARAMETERS}. Truth is SQLite's WHERE truth (`CASE WHEN` for the denied
 * outcome, so both agree on `0.5` and `'abc'`).
 *
 * @example
 * ```ts
 * queryKeys(driver, { table: 'todos' }, ['id'], [['t1']], 'done = 0', {}, 'denied');
 * ```
 */
export function queryKeys(
  driver: SqliteDriver,
  target: PolicyTarget,
  keyColumns: readonly string[],
  keys: readonly (readonly SqlValue[])[],
  policy: string | CompiledPolicy,
  claims: Readonly<Record<string, unknown>>,
  outcome: PolicyOutcome,
): SqlValue[][] {
  const width = keyColumns.length;
  if (width === 0) throw new RangeError('keyColumns is empty: a key has at least one column');
  const compiled = compiledOf(policy, target);
  const claimValues = bindClaims(compiled, claims);
  const perChunk = Math.floor((MAX_PARAMETERS - claimValues.length) / width);
  if (perChunk < 1) {
    throw new RangeError(
      `${width} key columns and ${claimValues.length} claims exceed ${MAX_PARAMETERS} parameters`,
    );
  }
  for (const key of keys) {
    if (key.length !== width) {
      throw new RangeError(
        `a key has ${key.length} value(s) but the table has ${width} key columns`,
      );
    }
  }
  if (keys.length === 0) return [];

  const columns = keyColumns.map(quoteIdentifier).join(', ');
  const tuple = `(${keyColumns.map(() => '?').join(', ')})`;
  const test =
    outcome === 'allowed' ? `(${compiled.sql})` : `CASE WHEN (${compiled.sql}) THEN 0 ELSE 1 END`;
  const rows: SqlValue[][] = [];
  for (let first = 0; first < keys.length; first += perChunk) {
    const chunk = keys.slice(first, first + perChunk);
    const sql =
      `SELECT ${columns} FROM ${quoteIdentifier(target.table)} ` +
      `WHERE (${columns}) IN (VALUES ${chunk.map(() => tuple).join(', ')}) AND ${test}`;
    const params: SqlValue[] = [];
    for (const key of chunk) params.push(...key);
    params.push(...claimValues);
    try {
      rows.push(...driver.prepare(sql).all(params));
    } catch (error) {
      throw new PolicyError({
        problem: 'evaluation-failed',
        reason: driverMessage(error),
        table: target.table,
        operation: target.operation,
        expression: compiled.expression,
      });
    }
  }
  return rows;
}
