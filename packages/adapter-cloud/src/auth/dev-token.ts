import { defaultEnv, type Env } from '@offsync/core';
import { SignJWT } from 'jose';
import { AuthConfigError } from './auth-error.js';

/**
 * Options of {@link issueDevToken}.
 *
 * @example
 * ```ts
 * const options: DevTokenOptions = { secret, sub: 'alice', ttlSeconds: parseTtl('2h') };
 * ```
 */
export interface DevTokenOptions {
  /** The server's HS256 secret (its `hs256Secret`), at least 32 bytes. */
  readonly secret: string | Uint8Array;
  /** The user the token stands for. */
  readonly sub: string;
  /** How long the token stays valid, in seconds (a positive whole number). */
  readonly ttlSeconds: number;
  /** Extra claims for row-level security (`sub`, `iat`, `exp`, `aud` and `iss` are set here). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** The `aud` claim, to match a server configured with an audience. */
  readonly audience?: string | readonly string[];
  /** The `iss` claim, to match a server configured with an issuer. */
  readonly issuer?: string;
  /** Where the current time comes from; defaults to the real clock. */
  readonly env?: Pick<Env, 'now'>;
}

const MIN_SECRET_BYTES = 32;

/**
 * Signs an HS256 user token for development and tests (`offsync token issue --sub alice --ttl
 * 2h`). Production tokens come from an identity provider; this exists so the whole auth path,
 * row-level security included, can be exercised without one.
 *
 * @example
 * ```ts
 * const token = await issueDevToken({ secret, sub: 'alice', ttlSeconds: 3600, claims: { org: 'acme' } });
 * await verifier.verify(token); // { kind: 'user', sub: 'alice', claims: { org: 'acme', … }, … }
 * ```
 */
export async function issueDevToken(options: DevTokenOptions): Promise<string> {
  const { secret, sub, ttlSeconds, claims = {}, audience, issuer } = options;
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (key.length < MIN_SECRET_BYTES) {
    throw new AuthConfigError(`the HS256 secret must be at least ${MIN_SECRET_BYTES} bytes long`);
  }
  if (typeof sub !== 'string' || sub === '') {
    throw new AuthConfigError('sub must be a non-empty string');
  }
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new AuthConfigError('ttlSeconds must be a positive whole number of seconds');
  }
  const now = Math.floor((options.env ?? defaultEnv).now() / 1000);
  const jwt = new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds);
  if (audience !== undefined)
    jwt.setAudience(typeof audience === 'string' ? audience : [...audience]);
  if (issuer !== undefined) jwt.setIssuer(issuer);
  return jwt.sign(key);
}
