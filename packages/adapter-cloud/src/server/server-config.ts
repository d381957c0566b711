import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OffsyncError } from '@offsync/core';
import { AuthConfigError } from '../auth/auth-error.js';
import { checkJwtConfig, type JwtConfig } from '../auth/jwt-config.js';
import { type ObservabilityConfig, parseObservabilityConfig } from './observability/config.js';
import { checkAllowedOrigins } from './origin-policy.js';

export {
  DATABASE_JWT_CONFIG_KEYS,
  type DatabaseJwtConfig,
  isLeewaySeconds,
  JWT_CONFIG_KEYS,
  type JwtConfig,
  type JwtSettingKind,
} from '../auth/jwt-config.js';

/**
 * The server's configuration file.
 *
 * @example
 * ```ts
 * const config = loadServerConfig('./data');
 * ```
 */
export interface ServerConfig extends ObservabilityConfig {
  /** JWT verification. */
  readonly jwt: JwtConfig;
  /**
   * Browser origins allowed to call the server (CORS on HTTP, the Origin check on WebSocket
   * upgrades); `["*"]` allows any. Absent: no CORS headers, and WebSocket upgrades from any
   * origin (see docs/server-config.md).
   */
  readonly allowedOrigins?: readonly string[];
}

/**
 * Every top-level key `server.json` accepts; anything else is refused, so a misspelt section is
 * an error at start rather than a setting silently ignored. docs/server-config.md documents each
 * (a test checks it): add a key here and there together.
 *
 * @example
 * ```ts
 * SERVER_CONFIG_KEYS.includes('jwt'); // true
 * ```
 */
export const SERVER_CONFIG_KEYS: readonly string[] = ['jwt', 'allowedOrigins', 'log', 'metrics'];

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
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ServerConfigError(path, 'must be a JSON object');
  for (const key of Object.keys(parsed))
    if (!SERVER_CONFIG_KEYS.includes(key))
      throw new ServerConfigError(path, `unknown setting ${JSON.stringify(key)}`);
  const { jwt, allowedOrigins } = parsed as { jwt?: unknown; allowedOrigins?: unknown };
  if (typeof jwt !== 'object' || jwt === null)
    throw new ServerConfigError(path, 'missing "jwt" object');
  try {
    checkJwtConfig(jwt);
    if (allowedOrigins !== undefined) checkAllowedOrigins(allowedOrigins, 'allowedOrigins');
  } catch (error) {
    if (error instanceof AuthConfigError) throw new ServerConfigError(path, error.reason);
    throw error;
  }
  const observability = parseObservabilityConfig(parsed);
  if (typeof observability === 'string') throw new ServerConfigError(path, observability);
  return {
    ...observability,
    jwt,
    ...(allowedOrigins === undefined ? {} : { allowedOrigins: allowedOrigins as string[] }),
  };
}
