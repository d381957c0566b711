import type { UserRevocations } from '../auth/user-revocations.js';
import type { SessionView } from './admin-operations.js';
import type { CentralStore } from './central-store.js';
import { RequestError } from './sync-service.js';

/**
 * What revoking a user's sessions needs from the running server.
 *
 * @example
 * ```ts
 * const context: UserRevocationContext = { store, closeSessions, now: Date.now, userRevocations };
 * ```
 */
export interface UserRevocationContext {
  /** The databases. */
  readonly store: CentralStore;
  /** Closes every open session that matches and counts them. */
  readonly closeSessions: (match: (session: SessionView) => boolean, reason: string) => number;
  /** Clock. */
  readonly now: () => number;
  /** Where revocations are kept; absent, the route answers 404 (a server built without one). */
  readonly userRevocations?: UserRevocations;
}

/**
 * The answer of `POST /v1/admin/databases/:db/users/:user/revoke`.
 *
 * @example
 * ```ts
 * const answer: UserRevocationResult = { user: 'auth0|42', closedSessions: 2, revokedBefore: 1_733_280_000_000 };
 * ```
 */
export interface UserRevocationResult {
  /** The user (`sub`). */
  readonly user: string;
  /** How many open WebSocket sessions of that user on the database were closed. */
  readonly closedSessions: number;
  /** Tokens of that user issued (`iat`) before this instant, in ms, are refused from now on. */
  readonly revokedBefore: number;
}

/**
 * Handles `POST /databases/:db/users/:user/revoke` ("sign this user out everywhere"), or returns
 * `undefined` for any other admin route. The revocation is written to disk first, then every
 * open session of the user on that database is closed (code 4403, reason `user revoked`): a
 * session that said hello before the revocation would otherwise go on syncing with a token
 * that is now refused.
 *
 * @example
 * ```ts
 * const answer = adminUserRevocation(context, 'POST', ['databases', 'todos', 'users', 'u1', 'revoke']);
 * // { user: 'u1', closedSessions: 1, revokedBefore: 1733280000000 }
 * ```
 */
export function adminUserRevocation(
  context: UserRevocationContext,
  method: string,
  path: readonly string[],
): UserRevocationResult | undefined {
  const [first, database, section, user, action] = path;
  if (
    first !== 'databases' ||
    section !== 'users' ||
    action !== 'revoke' ||
    path.length !== 5 ||
    database === undefined ||
    user === undefined
  )
    return undefined;
  if (method !== 'POST')
    throw new RequestError('method-not-allowed', 405, `${method} ${path.join('/')}: use POST`);
  if (!context.userRevocations)
    throw new RequestError('not-found', 404, 'this server keeps no user revocations');
  context.store.open(database); // not-found / invalid-name before anything is recorded
  const revokedBefore = context.userRevocations.revoke(database, user, context.now());
  const closedSessions = context.closeSessions(
    (session) =>
      session.database === database &&
      session.principal?.kind === 'user' &&
      session.principal.sub === user,
    'user revoked',
  );
  return { user, closedSessions, revokedBefore };
}
