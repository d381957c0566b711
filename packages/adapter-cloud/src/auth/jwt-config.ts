import { readFileSync } from 'node:fs';
import { AuthConfigError } from './auth-error.js';
import { type ClaimMap, checkClaimMap } from './claim-map.js';
import { TokenVerifier } from './token-verifier.js';

/**
 * One database's entry in `jwt.databases` of `server.json`: its own issuer, audience and claim
 * mapping, each replacing the server-wide `jwt` setting of the same name on that database.
 *
 * @example
 * ```ts
 * const rules: DatabaseJwtConfig = { issuer: 'https://tenant-a.example.com/', audience: 'todos-a' };
 * ```
 */
export interface DatabaseJwtConfig {
  /** Accepted issuer(s) on this database. */
  readonly issuer?: string | readonly string[];
  /** Accepted audience(s) on this database. */
  readonly audience?: string | readonly string[];
  /** Claims computed for row-level security on this database. */
  readonly claims?: ClaimMap;
}

/**
 * How the server verifies users' JWTs: the `jwt` object of `<data>/server.json`. Every key is
 * described in docs/server-config.md.
 *
 * @example
 * ```ts
 * const jwt: JwtConfig = { jwksUrl: 'https://example.auth0.com/.well-known/jwks.json', audience: 'todos' };
 * ```
 */
export interface JwtConfig {
  /** Shared HS256 secret (a development one is generated on first start). */
  readonly hs256Secret?: string;
  /** Path of an RS256 public key (PEM, SPKI). */
  readonly rs256PublicKeyPath?: string;
  /** Path of a JSON Web Key Set file. */
  readonly jwksPath?: string;
  /** URL of an identity provider's JSON Web Key Set (`https:`, or `http:` on localhost). */
  readonly jwksUrl?: string;
  /** How long one fetch of `jwksUrl` may take, in ms (default 3,000). */
  readonly jwksTimeoutMs?: number;
  /** Least time between two fetches of `jwksUrl` caused by an unknown `kid`, in s (default 30). */
  readonly jwksCooldownSeconds?: number;
  /** How long a fetched key set is used before it is fetched again, in s (default 600). */
  readonly jwksCacheMaxAgeSeconds?: number;
  /** Required issuer(s). */
  readonly issuer?: string | readonly string[];
  /** Required audience(s). */
  readonly audience?: string | readonly string[];
  /**
   * Leeway for `exp` and `nbf` against clock skew, in seconds (default 30). Also how long an
   * open WebSocket session outlives its token's `exp` before the server closes it.
   */
  readonly clockLeewaySeconds?: number;
  /**
   * Refuse user tokens whose `aud` names no database (`offsync:<name>`). Default false: such
   * tokens are good on every database, as before database binding existed; a token that names
   * databases is only ever good on those.
   */
  readonly requireDatabaseAudience?: boolean;
  /** Claims computed for row-level security: name → JSON Pointer into the token's payload. */
  readonly claims?: ClaimMap;
  /** Per-database issuer, audience and claims, by database name. */
  readonly databases?: Readonly<Record<string, DatabaseJwtConfig>>;
}

/**
 * How a `jwt` setting's value is checked when `server.json` is loaded.
 *
 * @example
 * ```ts
 * const kind: JwtSettingKind = JWT_CONFIG_KEYS.issuer; // 'strings'
 * ```
 */
export type JwtSettingKind =
  | 'string'
  | 'strings'
  | 'boolean'
  | 'seconds'
  | 'timeout'
  | 'claims'
  | 'databases';

/**
 * Every key the `jwt` object accepts, with the kind of value it takes. docs/server-config.md
 * documents each (a test checks it).
 *
 * @example
 * ```ts
 * Object.keys(JWT_CONFIG_KEYS); // ['hs256Secret', 'rs256PublicKeyPath', …]
 * ```
 */
export const JWT_CONFIG_KEYS: Readonly<Record<keyof JwtConfig, JwtSettingKind>> = {
  hs256Secret: 'string',
  rs256PublicKeyPath: 'string',
  jwksPath: 'string',
  jwksUrl: 'string',
  jwksTimeoutMs: 'timeout',
  jwksCooldownSeconds: 'seconds',
  jwksCacheMaxAgeSeconds: 'seconds',
  issuer: 'strings',
  audience: 'strings',
  clockLeewaySeconds: 'seconds',
  requireDatabaseAudience: 'boolean',
  claims: 'claims',
  databases: 'databases',
};

/**
 * Every key an entry of `jwt.databases` accepts.
 *
 * @example
 * ```ts
 * Object.keys(DATABASE_JWT_CONFIG_KEYS); // ['issuer', 'audience', 'claims']
 * ```
 */
export const DATABASE_JWT_CONFIG_KEYS: Readonly<Record<keyof DatabaseJwtConfig, JwtSettingKind>> = {
  issuer: 'strings',
  audience: 'strings',
  claims: 'claims',
};

/**
 * Whether `value` is a usable clock leeway: whole seconds (the unit `exp` is counted in), not
 * negative, and at most a day, beyond which "leeway" would mean tokens never expire.
 *
 * @example
 * ```ts
 * isLeewaySeconds(30); // true
 * isLeewaySeconds(-1); // false
 * ```
 */
