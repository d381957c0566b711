import { API_KEY_PREFIX } from './api-key.js';
import type { ApiKeyStore } from './api-key-store.js';
import { AuthError } from './auth-error.js';
import type { Principal } from './principal.js';
import type { TokenVerifier } from './token-verifier.js';
import type { UserRevocations } from './user-revocations.js';

/**
 * Options of {@link Authenticator}. A server without `tokens` accepts API keys only, one without
 * `apiKeys` user tokens only.
 *
 * @example
 * ```ts
 * const options: AuthenticatorOptions = { apiKeys: store, tokens: verifier };
 * ```
 */
export interface AuthenticatorOptions {
  /** The admin and service keys. */
  readonly apiKeys?: ApiKeyStore;
  /** The verifier of users' JWTs. */
  readonly tokens?: TokenVerifier;
  /** Users whose older tokens are refused, per database (checked when a database is named). */
  readonly revocations?: UserRevocations;
}

/**
 * Establishes who made a request from its credential: an API key (recognised by its `osk_`
 * prefix) or a user's JWT (anything else). Refusals are {@link AuthError}s carrying the HTTP
 * status to answer with.
 *
 * @example
 * ```ts
 * const auth = new Authenticator({ apiKeys: store, tokens: verifier });
 * const principal = await auth.authenticate(request.headers.authorization);
 * ```
 */
export class Authenticator {
  readonly #apiKeys: ApiKeyStore | undefined;
  readonly #tokens: TokenVerifier | undefined;
  readonly #revocations: UserRevocations | undefined;

  constructor(options: AuthenticatorOptions) {
    this.#apiKeys = options.apiKeys;
    this.#tokens = options.tokens;
    this.#revocations = options.revocations;
  }

  /**
   * Authenticates an `Authorization` header value (`Bearer <credential>`, scheme in any case) or
   * a bare credential (as sent where headers cannot be, like a WebSocket subprotocol). With
   * `database`, a user token is checked against that database's issuer and audience and its
   * user's revocation there.
   *
   * @example
   * ```ts
   * await auth.authenticate('Bearer osk_service_…'); // { kind: 'service', keyId, label }
   * await auth.authenticate(jwt, 'todos'); // { kind: 'user', sub, claims, expiresAt }
   * await auth.authenticate(undefined); // throws AuthError 'missing' (401)
   * ```
   */
  async authenticate(headerOrToken: string | undefined, database?: string): Promise<Principal> {
    const credential = readCredential(headerOrToken);
    if (credential.startsWith(API_KEY_PREFIX)) {
      if (!this.#apiKeys) throw new AuthError('unknown-key', 'API keys are not accepted here');
      const result = this.#apiKeys.check(credential);
      switch (result.status) {
        case 'valid':
          return result.principal;
        case 'revoked':
          throw new AuthError('revoked', 'this API key has been revoked');
        case 'unknown':
          throw new AuthError('unknown-key', 'unknown API key');
        case 'malformed':
          throw new AuthError('malformed', 'the API key is malformed');
      }
    }
    if (!this.#tokens) throw new AuthError('unknown-key', 'user tokens are not accepted here');
    const user = await this.#tokens.verify(credential, database);
    if (database !== undefined) this.#revocations?.check(user, database);
    return user;
  }
}

const BEARER = /^bearer$/i;

/**
 * The credential in an `Authorization` header value or a bare credential; refuses an absent,
 * empty or non-Bearer value.
 *
 * @example
 * ```ts
 * readCredential('Bearer abc'); // 'abc'
 * readCredential('abc'); // 'abc'
 * readCredential('Basic dXNlcjpwdw=='); // throws AuthError 'malformed'
 * ```
 */
export function readCredential(headerOrToken: string | undefined): string {
  const value = headerOrToken?.trim() ?? '';
  if (value === '') throw new AuthError('missing');
  // Neither a JWT nor an API key contains white space, so a space separates a scheme.
  const parts = value.split(/\s+/);
  if (parts.length === 1) {
    if (BEARER.test(value)) throw new AuthError('missing');
    return value;
  }
  if (parts.length !== 2 || !BEARER.test(parts[0]!)) {
    throw new AuthError('malformed', 'expected an Authorization header of the form Bearer <token>');
  }
  return parts[1]!;
}
