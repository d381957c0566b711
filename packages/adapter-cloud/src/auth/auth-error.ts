import { OffsyncError } from '@offsync/core';

/**
 * Why a request was refused. Every code but `forbidden`, `wrong-database` and
 * `key-source-unavailable` means "who you are could not be established" (HTTP 401); the first two
 * mean "you are known but may not do this" (HTTP 403): a token bound to one database is a valid
 * credential, just not for another database. `key-source-unavailable` (HTTP 503) means the
 * server could not fetch the identity provider's keys: the token may be fine, try again later.
 *
 * @example
 * ```ts
 * const code: AuthErrorCode = 'expired';
 * ```
 */
export type AuthErrorCode =
  | 'missing'
  | 'malformed'
  | 'expired'
  | 'not-yet-valid'
  | 'bad-signature'
  | 'wrong-audience'
  | 'wrong-issuer'
  | 'unknown-key'
  | 'revoked'
  | 'wrong-database'
  | 'forbidden'
  | 'key-source-unavailable';

// Fixed texts: a refusal goes back to whoever presented the credential, so the message never
// contains the credential, the claims or a library's own wording (which could change to include
// either).
const DEFAULT_MESSAGES: Readonly<Record<AuthErrorCode, string>> = {
  missing: 'authentication required: send an Authorization: Bearer header',
  malformed: 'the credential is malformed',
  expired: 'the token has expired',
  'not-yet-valid': 'the token is not valid yet',
  'bad-signature': 'the token signature is invalid',
  'wrong-audience': 'the token was issued for another audience',
  'wrong-issuer': 'the token was issued by an untrusted issuer',
  'unknown-key': 'the credential is not recognised',
  revoked: 'the credential has been revoked',
  'wrong-database': 'the token was issued for another database',
  forbidden: 'this credential may not perform this operation',
  'key-source-unavailable':
    "the identity provider's signing keys could not be fetched; try again later",
};

/**
 * A request's credential was missing, invalid or not allowed. The message is safe to send back to
 * the client (it never echoes the credential); the underlying library error, when there is one,
 * is kept as a non-enumerable `cause` for server logs only, so `toJSON()` never carries it.
 *
 * @example
 * ```ts
 * try {
 *   await authenticator.authenticate(request.headers.authorization);
 * } catch (error) {
 *   if (error instanceof AuthError) reply(error.status, { code: error.code, message: error.message });
 * }
 * ```
 */
export class AuthError extends OffsyncError {
  readonly type = 'AuthError';
  /** What was wrong with the credential. */
  readonly code: AuthErrorCode;
  /**
   * The HTTP status to answer with: 403 for `forbidden` and `wrong-database`, 503 for
   * `key-source-unavailable`, 401 otherwise.
   */
  readonly status: 401 | 403 | 503;

  constructor(code: AuthErrorCode, message: string = DEFAULT_MESSAGES[code], cause?: unknown) {
    super(message);
    this.code = code;
    this.status =
      code === 'forbidden' || code === 'wrong-database'
        ? 403
        : code === 'key-source-unavailable'
          ? 503
          : 401;
    if (cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: cause, enumerable: false, writable: true });
    }
  }
}

/**
 * The authentication module was configured wrongly: no token key source, a secret too short to
 * be safe, a public key or key set that does not parse, a bootstrap admin key of the wrong form.
 * Raised when the server starts (or a CLI command runs), never in answer to a client.
 *
 * @example
 * ```ts
 * await TokenVerifier.create({}); // throws AuthConfigError: no key source configured
 * ```
 */
export class AuthConfigError extends OffsyncError {
  readonly type = 'AuthConfigError';
  /** What is wrong and how to fix it. */
  readonly reason: string;

  constructor(reason: string, cause?: unknown) {
    super(`invalid authentication configuration: ${reason}`);
    this.reason = reason;
    if (cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: cause, enumerable: false, writable: true });
    }
  }
}
