import { AuthError } from './auth-error.js';
import type { Principal } from './principal.js';

/**
 * The prefix of an `aud` value that binds a user token to one database: `offsync:todos` is good
 * for the database `todos` only. Other audience values (an identity provider's API name) are left
 * to the configured `jwt.audience` check.
 *
 * @example
 * ```ts
 * const aud = `${DATABASE_AUDIENCE_PREFIX}todos`; // 'offsync:todos'
 * ```
 */
export const DATABASE_AUDIENCE_PREFIX = 'offsync:';

/**
 * The `aud` value that binds a user token to `database`.
 *
 * @example
 * ```ts
 * databaseAudience('todos'); // 'offsync:todos'
 * ```
 */
export function databaseAudience(database: string): string {
  return `${DATABASE_AUDIENCE_PREFIX}${database}`;
}

/**
 * Refuses a user token used on a database it was not issued for, with an {@link AuthError} of
 * code `wrong-database` (HTTP 403). A token whose `aud` names one or more databases
 * (`offsync:<name>`) is good for those only. A token that names none is refused when `required`
 * (the server setting `jwt.requireDatabaseAudience`) and accepted on every database otherwise.
 * Admin keys act on the whole server; a service key created with `databases` is refused on
 * every other database, one without acts on all.
 *
 * @example
 * ```ts
 * checkDatabaseBinding(principal, 'todos', true); // throws unless aud includes 'offsync:todos'
 * ```
 */
export function checkDatabaseBinding(
  principal: Principal,
  database: string,
  required: boolean,
): void {
  if (principal.kind !== 'user') {
    if (principal.kind === 'admin') return;
    if (principal.databases === undefined || principal.databases.includes(database)) return;
    throw new AuthError(
      'wrong-database',
      `this service key is limited to other databases, not ${JSON.stringify(database)}`,
    );
  }
  const aud = principal.claims.aud;
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  const bound = audiences.filter(
    (value): value is string =>
      typeof value === 'string' && value.startsWith(DATABASE_AUDIENCE_PREFIX),
  );
  if (bound.length === 0) {
    if (!required) return;
    throw new AuthError(
      'wrong-database',
      `this server requires user tokens bound to a database: issue the token with aud "${databaseAudience(database)}"`,
    );
  }
  if (!bound.includes(databaseAudience(database))) {
    // The message names the requested database only: the token's own audiences are its content.
    throw new AuthError(
      'wrong-database',
      `the token was issued for another database, not ${JSON.stringify(database)}`,
    );
  }
}
