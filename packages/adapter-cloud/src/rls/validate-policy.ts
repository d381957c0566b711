import { quoteIdentifier, type SqliteDriver } from '@offsync/core';
import { type CompiledPolicy, compilePolicy } from './compile-policy.js';
import { driverMessage } from './driver-message.js';
import { PolicyError } from './policy-error.js';
import type { PolicyOperation } from './policy-operation.js';

function checkTable(driver: SqliteDriver, table: string, operation: PolicyOperation): void {
  const facts = { table, operation };
  const found = driver
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE")
    .all([table]);
  const name = found[0]?.[0];
  if (typeof name !== 'string') {
    throw new PolicyError({
      ...facts,
      problem: 'no-such-table',
      reason: `no such table: ${table}`,
    });
  }
  // Policies are looked up by the exact name; one stored under another spelling would never apply.
  if (name !== table) {
    throw new PolicyError({
      ...facts,
      problem: 'no-such-table',
      reason: `no such table: ${table} (the table is spelled ${name})`,
    });
  }
  const lower = name.toLowerCase();
  if (lower.startsWith('offsync_') || lower.startsWith('sqlite_')) {
    throw new PolicyError({
      ...facts,
      problem: 'forbidden-name',
      reason: `${table} is an internal table; policies apply to application tables`,
    });
  }
}

/**
 * Compiles a policy and checks it against the real database: the table must exist (an
 * application table, spelled exactly as created), and SQLite must compile
 * `SELECT 1 FROM "<table>" WHERE (<expression>) LIMIT 0`, which catches unknown columns, tables
 * and functions and syntax errors without reading a row. Throws {@link PolicyError} carrying the
 * table, the operation and SQLite's own message; returns the compiled policy otherwise.
 *
 * @example
 * ```ts
 * validatePolicy(driver, 'todos', 'select', 'ownr_id = auth.sub');
 * // throws PolicyError: problem 'does-not-compile', reason 'no such column: ownr_id'
 * ```
 */
export function validatePolicy(
  driver: SqliteDriver,
  table: string,
  operation: PolicyOperation,
  expression: string,
): CompiledPolicy {
  let compiled: CompiledPolicy;
  try {
    compiled = compilePolicy(expression);
  } catch (error) {
    throw error instanceof PolicyError ? error.at(table, operation) : error;
  }
  checkTable(driver, table, operation);
  try {
    driver.prepare(`SELECT 1 FROM ${quoteIdentifier(table)} WHERE (${compiled.sql}) LIMIT 0`);
  } catch (error) {
    throw new PolicyError({
      problem: 'does-not-compile',
      reason: `does not compile: ${driverMessage(error)}`,
      table,
      operation,
      expression,
    });
  }
  return compiled;
}
