import { AuthConfigError } from './auth-error.js';

/**
 * Extra claims computed from a verified token, by name: each value is a JSON Pointer (RFC 6901)
 * into the token's payload. Row-level security reads the result as `auth.<name>`, so a claim an
 * identity provider nests (`app_metadata.tenant_id`) or names with a URL (Auth0's namespaced
 * `https://todo.example.com/tenant`, which no `auth.` path can spell) gets a plain name.
 *
 * @example
 * ```ts
 * const map: ClaimMap = {
 *   tenant: '/app_metadata/tenant_id',
 *   roles: '/https:~1~1todo.example.com~1roles',
 * };
 * ```
 */
export type ClaimMap = Readonly<Record<string, string>>;

/**
 * Claims a mapping may not write: they say who the user is and for how long, and the server
 * checks them; letting configuration rewrite them would let one claim impersonate another.
 */
const RESERVED = new Set(['sub', 'exp', 'iat', 'nbf', 'iss', 'aud', 'jti']);
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Refuses a claim map that could not work or would be unsafe: a name a policy cannot spell as
 * `auth.<name>`, a reserved claim (`sub`, `exp`, `iat`, `nbf`, `iss`, `aud`, `jti`), or a value
 * that is not a JSON Pointer.
 *
 * @example
 * ```ts
 * checkClaimMap({ tenant: '/app_metadata/tenant_id' }, 'jwt.claims'); // ok
 * checkClaimMap({ sub: '/email' }, 'jwt.claims'); // throws AuthConfigError
 * ```
 */
export function checkClaimMap(map: unknown, where: string): asserts map is ClaimMap {
  if (typeof map !== 'object' || map === null || Array.isArray(map))
    throw new AuthConfigError(`${where} must be an object of claim name to JSON Pointer`);
  for (const [name, pointer] of Object.entries(map)) {
    if (!NAME.test(name))
      throw new AuthConfigError(
        `${where}: ${JSON.stringify(name)} is not a claim name a policy can read (letters, digits, _)`,
      );
    if (RESERVED.has(name))
      throw new AuthConfigError(`${where}: the ${JSON.stringify(name)} claim cannot be mapped`);
    if (typeof pointer !== 'string' || !pointer.startsWith('/'))
      throw new AuthConfigError(
        `${where}.${name} must be a JSON Pointer starting with "/" (like "/app_metadata/tenant_id")`,
      );
  }
}

/**
 * The payload with the mapped claims added (replacing same-named ones); a pointer that reaches
 * nothing sets nothing, so a policy reading the claim sees NULL and denies.
 *
 * @example
 * ```ts
 * applyClaimMap({ sub: 'u1', app_metadata: { tenant_id: 't1' } }, { tenant: '/app_metadata/tenant_id' });
 * // { sub: 'u1', app_metadata: { tenant_id: 't1' }, tenant: 't1' }
 * ```
 */
export function applyClaimMap(
  payload: Readonly<Record<string, unknown>>,
  map: ClaimMap | undefined,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...payload };
  if (map === undefined) return result;
  for (const [name, pointer] of Object.entries(map)) {
    const value = resolvePointer(payload, pointer);
    if (value === undefined) delete result[name];
    else result[name] = value;
  }
  return result;
}

function resolvePointer(root: unknown, pointer: string): unknown {
  let value = root;
  for (const raw of pointer.slice(1).split('/')) {
    // RFC 6901 §4: ~1 before ~0, so "~01" means "~1" literally.
    const name = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    // Own properties only: a pointer must not reach Object.prototype.
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, name))
      return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}
