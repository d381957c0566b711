import type { SqlValue } from '@offsync/core';
import { packPrimaryKey, primaryKeyString } from '@offsync/core/codec';

/**
 * A stable string identity for a primary key (its values in key-column order), for Map and Set
 * keys. Exact per storage class: `1n` (INTEGER), `1` (REAL) and `'1'` (TEXT) differ; bigints keep
 * all 64 bits. It is core's `primaryKeyString` of the packed key, so a change's packed `pk`
 * matches directly: `keyString(values) === primaryKeyString(change.pk)`.
 *
 * @example
 * ```ts
 * const visible = visibleKeys(driver, 'todos', ['id'], keys, policy, claims);
 * visible.has(keyString(['t1'])); // true when the user may see todo t1
 * ```
 */
export function keyString(key: readonly SqlValue[]): string {
  return primaryKeyString(packPrimaryKey(key));
}
