import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OffsyncError } from '@offsync/core';

/**
 * How the server verifies users' JWTs, kept in `<data>/server.json`.
 *
 * @example
 * ```ts
 * const jwt: JwtConfig = { hs256Secret: process.env.JWT_SECRET, audience: 'todo-app' };
 * ```
 */
export interface JwtConfig {
  /** Shared HS256 secret (a development one is generated on first start). */
  readonly hs256Secret?: string;
  /** Path of an RS256 public key (PEM, SPKI). */
  readonly rs256PublicKeyPath?: string;
  /** Path of a JSON Web Key Set file. */
  readonly jwksPath?: string;
  /** Required issuer. */
  readonly issuer?: string;
  /** Required audience. */
  readonly audience?: string;
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
}

/**
 * The server's configuration file.
 *
 * @example
 * ```ts
 * const config = loadServerConfig('./data');
 * ```
 */
export interface ServerConfig {
  /** JWT verification. */
  readonly jwt: JwtConfig;
}

/**
 * The configuration file is unreadable or invalid.
 *
 * @example
 * ```ts
 * if (error instanceof ServerConfigError) console.error(error.path, error.reason);
 * ```
 */
export class ServerConfigError extends OffsyncError {
  readonly type = 'ServerConfigError';
  /** The file. */
  readonly path: string;
  /** What is wrong. */
  readonly reason: string;

  constructor(path: string, reason: string) {
    super(`server configuration ${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

/**
 * Reads `<data>/server.json`, creating it on first start with a random development HS256 secret
 * (so `offsync token issue` works out of the box).
 *
 * @example
 * ```ts
 * const { jwt } = loadServerConfig(dataDir);
 * ```
 */
export function loadServerConfig(dataDir: string): ServerConfig {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'server.json');
  if (!existsSync(path)) {
    const config: ServerConfig = { jwt: { hs256Secret: randomBytes(32).toString('base64url') } };
    writeFileSync(`${path}.tmp`, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
    return config;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ServerConfigError(
      path,
      `not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const jwt = (parsed as { jwt?: unknown }).jwt;
  if (typeof jwt !== 'object' || jwt === null)
    throw new ServerConfigError(path, 'missing "jwt" object');
  for (const [key, value] of Object.entries(jwt)) {
    const kind = JWT_SETTINGS[key];
    if (kind === undefined) {
      throw new ServerConfigError(path, `unknown jwt setting ${JSON.stringify(key)}`);
    }
    if (kind === 'seconds') {
      if (!isLeewaySeconds(value))
        throw new ServerConfigError(path, `jwt.${key} must be a whole number of seconds ≥ 0`);
    } else if (typeof value !== kind) {
      throw new ServerConfigError(path, `jwt.${key} must be a ${kind}`);
    }
  }
  return { jwt: jwt as JwtConfig };
}

const JWT_SETTINGS: Readonly<Record<string, 'string' | 'boolean' | 'seconds'>> = {
  hs256Secret: 'string',
  rs256PublicKeyPath: 'string',
  jwksPath: 'string',
  issuer: 'string',
  audience: 'string',
  clockLeewaySeconds: 'seconds',
  requireDatabaseAudience: 'boolean',
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
