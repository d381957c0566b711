import { AuthConfigError } from '../auth/auth-error.js';

/**
 * Refuses an `allowedOrigins` setting that could not match what a browser sends: each entry must
 * be `"*"` (alone) or an origin exactly as browsers serialise it, `scheme://host[:port]` in lower
 * case with no path, no trailing slash and no default port.
 *
 * @example
 * ```ts
 * checkAllowedOrigins(['https://app.example.com'], 'allowedOrigins'); // ok
 * checkAllowedOrigins(['https://app.example.com/'], 'allowedOrigins'); // throws AuthConfigError
 * ```
 */
export function checkAllowedOrigins(value: unknown, where: string): asserts value is string[] {
  if (!Array.isArray(value) || !value.every((each) => typeof each === 'string'))
    throw new AuthConfigError(`${where} must be an array of origins`);
  if (value.includes('*') && value.length > 1)
    throw new AuthConfigError(`${where}: "*" allows every origin and must stand alone`);
  for (const origin of value) {
    if (origin === '*') continue;
    let serialised: string | undefined;
    try {
      serialised = new URL(origin).origin;
    } catch {
      serialised = undefined;
    }
    if (serialised !== origin || serialised === 'null')
      throw new AuthConfigError(
        `${where}: ${JSON.stringify(origin)} is not an origin as browsers send it` +
          (serialised && serialised !== 'null'
            ? ` (did you mean ${JSON.stringify(serialised)}?)`
            : ''),
      );
  }
}

/**
 * Which browser origins may call the server, from `allowedOrigins` of `server.json`.
 *
 * Unconfigured, the server behaves as before origins were checked: HTTP answers carry no CORS
 * headers (browsers keep other origins from reading them) and WebSocket upgrades are accepted
 * from any page, which is safe because a session is authorised by the token in `hello`, never
 * by cookies a browser would attach on its own. Configured, only the listed origins (or any,
 * for `"*"`) get CORS headers and upgrades; a request from the server's own origin (its `Host`)
 * is always allowed, so the dashboard keeps working.
 *
 * @example
 * ```ts
 * const policy = new OriginPolicy(['https://app.example.com']);
 * policy.allows('https://app.example.com', 'sync.example.com'); // true
 * policy.allows('https://evil.example', 'sync.example.com'); // false
 * ```
 */
export class OriginPolicy {
  /** The configured origins, `undefined` when unconfigured. */
  readonly origins: ReadonlySet<string> | undefined;

  constructor(allowedOrigins: readonly string[] | undefined) {
    if (allowedOrigins !== undefined) checkAllowedOrigins([...allowedOrigins], 'allowedOrigins');
    this.origins = allowedOrigins === undefined ? undefined : new Set(allowedOrigins);
  }

  /** Whether origins are configured at all. */
  get configured(): boolean {
    return this.origins !== undefined;
  }

  /** Whether every origin is allowed (`["*"]`). */
  get any(): boolean {
    return this.origins?.has('*') === true;
  }

  /**
   * Whether a request with this `Origin` header (and `Host` header) is allowed. No `Origin` is
   * a non-browser client (browsers send it on every cross-origin request and every WebSocket),
   * which an origin list cannot restrict anyway: it can send any header it likes.
   *
   * @example
   * ```ts
   * policy.allows(undefined, 'sync.example.com'); // true: curl, Node, a mobile app
   * ```
   */
  allows(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    if (this.origins === undefined || this.any) return true;
    if (this.origins.has(origin)) return true;
    return sameOrigin(origin, host);
  }

  /**
   * Whether a response to `origin` should carry CORS headers: only for a configured, allowed,
   * cross-origin caller (the same origin needs none).
   *
   * @example
   * ```ts
   * policy.corsFor('https://app.example.com'); // true when listed
   * ```
   */
  corsFor(origin: string | undefined): boolean {
    if (origin === undefined || this.origins === undefined) return false;
    return this.any || this.origins.has(origin);
  }
}

/** Whether `origin` names the host the request was sent to (the server's own pages). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}