export function isLeewaySeconds(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= 86_400;
}

/**
 * Checks the `jwt` object of `server.json`: unknown keys and values of the wrong kind are refused
 * with an {@link AuthConfigError} naming the key, so a typo never silently turns a check off.
 *
 * @example
 * ```ts
 * checkJwtConfig({ hs256Secret: 'x'.repeat(43), audience: 'todos' }); // ok
 * checkJwtConfig({ audiance: 'todos' }); // throws: unknown setting "jwt.audiance"
 * ```
 */
export function checkJwtConfig(jwt: unknown): asserts jwt is JwtConfig {
  checkSection(jwt, 'jwt', JWT_CONFIG_KEYS);
}

function checkSection(
  section: unknown,
  where: string,
  keys: Readonly<Record<string, JwtSettingKind>>,
): void {
  if (typeof section !== 'object' || section === null || Array.isArray(section))
    throw new AuthConfigError(`"${where}" must be an object`);
  for (const [key, value] of Object.entries(section)) {
    const kind = Object.hasOwn(keys, key) ? keys[key] : undefined;
    const name = `${where}.${key}`;
    if (kind === undefined) throw new AuthConfigError(`unknown setting ${JSON.stringify(name)}`);
    checkValue(name, kind, value);
  }
}

function checkValue(name: string, kind: JwtSettingKind, value: unknown): void {
  switch (kind) {
    case 'string':
    case 'boolean':
      if (typeof value !== kind) throw new AuthConfigError(`${name} must be a ${kind}`);
      return;
    case 'strings':
      if (
        typeof value !== 'string' &&
        !(
          Array.isArray(value) &&
          value.length > 0 &&
          value.every((each) => typeof each === 'string')
        )
      )
        throw new AuthConfigError(`${name} must be a string or a non-empty array of strings`);
      return;
    case 'seconds':
      if (!isLeewaySeconds(value))
        throw new AuthConfigError(`${name} must be a whole number of seconds from 0 to 86400`);
      return;
    case 'timeout':
      if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > 60_000)
        throw new AuthConfigError(`${name} must be a whole number of ms from 1 to 60000`);
      return;
    case 'claims':
      checkClaimMap(value, name);
      return;
    case 'databases':
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new AuthConfigError(`${name} must be an object of database name to settings`);
      for (const [database, rules] of Object.entries(value))
        checkSection(rules, `${name}.${database}`, DATABASE_JWT_CONFIG_KEYS);
      return;
  }
}

/**
 * Whether `jwt` configures any key source, that is whether the server accepts user tokens.
 *
 * @example
 * ```ts
 * hasTokenKeySource({ audience: 'todos' }); // false
 * ```
 */
export function hasTokenKeySource(jwt: JwtConfig): boolean {
  return Boolean(jwt.hs256Secret || jwt.rs256PublicKeyPath || jwt.jwksPath || jwt.jwksUrl);
}

/**
 * Builds the {@link TokenVerifier} a `jwt` configuration describes (reading the RS256 key file),
 * or `undefined` when it configures no key source.
 *
 * @example
 * ```ts
 * const tokens = await tokenVerifierFromConfig(loadServerConfig(dataDir).jwt, { now: Date.now });
 * ```
 */
export async function tokenVerifierFromConfig(
  jwt: JwtConfig,
  options: { readonly now: () => number; readonly clockLeewaySeconds?: number | undefined },
): Promise<TokenVerifier | undefined> {
  if (!hasTokenKeySource(jwt)) return undefined;
  const remote = {
    ...(jwt.jwksTimeoutMs === undefined ? {} : { timeoutMs: jwt.jwksTimeoutMs }),
    ...(jwt.jwksCooldownSeconds === undefined
      ? {}
      : { cooldownMs: jwt.jwksCooldownSeconds * 1000 }),
    ...(jwt.jwksCacheMaxAgeSeconds === undefined
      ? {}
      : { cacheMaxAgeMs: jwt.jwksCacheMaxAgeSeconds * 1000 }),
  };
  return TokenVerifier.create({
    ...(jwt.hs256Secret ? { hs256Secret: jwt.hs256Secret } : {}),
    ...(jwt.rs256PublicKeyPath ? { rs256PublicKey: readKeyFile(jwt.rs256PublicKeyPath) } : {}),
    ...(jwt.jwksPath ? { jwksPath: jwt.jwksPath } : {}),
    ...(jwt.jwksUrl ? { jwksUrl: jwt.jwksUrl, remoteJwks: remote } : {}),
    ...(jwt.issuer ? { issuer: jwt.issuer } : {}),
    ...(jwt.audience ? { audience: jwt.audience } : {}),
    ...(jwt.claims ? { claims: jwt.claims } : {}),
    ...(jwt.databases ? { databases: jwt.databases } : {}),
    ...(options.clockLeewaySeconds === undefined
      ? {}
      : { clockToleranceSeconds: options.clockLeewaySeconds }),
    env: { now: options.now },
  });
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new AuthConfigError(`cannot read jwt.rs256PublicKeyPath ${path}`, error);
  }
}
