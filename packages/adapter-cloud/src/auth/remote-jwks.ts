import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import { AuthConfigError, AuthError } from './auth-error.js';

/**
 * Options of {@link RemoteJwks.create}.
 *
 * @example
 * ```ts
 * const options: RemoteJwksOptions = { timeoutMs: 3000, cooldownMs: 30_000 };
 * ```
 */
export interface RemoteJwksOptions {
  /** How long one fetch of the key set may take, in ms (default 3,000). */
  readonly timeoutMs?: number;
  /**
   * After a fetch, how long a token with an unknown `kid` is refused without fetching again, in
   * ms (default 30,000): bounds the fetches a stream of made-up `kid`s can cause.
   */
  readonly cooldownMs?: number;
  /** How long a fetched key set is used before it is fetched again, in ms (default 600,000). */
  readonly cacheMaxAgeMs?: number;
  /** Largest key set accepted, in bytes (default 1 MiB); a larger answer is refused unread. */
  readonly maxBytes?: number;
}

/**
 * Default bounds of a remote key set, chosen for identity providers' published key sets: a few
 * keys, rotated rarely, a few KiB.
 *
 * @example
 * ```ts
 * const timeout = REMOTE_JWKS_DEFAULTS.timeoutMs; // 3000
 * ```
 */
export const REMOTE_JWKS_DEFAULTS = {
  timeoutMs: 3_000,
  cooldownMs: 30_000,
  cacheMaxAgeMs: 600_000,
  maxBytes: 1024 * 1024,
} as const;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A JSON Web Key Set fetched from an identity provider's URL (its `jwks_uri`), on jose's remote
 * key set: cached for `cacheMaxAgeMs`, fetched again when a token names a `kid` the cached set
 * lacks (a key rotation), at most once per `cooldownMs`. A key stays usable until a fetched set
 * no longer contains it.
 *
 * A fetch that fails (unreachable, timed out, not 200, not JSON, not a key set, too large) is a
 * refusal with code `key-source-unavailable` (HTTP 503), never a crash. While the provider is
 * down, the keys of the last good fetch keep verifying tokens: an outage of the provider's key
 * endpoint does not lock out users it already signed for.
 *
 * @example
 * ```ts
 * const jwks = RemoteJwks.create('https://example.auth0.com/.well-known/jwks.json');
 * await jwtVerify(token, jwks.getKey, { algorithms: ['RS256'] });
 * ```
 */
export class RemoteJwks {
  /** The key set's URL. */
  readonly url: URL;
  readonly #remote: ReturnType<typeof createRemoteJWKSet>;

  private constructor(url: URL, remote: ReturnType<typeof createRemoteJWKSet>) {
    this.url = url;
    this.#remote = remote;
  }

  /**
   * Checks the URL and options; nothing is fetched until the first token arrives, so a server
   * starts while its provider is down. Refuses plain `http:` except on a loopback host: keys
   * fetched in the clear could be swapped by anyone on the path.
   *
   * @example
   * ```ts
   * const jwks = RemoteJwks.create('http://127.0.0.1:9000/jwks.json', { timeoutMs: 500 });
   * ```
   */
  static create(url: string, options: RemoteJwksOptions = {}): RemoteJwks {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (error) {
      throw new AuthConfigError(`jwksUrl ${JSON.stringify(url)} is not a URL`, error);
    }
    if (
      parsed.protocol !== 'https:' &&
      !(parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname))
    ) {
      throw new AuthConfigError(
        `jwksUrl must use https: (plain http: only on localhost), not ${JSON.stringify(url)}`,
      );
    }
    const timeoutMs = duration(options.timeoutMs, REMOTE_JWKS_DEFAULTS.timeoutMs, 'timeoutMs');
    const cooldownMs = duration(options.cooldownMs, REMOTE_JWKS_DEFAULTS.cooldownMs, 'cooldownMs');
    const cacheMaxAgeMs = duration(
      options.cacheMaxAgeMs,
      REMOTE_JWKS_DEFAULTS.cacheMaxAgeMs,
      'cacheMaxAgeMs',
    );
    const maxBytes = duration(options.maxBytes, REMOTE_JWKS_DEFAULTS.maxBytes, 'maxBytes');
    const remote = createRemoteJWKSet(parsed, {
      timeoutDuration: timeoutMs,
      cooldownDuration: cooldownMs,
      cacheMaxAge: cacheMaxAgeMs,
      [customFetch]: boundedFetch(maxBytes),
    });
    return new RemoteJwks(parsed, remote);
  }

  /**
   * Key resolver for jose's `jwtVerify`, by the token's `kid` and `alg`.
   *
   * @example
   * ```ts
   * await jwtVerify(token, jwks.getKey);
   * ```
   */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await this.#remote(header, token);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys
      ) {
        throw error;
      }
      const last = this.#remote.jwks();
      if (last !== undefined) return createLocalJWKSet(last)(header, token);
      throw new AuthError('key-source-unavailable', unavailableMessage(error), error);
    }
  };

  /**
   * The key set in use (from the last good fetch), or `undefined` before the first.
   *
   * @example
   * ```ts
   * const kids = jwks.current()?.keys.map((key) => key.kid);
   * ```
   */
  current(): JSONWebKeySet | undefined {
    return this.#remote.jwks();
  }
}

function duration(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0)
    throw new AuthConfigError(`${name} must be a whole number ≥ 0`);
  return value;
}

/** Why the fetch failed, in words safe to send a client (no URL, no provider's body). */
function unavailableMessage(error: unknown): string {
  const why =
    error instanceof errors.JWKSTimeout
      ? 'timed out'
      : error instanceof JwksTooLargeError
        ? 'answered a key set larger than allowed'
        : error instanceof errors.JWKSInvalid
          ? 'answered something that is not a JSON Web Key Set'
          : error instanceof errors.JOSEError
            ? 'answered with an error or a body that is not JSON'
            : 'could not be reached';
  return `the identity provider's key set (JWKS) ${why}; try again later`;
}

class JwksTooLargeError extends Error {}

/**
 * jose's fetch, with the body read under a byte limit: a provider (or whoever answers in its
 * place) streaming an endless body would otherwise fill the server's memory.
 */
function boundedFetch(maxBytes: number): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (response.status !== 200) {
      // jose refuses anything but 200 by its status alone; the body is not worth reading.
      await response.body?.cancel();
      return new Response(null, { status: response.status });
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > maxBytes) {
      await response.body?.cancel();
      throw new JwksTooLargeError();
    }
    const reader = response.body?.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > maxBytes) {
          await reader.cancel();
          throw new JwksTooLargeError();
        }
        chunks.push(value);
      }
    }
    return new Response(Buffer.concat(chunks), { status: 200 });
  };
}
