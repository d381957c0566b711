import type { SqliteDriver, SqlValue } from '@offsync/core';
import type { CompiledPolicy } from './compile-policy.js';
import { keyString } from './key-string.js';
import type { PolicyOperation } from './policy-operation.js';
import { queryKeys } from './policy-query.js';

/**
 * The keys, among `keys`, of existing rows of `table` for which `expression` is false or NULL
 * under the user's claims (as stored, each once, in key-column order). An empty result means the
 * check passed. `undefined` (no policy for the operation: closed to user tokens) forbids every
 * existing row. Keys with no row are never reported, which is what the push check needs:
 *
 * - before applying a batch, inside the server's transaction: the `update` policy on rows the
 *   batch updates and the `delete` policy on rows it deletes (the rows as they were);
 * - after applying it, still inside the transaction: the `insert` policy on inserted rows and the
 *   `update` policy on updated rows (the rows as they now are). Any key reported: roll back and
 *   refuse the batch whole, naming the keys.
 *
 * A key matched only through SQLite's type affinity (`'1'` against an INTEGER column) is reported
 * as stored (`1n`), so a mismatch fails closed. `operation` only labels errors.
 *
 * @example
 * ```ts
 * const denied = forbiddenKeys(driver, 'todos', ['id'], touched, 'owner_id = auth.sub', claims);
 * if (denied.length > 0) return refuseBatch('todos', denied);
 * ```
 */
export function forbiddenKeys(
  driver: SqliteDriver,
  table: string,
  keyColumns: readonly string[],
  keys: readonly (readonly SqlValue[])[],
  expression: string | CompiledPolicy | undefined,
  claims: Readonly<Record<string, unknown>>,
  operation?: PolicyOperation,
): SqlValue[][] {
  // Default deny: with no policy every existing row fails, as `false` would.
  const policy = expression ?? 'false';
  const target = { table, operation };
  const rows = queryKeys(driver, target, keyColumns, keys, policy, claims, 'denied');
  // The same key may come back from two chunks when the caller passed it twice.
  const unique = new Map<string, SqlValue[]>();
  for (const row of rows) unique.set(keyString(row), row);
  return [...unique.values()];
}
