import { errors } from 'jose';
import { AuthError } from './auth-error.js';

/**
 * Turns an error thrown by jose while verifying a token into the refusal the client sees, or
 * returns `undefined` for anything that is not a jose error (a bug or a misconfiguration, which
 * must surface as a server error rather than as "bad token").
 *
 * Matching is by class, not by message text, so a jose upgrade that rewords messages changes
 * nothing here.
 *
 * @example
 * ```ts
 * try {
 *   await jwtVerify(token, key, options);
 * } catch (error) {
 *   throw authErrorFromJose(error) ?? error;
 * }
 * ```
 */
export function authErrorFromJose(error: unknown): AuthError | undefined {
  if (error instanceof AuthError) return error;
  if (!(error instanceof errors.JOSEError)) return undefined;
  // JWTExpired is checked before JWTClaimValidationFailed: both carry a claim, and the order
  // keeps "expired" from being reported as a generic claim failure.
  if (error instanceof errors.JWTExpired) return new AuthError('expired', undefined, error);
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'aud':
        return new AuthError('wrong-audience', undefined, error);
      case 'iss':
        return new AuthError('wrong-issuer', undefined, error);
      case 'nbf':
        return new AuthError('not-yet-valid', undefined, error);
      default:
        return new AuthError('malformed', claimMessage(error.claim, error.reason), error);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthError('bad-signature', undefined, error);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    // Covers `alg: none` and algorithm confusion (an HS256 token sent to an RS256 server).
    return new AuthError('bad-signature', 'the token signing algorithm is not accepted', error);
  }
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return new AuthError('unknown-key', 'no trusted key matches the token', error);
  }
  // JWSInvalid, JWTInvalid, JOSENotSupported and the rest: the token is not a JWT we can read.
  return new AuthError('malformed', 'the token is not a well-formed signed JWT', error);
}

function claimMessage(claim: string, reason: string): string {
  // `claim` is one of jose's fixed names (sub, exp, iat, typ…), never token content.
  return reason === 'missing'
    ? `the token has no "${claim}" claim`
    : `the token's "${claim}" claim is invalid`;
}
