import { apiKeyRole } from './api-key.js';
import type { ApiKeyStore } from './api-key-store.js';
import { AuthConfigError } from './auth-error.js';

/**
 * Options of {@link ensureAdminKey}.
 *
 * @example
 * ```ts
 * const options: EnsureAdminKeyOptions = { fromEnv: process.env.OFFSYNC_ADMIN_KEY };
 * ```
 */
export interface EnsureAdminKeyOptions {
  /**
   * A bootstrap admin key from the environment (`osk_admin_…`, for example from
   * {@link generateApiKey}). An empty string counts as unset.
   */
  readonly fromEnv?: string | undefined;
  /** Label of the key recorded or generated here (default `'bootstrap'`). */
  readonly label?: string;
}

/**
 * Makes sure a fresh server can be administered. With `fromEnv`, that key is recorded (once) and
 * `undefined` is returned: its holder already knows it. Without it, an admin key is generated
 * only if the store has no active admin key, and its plaintext is returned so the server can
 * print it once; on every later start this returns `undefined`.
 *
 * Refuses (with {@link AuthConfigError}) an environment value that is not an admin key, or one
 * that was revoked: restarting with a stale variable must not bring a revoked key back.
 *
 * @example
 * ```ts
 * const generated = await ensureAdminKey(store, { fromEnv: process.env.OFFSYNC_ADMIN_KEY });
 * if (generated) console.log(`admin key (shown once): ${generated}`);
 * ```
 */
export async function ensureAdminKey(
  store: ApiKeyStore,
  options: EnsureAdminKeyOptions = {},
): Promise<string | undefined> {
  const label = options.label ?? 'bootstrap';
  const fromEnv = options.fromEnv;
  if (fromEnv !== undefined && fromEnv !== '') {
    // The message never repeats the value: it is a secret, and logs outlive it.
    if (apiKeyRole(fromEnv) !== 'admin') {
      throw new AuthConfigError(
        'the bootstrap admin key must be osk_admin_ followed by 43 base64url characters',
      );
    }
    await store.register(fromEnv, label);
    return undefined;
  }
  const hasAdmin = store
    .list()
    .some((info) => info.role === 'admin' && info.revokedAt === undefined);
  if (hasAdmin) return undefined;
  return (await store.create('admin', label)).key;
}
