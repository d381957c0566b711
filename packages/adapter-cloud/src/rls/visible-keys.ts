import type { SqliteDriver, SqlValue } from '@offsync/core';
import type { CompiledPolicy } from './compile-policy.js';
import { keyString } from './key-string.js';
import { queryKeys } from './policy-query.js';

/**
 * Which of `keys` a user may see: the {@link keyString}s of the rows of `table` that exist and
 * for which the `select` policy is true under the user's claims. A row the policy finds false or
 * NULL, a key with no row, and every key when `policy` is `undefined` (no select policy: the table
 * is closed to user tokens) are left out. Admin and service principals bypass RLS: do not call
 * this for them.
 *
 * Used on pull: a change whose key is not visible is not sent (and a row that left the user's
 * scope is sent as a removal). Keys are matched as stored, so pass keys read from this database
 * (a change's `pk` unpacked). Batches of any size are chunked under SQLite's parameter limit.
 *
 * @example
 * ```ts
 * const visible = visibleKeys(driver, 'todos', ['id'], [['t1'], ['t2']], 'owner_id = auth.sub', {
 *   sub: 'u1',
 * });
 * visible.has(keyString(['t1'])); // true if todo t1 is u1's
 * ```
 */
export function visibleKeys(
  driver: SqliteDriver,
  table: string,
  keyColumns: readonly string[],
  keys: readonly (readonly SqlValue[])[],
  policy: string | CompiledPolicy | undefined,
  claims: Readonly<Record<string, unknown>>,
): Set<string> {
  const visible = new Set<string>();
  // Default deny: no select policy means no rows, and nothing to ask SQLite.
  if (policy === undefined) return visible;
  const target = { table, operation: 'select' as const };
  for (const key of queryKeys(driver, target, keyColumns, keys, policy, claims, 'allowed')) {
    visible.add(keyString(key));
  }
  return visible;
}
