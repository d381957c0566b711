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
  for (const key of Object.keys(jwt)) {
    if (!['hs256Secret', 'rs256PublicKeyPath', 'jwksPath', 'issuer', 'audience'].includes(key)) {
      throw new ServerConfigError(path, `unknown jwt setting ${JSON.stringify(key)}`);
    }
    if (typeof (jwt as Record<string, unknown>)[key] !== 'string')
      throw new ServerConfigError(path, `jwt.${key} must be a string`);
  }
  return { jwt: jwt as JwtConfig };
}
