/**
 * The four operations a table's policies govern, in the order policy sets list them.
 *
 * @example
 * ```ts
 * for (const operation of POLICY_OPERATIONS) console.log(policies.todos?.[operation]);
 * ```
 */
export const POLICY_OPERATIONS = ['select', 'insert', 'update', 'delete'] as const;

/**
 * An operation a policy governs: `select` filters pulls, `insert`/`update`/`delete` check pushes.
 *
 * @example
 * ```ts
 * const operation: PolicyOperation = 'update';
 * ```
 */
export type PolicyOperation = (typeof POLICY_OPERATIONS)[number];

/**
 * Whether a value is one of the {@link POLICY_OPERATIONS}.
 *
 * @example
 * ```ts
 * isPolicyOperation('upsert'); // false
 * ```
 */
export function isPolicyOperation(value: unknown): value is PolicyOperation {
  return (POLICY_OPERATIONS as readonly unknown[]).includes(value);
}
