import { SQL_INTEGER_MAX, SQL_INTEGER_MIN, type SqlValue } from '@offsync/core';
import type { CompiledPolicy } from './compile-policy.js';

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value)
  );
}

function claimAt(claims: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  let value: unknown = claims;
  for (const name of path) {
    // Own properties only: `auth.constructor` must not reach Object.prototype.
    if (!isRecord(value) || !Object.hasOwn(value, name)) return undefined;
    value = value[name];
  }
  return value;
}

function toSqlValue(value: unknown): SqlValue {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      if (Number.isSafeInteger(value)) return BigInt(value);
      // SQLite stores a NaN bound as REAL as NULL anyway; say so here rather than rely on it.
      return Number.isNaN(value) ? null : value;
    case 'boolean':
      // SQLite has no boolean: TRUE and FALSE are the integers 1 and 0.
      return value ? 1n : 0n;
    case 'bigint':
      return value >= SQL_INTEGER_MIN && value <= SQL_INTEGER_MAX ? value : null;
    default:
      return null;
  }
}

/**
 * The values to bind for a compiled policy's `?` parameters, read from a JWT's claims:
 *
 * | claim | binds as |
 * | --- | --- |
 * | string | TEXT |
 * | number that is a safe integer (`42`) | INTEGER (`42n`) |
 * | any other number (`0.5`, `2 ** 60`) | REAL (NaN: NULL) |
 * | boolean | INTEGER 1 / 0 |
 * | bigint within 64 bits | INTEGER |
 * | missing, `null`, array, object, anything else | NULL |
 *
 * A NULL makes comparisons NULL, so a policy reading a missing claim denies. Arrays bind NULL: to
 * test membership, keep the list in a table and use a subquery. `auth.org.id` reads the nested
 * claim through own properties of plain objects.
 *
 * @example
 * ```ts
 * bindClaims(compilePolicy('owner_id = auth.sub AND auth.admin'), { sub: 'u1', admin: true });
 * // ['u1', 1n]
 * ```
 */
export function bindClaims(
  compiled: Pick<CompiledPolicy, 'paths'>,
  claims: Readonly<Record<string, unknown>>,
): SqlValue[] {
  return compiled.paths.map((path) => toSqlValue(claimAt(claims, path)));
}
