import { inSavepoint, type SqliteDriver } from '@offsync/core';
import { PolicyError } from './policy-error.js';
import { isPolicyOperation, POLICY_OPERATIONS, type PolicyOperation } from './policy-operation.js';
import { type PolicySet, policySetFrom, type TablePolicies } from './policy-set.js';
import { validatePolicy } from './validate-policy.js';

/**
 * The table holding a database's policies, created on first write. Its `offsync_` prefix keeps it
 * out of sync and out of reach of policy subqueries.
 *
 * @example
 * ```ts
 * driver.prepare(`SELECT count(*) FROM ${POLICIES_TABLE}`).all();
 * ```
 */
export const POLICIES_TABLE = 'offsync_server_policies';

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${POLICIES_TABLE}(
  table_name TEXT NOT NULL,
  operation TEXT NOT NULL CHECK (operation IN (${POLICY_OPERATIONS.map((op) => `'${op}'`).join(', ')})),
  expression TEXT NOT NULL,
  PRIMARY KEY (table_name, operation)
)`;

function hasPoliciesTable(driver: SqliteDriver): boolean {
  return (
    driver
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
      .all([POLICIES_TABLE]).length > 0
  );
}

/**
 * Reads a database's policies; a database that never stored any has none (every table closed to
 * user tokens). Reading never creates the table, so it works on a read-only connection.
 *
 * @example
 * ```ts
 * const policies = readPolicies(driver);
 * const select = policyFor(policies, 'todos', 'select');
 * ```
 */
export function readPolicies(driver: SqliteDriver): PolicySet {
  if (!hasPoliciesTable(driver)) return {};
  const rows = driver
    .prepare(
      `SELECT table_name, operation, expression FROM ${POLICIES_TABLE} ORDER BY table_name, operation`,
    )
    .all();
  const tables = new Map<string, Partial<Record<PolicyOperation, string>>>();
  for (const [table, operation, expression] of rows) {
    if (typeof table !== 'string' || !isPolicyOperation(operation)) {
      throw new PolicyError({
        problem: 'malformed',
        reason: `${POLICIES_TABLE} holds a row that is not a policy`,
        table: typeof table === 'string' ? table : undefined,
      });
    }
    if (typeof expression !== 'string') {
      throw new PolicyError({
        problem: 'malformed',
        reason: `${POLICIES_TABLE} holds a policy whose expression is not TEXT`,
        table,
        operation,
      });
    }
    const entry = tables.get(table) ?? {};
    entry[operation] = expression;
    tables.set(table, entry);
  }
  // Normalised (operation order, syntax checked) like any other policy set.
  return policySetFrom(Object.fromEntries(tables) as Record<string, TablePolicies>);
}

/**
 * Replaces all of a database's policies. Every policy is validated against the database first
 * ({@link validatePolicy}); if any is refused, a {@link PolicyError} is thrown and the stored
 * policies are left as they were. The write itself is one transaction (a savepoint, so it nests
 * in the caller's).
 *
 * @example
 * ```ts
 * writePolicies(driver, { todos: { select: 'owner_id = auth.sub', insert: 'owner_id = auth.sub' } });
 * ```
 */
export function writePolicies(driver: SqliteDriver, policies: PolicySet): void {
  const checked = policySetFrom(policies);
  const rows: [string, PolicyOperation, string][] = [];
  for (const [table, entry] of Object.entries(checked)) {
    for (const operation of POLICY_OPERATIONS) {
      const expression = entry[operation];
      if (expression === undefined) continue;
      validatePolicy(driver, table, operation, expression);
      rows.push([table, operation, expression]);
    }
  }
  inSavepoint(driver, () => {
    driver.exec(CREATE_TABLE);
    driver.exec(`DELETE FROM ${POLICIES_TABLE}`);
    const insert = driver.prepare(
      `INSERT INTO ${POLICIES_TABLE}(table_name, operation, expression) VALUES (?, ?, ?)`,
    );
    for (const row of rows) insert.run(row);
  });
}

/**
 * Sets one table's policy for one operation, or removes it with `null` (closing the operation to
 * user tokens). A new expression is validated against the database first: one with invalid SQL is
 * refused with a {@link PolicyError} carrying SQLite's message, and the old policy is kept.
 *
 * @example
 * ```ts
 * setPolicy(driver, 'todos', 'select', 'tenant_id = auth.tenant AND NOT archived');
 * setPolicy(driver, 'todos', 'delete', null);
 * ```
 */
export function setPolicy(
  driver: SqliteDriver,
  table: string,
  operation: PolicyOperation,
  expression: string | null,
): void {
  if (!isPolicyOperation(operation)) {
    throw new PolicyError({
      problem: 'malformed',
      reason: `unknown operation ${JSON.stringify(operation)}: expected one of ${POLICY_OPERATIONS.join(', ')}`,
      table,
    });
  }
  if (expression === null) {
    if (!hasPoliciesTable(driver)) return;
    driver
      .prepare(`DELETE FROM ${POLICIES_TABLE} WHERE table_name = ? AND operation = ?`)
      .run([table, operation]);
    return;
  }
  validatePolicy(driver, table, operation, expression);
  inSavepoint(driver, () => {
    driver.exec(CREATE_TABLE);
    driver
      .prepare(
        `INSERT INTO ${POLICIES_TABLE}(table_name, operation, expression) VALUES (?, ?, ?) ` +
          'ON CONFLICT (table_name, operation) DO UPDATE SET expression = excluded.expression',
      )
      .run([table, operation, expression]);
  });
}
