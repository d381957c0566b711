import { compilePolicy } from './compile-policy.js';
import { PolicyError } from './policy-error.js';
import { isPolicyOperation, POLICY_OPERATIONS, type PolicyOperation } from './policy-operation.js';

/**
 * One table's policies: an SQL boolean expression per operation. An operation without one is
 * closed to user tokens; `'true'` opens it.
 *
 * @example
 * ```ts
 * const todos: TablePolicies = { select: 'tenant_id = auth.tenant', insert: 'owner_id = auth.sub' };
 * ```
 */
export type TablePolicies = {
  readonly [operation in PolicyOperation]?: string;
};

/**
 * A database's row-level security policies, by table name (spelled exactly as the table was
 * created). Tables and operations missing from it are closed to user tokens.
 *
 * @example
 * ```ts
 * const policies: PolicySet = {
 *   todos: { select: 'tenant_id = auth.tenant AND NOT archived', delete: "auth.role = 'admin'" },
 *   lists: { select: 'true' },
 * };
 * ```
 */
export type PolicySet = { readonly [table: string]: TablePolicies };

/**
 * The expression governing one operation on one table, or `undefined` when there is none (the
 * operation is closed). Reads own properties only, so a table named `constructor` or `__proto__`
 * never finds something inherited.
 *
 * @example
 * ```ts
 * const select = policyFor(policies, 'todos', 'select');
 * const visible = visibleKeys(driver, 'todos', ['id'], keys, select, claims);
 * ```
 */
export function policyFor(
  policies: PolicySet,
  table: string,
  operation: PolicyOperation,
): string | undefined {
  if (!Object.hasOwn(policies, table)) return undefined;
  const entry = policies[table]!;
  return Object.hasOwn(entry, operation) ? entry[operation] : undefined;
}

function malformed(reason: string, table?: string, operation?: PolicyOperation): PolicyError {
  return new PolicyError({ problem: 'malformed', reason, table, operation });
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks that a value (a parsed JSON body, a config object) is a {@link PolicySet}: an object of
 * tables, each an object of operations (`select`, `insert`, `update`, `delete`), each a string
 * expression that {@link compilePolicy} accepts. Returns a normalised copy (operations in the
 * order of {@link POLICY_OPERATIONS}); throws {@link PolicyError} naming the table and operation
 * at fault. Whether expressions compile against the database is {@link validatePolicy}'s job.
 *
 * @example
 * ```ts
 * policySetFrom(await request.json()); // throws PolicyError on { todos: { select: 42 } }
 * ```
 */
export function policySetFrom(value: unknown): PolicySet {
  if (!isPlainObject(value)) throw malformed('a policy set is an object keyed by table name');
  const tables: [string, TablePolicies][] = [];
  for (const [table, entry] of Object.entries(value)) {
    if (table === '') throw malformed('a table name is empty');
    if (!isPlainObject(entry)) {
      throw malformed('a table entry is an object keyed by operation', table);
    }
    for (const key of Object.keys(entry)) {
      if (!isPolicyOperation(key)) {
        throw malformed(
          `unknown operation ${JSON.stringify(key)}: expected one of ${POLICY_OPERATIONS.join(', ')}`,
          table,
        );
      }
    }
    const operations: [PolicyOperation, string][] = [];
    for (const operation of POLICY_OPERATIONS) {
      if (!Object.hasOwn(entry, operation)) continue;
      const expression = entry[operation];
      if (typeof expression !== 'string') {
        throw malformed('an expression is a string of SQL', table, operation);
      }
      try {
        compilePolicy(expression);
      } catch (error) {
        throw error instanceof PolicyError ? error.at(table, operation) : error;
      }
      operations.push([operation, expression]);
    }
    tables.push([table, Object.fromEntries(operations)]);
  }
  // fromEntries defines own properties, so a table named `__proto__` stays a table.
  return Object.fromEntries(tables);
}

/**
 * Parses a policy set from JSON text and checks it with {@link policySetFrom}. Throws
 * {@link PolicyError} (`malformed`, with the JSON parser's message) on text that is not JSON.
 *
 * @example
 * ```ts
 * const policies = parsePolicySet('{"todos":{"select":"owner_id = auth.sub"}}');
 * ```
 */
export function parsePolicySet(json: string): PolicySet {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw malformed(`not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return policySetFrom(value);
}

/**
 * Serialises a policy set to JSON after checking it with {@link policySetFrom}, with operations
 * in a stable order; {@link parsePolicySet} reads it back equal.
 *
 * @example
 * ```ts
 * serializePolicySet({ todos: { select: 'true' } }); // '{"todos":{"select":"true"}}'
 * ```
 */
export function serializePolicySet(policies: PolicySet): string {
  return JSON.stringify(policySetFrom(policies));
}
