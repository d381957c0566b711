import { createHash } from 'node:crypto';
import { defaultEnv, type Env } from '@offsync/core';
import type { ApiKeyRole } from './principal.js';

/**
 * What every API key starts with; anything else presented as a credential is treated as a JWT.
 *
 * @example
 * ```ts
 * credential.startsWith(API_KEY_PREFIX); // an API key, not a JWT
 * ```
 */
export const API_KEY_PREFIX = 'osk_';

/** Random bytes in a key: 256 bits, out of reach of guessing, so a fast hash suffices. */
const KEY_BYTES = 32;
/** 32 bytes in unpadded base64url. */
const KEY_BODY = /^[A-Za-z0-9_-]{43}$/;
const ROLE_PREFIXES: ReadonlyArray<readonly [ApiKeyRole, string]> = [
  ['admin', `${API_KEY_PREFIX}admin_`],
  ['service', `${API_KEY_PREFIX}service_`],
];

/**
 * Makes a new random API key, `osk_admin_<base64url>` or `osk_service_<base64url>`. This only
 * makes the text; {@link ApiKeyStore.create} also records it. Useful to prepare a bootstrap
 * admin key for {@link ensureAdminKey}'s `fromEnv`.
 *
 * @example
 * ```ts
 * generateApiKey('admin'); // 'osk_admin_3q2-7wEXAMPLE…' (43 characters after the prefix)
 * ```
 */
export function generateApiKey(
  role: ApiKeyRole,
  env: Pick<Env, 'randomBytes'> = defaultEnv,
): string {
  const body = Buffer.from(env.randomBytes(new Uint8Array(KEY_BYTES))).toString('base64url');
  return `${API_KEY_PREFIX}${role}_${body}`;
}

/**
 * The role a well-formed API key claims by its prefix, or `undefined` when the text is not a
 * well-formed key. Says nothing about whether the key exists.
 *
 * @example
 * ```ts
 * apiKeyRole(generateApiKey('service')); // 'service'
 * apiKeyRole('osk_admin_short'); // undefined
 * ```
 */
export function apiKeyRole(key: string): ApiKeyRole | undefined {
  for (const [role, prefix] of ROLE_PREFIXES) {
    if (key.startsWith(prefix)) return KEY_BODY.test(key.slice(prefix.length)) ? role : undefined;
  }
  return undefined;
}

/**
 * SHA-256 of the whole key text, prefix included, so a stored hash also pins the key's role.
 *
 * @example
 * ```ts
 * hashApiKey(key).length; // 32
 * ```
 */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}
