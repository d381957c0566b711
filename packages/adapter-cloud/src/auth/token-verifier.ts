import { defaultEnv, type Env } from '@offsync/core';
import { type CryptoKey, errors, importSPKI, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { AuthConfigError, AuthError } from './auth-error.js';
import { applyClaimMap, type ClaimMap, checkClaimMap } from './claim-map.js';
import { authErrorFromJose } from './jose-errors.js';
import { JwksFile } from './jwks-file.js';
import type { UserPrincipal } from './principal.js';
import { RemoteJwks, type RemoteJwksOptions } from './remote-jwks.js';

/**
 * One database's own token rules, each replacing the server-wide setting of the same name for
 * tokens presented to that database (an absent one keeps the server-wide setting).
 *
 * @example
 * ```ts
 * const rules: DatabaseTokenRules = { issuer: 'https://tenant-a.auth0.com/', audience: 'todos-a' };
 * ```
 */
export interface DatabaseTokenRules {
  /** Accepted `iss` value(s) on this database. */
  readonly issuer?: string | readonly string[];
  /** Accepted `aud` value(s) on this database. */
  readonly audience?: string | readonly string[];
  /** Claims computed for row-level security on this database (see {@link ClaimMap}). */
  readonly claims?: ClaimMap;
}

interface ResolvedRules {
  readonly issuer: string[] | undefined;
  readonly audience: string[] | undefined;
  readonly claims: ClaimMap | undefined;
}

/**
 * Options of {@link TokenVerifier.create}. At least one key source is required; several may be
 * combined (for example a JWKS for the identity provider plus an HS256 secret for development
 * tokens), and a token is checked against the source its `alg` (and `kid`) points to.
 *
 * @example
 * ```ts
 * const options: TokenVerifierOptions = {
 *   jwksPath: '/etc/offsync/jwks.json',
 *   issuer: 'https://auth.example.com/',
 *   audience: 'offsync',
 * };
 * ```
 */
export interface TokenVerifierOptions {
  /** Shared secret for HS256 tokens, at least 32 bytes (RFC 7518 §3.2). */
  readonly hs256Secret?: string | Uint8Array;
  /** Public key for RS256 tokens, PEM-encoded SPKI (`-----BEGIN PUBLIC KEY-----`). */
  readonly rs256PublicKey?: string;
  /** Path of a JSON Web Key Set file; keys are chosen by `kid`, the file is re-read on change. */
  readonly jwksPath?: string;
  /** URL of an identity provider's JSON Web Key Set (its `jwks_uri`), see {@link RemoteJwks}. */
  readonly jwksUrl?: string;
  /** Timeout, cooldown, cache age and size bounds of `jwksUrl`. */
  readonly remoteJwks?: RemoteJwksOptions;
  /** Accepted `iss` value(s); when set, a token must carry one of them. */
  readonly issuer?: string | readonly string[];
  /** Accepted `aud` value(s); when set, a token must name one of them. */
  readonly audience?: string | readonly string[];
  /** Claims computed for row-level security (see {@link ClaimMap}). */
  readonly claims?: ClaimMap;
  /** Per-database rules, by database name, replacing `issuer`, `audience` and `claims` there. */
  readonly databases?: Readonly<Record<string, DatabaseTokenRules>>;
  /** Leeway for `exp` and `nbf` against clock skew, in seconds (default 30). */
  readonly clockToleranceSeconds?: number;
  /** Where the current time comes from; defaults to the real clock. */
  readonly env?: Pick<Env, 'now'>;
}

/**
 * Default leeway for `exp`/`nbf`, in seconds: covers ordinary skew between an identity provider
 * and the server. The server setting `jwt.clockLeewaySeconds` (CLI `--clock-leeway`) overrides it.
 *
 * @example
 * ```ts
 * const leewayMs = DEFAULT_CLOCK_LEEWAY_SECONDS * 1000; // 30000
 * ```
 */
export const DEFAULT_CLOCK_LEEWAY_SECONDS = 30;
/** Longer than any real access token; refused before any parsing work. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const MIN_HS256_SECRET_BYTES = 32;
/**
 * What a key set may sign with. Asymmetric only: an `oct` key in a published key set would be a
 * shared secret anyone who can read the file could sign with.
 */
const JWKS_ALGORITHMS = ['RS256', 'ES256'] as const;

/**
 * Verifies users' JWT access tokens (HS256, RS256, or keys from a JWKS file) and turns them into
 * {@link UserPrincipal}s. Every token must carry `sub` and `exp`; `iss` and `aud` are checked
 * when configured. The accepted algorithms are exactly those of the configured sources, so
 * `alg: none` and algorithm-confusion tokens are refused before any key is chosen.
 *
 * @example
 * ```ts
 * const verifier = await TokenVerifier.create({ hs256Secret: process.env.OFFSYNC_JWT_SECRET });
 * const user = await verifier.verify(token); // { kind: 'user', sub, claims, expiresAt }
 * ```
 */
export class TokenVerifier {
  readonly #hmac: Uint8Array | undefined;
  readonly #rsa: CryptoKey | undefined;
  readonly #keySets: readonly JWTVerifyGetKey[];
  readonly #algorithms: string[];
  readonly #defaults: ResolvedRules;
  readonly #databases: ReadonlyMap<string, ResolvedRules>;
  readonly #tolerance: number;
  readonly #env: Pick<Env, 'now'>;

  private constructor(
    options: TokenVerifierOptions,
    hmac: Uint8Array | undefined,
    rsa: CryptoKey | undefined,
    keySets: readonly JWTVerifyGetKey[],
    tolerance: number,
  ) {
    this.#hmac = hmac;
    this.#rsa = rsa;
    this.#keySets = keySets;
    const algorithms = new Set<string>();
    if (hmac) algorithms.add('HS256');
    if (rsa) algorithms.add('RS256');
    if (keySets.length > 0) for (const alg of JWKS_ALGORITHMS) algorithms.add(alg);
    this.#algorithms = [...algorithms];
    this.#defaults = {
      issuer: toList(options.issuer),
      audience: toList(options.audience),
      claims: options.claims,
    };
    this.#databases = new Map(
      Object.entries(options.databases ?? {}).map(([name, rules]) => [
        name,
        {
          issuer: rules.issuer === undefined ? this.#defaults.issuer : toList(rules.issuer),
          audience: rules.audience === undefined ? this.#defaults.audience : toList(rules.audience),
          claims: rules.claims ?? this.#defaults.claims,
        },
      ]),
    );
    this.#tolerance = tolerance;
    this.#env = options.env ?? defaultEnv;
  }

  /**
   * Checks the options and loads the keys; refuses a bad configuration with an
   * {@link AuthConfigError} at startup rather than turning it into refused users later.
   *
   * @example
   * ```ts
   * const verifier = await TokenVerifier.create({ rs256PublicKey: pem, audience: 'offsync' });
   * ```
   */
  static async create(options: TokenVerifierOptions): Promise<TokenVerifier> {
    const { hs256Secret, rs256PublicKey, jwksPath, jwksUrl } = options;
    if (
      hs256Secret === undefined &&
      rs256PublicKey === undefined &&
      jwksPath === undefined &&
      jwksUrl === undefined
    ) {
      throw new AuthConfigError(
        'no token key source configured: set hs256Secret, rs256PublicKey, jwksPath or jwksUrl',
      );
    }
    if (options.claims !== undefined) checkClaimMap(options.claims, 'claims');
    for (const [name, rules] of Object.entries(options.databases ?? {}))
      if (rules.claims !== undefined) checkClaimMap(rules.claims, `databases.${name}.claims`);
    const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_LEEWAY_SECONDS;
    if (!Number.isFinite(tolerance) || tolerance < 0) {
      throw new AuthConfigError('clockToleranceSeconds must be a finite number ≥ 0');
    }
    const hmac = hs256Secret === undefined ? undefined : hmacKey(hs256Secret);
    const rsa = rs256PublicKey === undefined ? undefined : await rsaKey(rs256PublicKey);
    const keySets: JWTVerifyGetKey[] = [];
    if (jwksPath !== undefined) keySets.push((await JwksFile.load(jwksPath)).getKey);
    if (jwksUrl !== undefined) keySets.push(RemoteJwks.create(jwksUrl, options.remoteJwks).getKey);
    return new TokenVerifier(options, hmac, rsa, keySets, tolerance);
  }

  /**
   * Verifies a compact JWT (without the `Bearer ` prefix) for `database` (its own issuer,
   * audience and claim rules when it has some; the server-wide ones otherwise or when no
   * database is named). Refusals are {@link AuthError}s with status 401 (503 when a remote key
   * set cannot be fetched) and a message safe to show the client.
   *
   * @example
   * ```ts
   * const { sub, claims } = await verifier.verify(token, 'todos');
   * ```
   */
  async verify(token: string, database?: string): Promise<UserPrincipal> {
    const rules =
      (database === undefined ? undefined : this.#databases.get(database)) ?? this.#defaults;
    if (token === '') throw new AuthError('missing');
    if (token.length > MAX_TOKEN_LENGTH) throw new AuthError('malformed', 'the token is too long');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.#getKey, {
        algorithms: this.#algorithms,
        ...(rules.issuer && { issuer: rules.issuer }),
        ...(rules.audience && { audience: rules.audience }),
        clockTolerance: this.#tolerance,
        currentDate: new Date(this.#env.now()),
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      throw authErrorFromJose(error) ?? error;
    }
    const { sub, exp } = payload;
    if (typeof sub !== 'string' || sub === '') {
      throw new AuthError('malformed', 'the token\'s "sub" claim must be a non-empty string');
    }
    // jose has already checked that exp is present and a number.
    return {
      kind: 'user',
      sub,
      claims: deepFreeze(applyClaimMap(payload, rules.claims)),
      expiresAt: (exp as number) * 1000,
    };
  }

  readonly #getKey: JWTVerifyGetKey = (header, token) => {
    // `alg` is already one of #algorithms (jose checks the allow-list before asking for a key),
    // and each algorithm is served by the source configured for it, never by another's key.
    if (header.alg === 'HS256' && this.#hmac) return this.#hmac;
    if (header.alg === 'RS256' && this.#rsa && (header.kid === undefined || !this.#keySets[0])) {
      return this.#rsa;
    }
    return this.#fromKeySets(header, token);
  };

  readonly #fromKeySets: JWTVerifyGetKey = async (header, token) => {
    // A key file and a provider's URL may both be configured: the first set holding the `kid`
    // verifies; only the last set's refusal is the answer.
    for (const [index, getKey] of this.#keySets.entries()) {
      try {
        return await getKey(header, token);
      } catch (error) {
        const last = index === this.#keySets.length - 1;
        if (last || !(error instanceof errors.JWKSNoMatchingKey)) throw error;
      }
    }
    throw new AuthError('unknown-key', 'no trusted key matches the token');
  };
}

function hmacKey(secret: string | Uint8Array): Uint8Array {
  // A copy: the caller's buffer may be reused or zeroed after startup.
  const bytes =
    typeof secret === 'string' ? new TextEncoder().encode(secret) : Uint8Array.from(secret);
  if (bytes.length < MIN_HS256_SECRET_BYTES) {
    throw new AuthConfigError(
      `the HS256 secret must be at least ${MIN_HS256_SECRET_BYTES} bytes long (it is ` +
        `${bytes.length}); make one with \`openssl rand -base64 48\``,
    );
  }
  return bytes;
}

async function rsaKey(pem: string): Promise<CryptoKey> {
  try {
    return await importSPKI(pem.trim(), 'RS256');
  } catch (error) {
    throw new AuthConfigError(
      'rs256PublicKey is not a PEM-encoded RSA public key (-----BEGIN PUBLIC KEY-----)',
      error,
    );
  }
}

function toList(value: string | readonly string[] | undefined): string[] | undefined {
  return value === undefined ? undefined : typeof value === 'string' ? [value] : [...value];
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
