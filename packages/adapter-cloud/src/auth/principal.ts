import { AuthError } from './auth-error.js';

/**
 * What an API key may do: `admin` runs the admin API, `service` is a trusted backend that syncs
 * without row-level security.
 *
 * @example
 * ```ts
 * const role: ApiKeyRole = 'service';
 * ```
 */
export type ApiKeyRole = 'admin' | 'service';

/**
 * A caller authenticated by an API key.
 *
 * @example
 * ```ts
 * const principal: ApiKeyPrincipal = { kind: 'admin', keyId: 'key_0f3a9c2b7e1d4a65', label: 'ops' };
 * ```
 */
export interface ApiKeyPrincipal {
  /** The key's role. */
  readonly kind: ApiKeyRole;
  /** The key's id (safe to log; the key itself never is). */
  readonly keyId: string;
  /** The label given when the key was created. */
  readonly label: string;
  /** For a service key limited to some databases: those; absent means every database. */
  readonly databases?: readonly string[];
}

/**
 * A user authenticated by a verified JWT. Its claims are the row-level security context.
 *
 * @example
 * ```ts
 * const principal: UserPrincipal = {
 *   kind: 'user',
 *   sub: 'user-42',
 *   claims: { sub: 'user-42', org: 'acme', exp: 1_700_000_900 },
 *   expiresAt: 1_700_000_900_000,
 * };
 * ```
 */
export interface UserPrincipal {
  /** Always `'user'`. */
  readonly kind: 'user';
  /** The token's `sub` claim: who the user is. */
  readonly sub: string;
  /** The whole verified payload, deeply frozen so a policy cannot alter the context it reads. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** When the token stops being valid, in milliseconds since the Unix epoch (`exp * 1000`). */
  readonly expiresAt: number;
}

/**
 * Whoever made a request: an API key holder or a user.
 *
 * @example
 * ```ts
 * const who = principal.kind === 'user' ? principal.sub : principal.keyId;
 * ```
 */
export type Principal = ApiKeyPrincipal | UserPrincipal;

/**
 * Refuses anyone but an admin key holder, with an {@link AuthError} of code `forbidden` (HTTP
 * 403).
 *
 * @example
 * ```ts
 * const principal = await authenticator.authenticate(request.headers.authorization);
 * requireAdmin(principal); // from here on, principal.kind === 'admin'
 * ```
 */
export function requireAdmin(
  principal: Principal,
): asserts principal is ApiKeyPrincipal & { readonly kind: 'admin' } {
  if (principal.kind !== 'admin') {
    throw new AuthError('forbidden', 'this operation requires an admin API key');
  }
}
