import { readFile, stat } from 'node:fs/promises';
import { createLocalJWKSet, type JWTVerifyGetKey, type LocalJWKSet } from 'jose';
import { AuthConfigError } from './auth-error.js';

/**
 * A JSON Web Key Set read from a file, re-read whenever the file changes on disk, so keys can be
 * rotated by rewriting the file without restarting the server.
 *
 * Each verification stats the file (one system call); a change of inode, size, modification or
 * change time triggers one re-read, shared by concurrent verifications. A file that no longer
 * parses (say, caught half-written by a non-atomic writer) keeps the last good key set in force
 * rather than locking every user out; the next change is read again.
 *
 * @example
 * ```ts
 * const jwks = await JwksFile.load('/etc/offsync/jwks.json');
 * await jwtVerify(token, jwks.getKey, { algorithms: ['RS256'] });
 * ```
 */
export class JwksFile {
  /** The key set file. */
  readonly path: string;
  #keys: LocalJWKSet;
  #version: string;
  #refreshing: Promise<void> | undefined;

  private constructor(path: string, keys: LocalJWKSet, version: string) {
    this.path = path;
    this.#keys = keys;
    this.#version = version;
  }

  /**
   * Reads the file; refuses a missing or invalid one with an {@link AuthConfigError}, since a
   * server that starts without its keys would refuse every user.
   *
   * @example
   * ```ts
   * const jwks = await JwksFile.load(path);
   * ```
   */
  static async load(path: string): Promise<JwksFile> {
    try {
      const version = await fileVersion(path);
      return new JwksFile(path, await readKeySet(path), version);
    } catch (error) {
      throw new AuthConfigError(
        `cannot load the JSON Web Key Set ${path}: ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    }
  }

  /**
   * Key resolver for jose's `jwtVerify`: picks the key by the token's `kid` and `alg` from the
   * file's current content.
   *
   * @example
   * ```ts
   * await jwtVerify(token, jwks.getKey);
   * ```
   */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    await this.#refreshing;
    return this.#keys(header, token);
  };

  async #refresh(): Promise<void> {
    let version: string;
    try {
      version = await fileVersion(this.path);
    } catch {
      return; // gone for a moment (replaced by a delete then write): keep the last good keys
    }
    if (version === this.#version) return;
    // Recorded before reading: a broken file is not re-parsed on every request.
    this.#version = version;
    try {
      this.#keys = await readKeySet(this.path);
    } catch {
      // keep the last good key set, see the class comment
    }
  }
}

async function fileVersion(path: string): Promise<string> {
  const info = await stat(path, { bigint: true });
  return `${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
}

async function readKeySet(path: string): Promise<LocalJWKSet> {
  return createLocalJWKSet(JSON.parse(await readFile(path, 'utf8')));
}
