import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { OffsyncError } from '@offsync/core';
import { AuthError } from './auth-error.js';
import type { Principal, UserPrincipal } from './principal.js';

/**
 * The revocation file is unreadable or not what this server writes.
 *
 * @example
 * ```ts
 * if (error instanceof UserRevocationsFileError) console.error(error.path, error.reason);
 * ```
 */
export class UserRevocationsFileError extends OffsyncError {
  readonly type = 'UserRevocationsFileError';
  /** The file. */
  readonly path: string;
  /** What is wrong. */
  readonly reason: string;

  constructor(path: string, reason: string) {
    super(`user revocations ${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

interface RevocationFile {
  readonly version: 1;
  /** database → user (`sub`) → revokedBefore (ms since the epoch). */
  readonly databases: Record<string, Record<string, number>>;
}

/**
 * Per database, the users whose tokens issued before an instant are refused ("sign this user out
 * everywhere"), kept in a JSON file so a restart forgets none. A token of a revoked user is good
 * again only if its `iat` is at or after the revocation instant; one without `iat` never is
 * (nothing proves it newer).
 *
 * Revoking writes the file before it answers (temporary file, fsync, rename), so an admin who saw
 * the answer knows the refusal survives a crash.
 *
 * @example
 * ```ts
 * const revocations = UserRevocations.open('./data/revocations.json');
 * const revokedBefore = revocations.revoke('todos', 'auth0|42', Date.now());
 * revocations.check(principal, 'todos'); // throws AuthError 'revoked' for an older token
 * ```
 */
export class UserRevocations {
  /** The file. */
  readonly path: string;
  readonly #databases: Map<string, Map<string, number>>;

  private constructor(path: string, databases: Map<string, Map<string, number>>) {
    this.path = path;
    this.#databases = databases;
  }

  /**
   * Reads the file (an absent one means no revocations); refuses a corrupt one with a
   * {@link UserRevocationsFileError} rather than silently forgetting revoked users.
   *
   * @example
   * ```ts
   * const revocations = UserRevocations.open(join(dataDir, 'revocations.json'));
   * ```
   */
  static open(path: string): UserRevocations {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT')
        return new UserRevocations(path, new Map());
      throw new UserRevocationsFileError(path, `cannot be read (${String(error)})`);
    }
    return new UserRevocations(path, parse(path, text));
  }

  /**
   * Refuses every token of `user` on `database` issued before `at` (ms), and returns the
   * instant in force: a later revocation moves it forward, an earlier one never back.
   *
   * @example
   * ```ts
   * const revokedBefore = revocations.revoke('todos', 'user-42', Date.now());
   * ```
   */
  revoke(database: string, user: string, at: number): number {
    const users = this.#databases.get(database) ?? new Map<string, number>();
    const revokedBefore = Math.max(users.get(user) ?? 0, Math.floor(at));
    const next = new Map(this.#databases);
    next.set(database, new Map(users).set(user, revokedBefore));
    this.#write(next);
    // Only once the file holds it: a failed write must not leave a refusal that a restart undoes.
    this.#databases.set(database, next.get(database)!);
    return revokedBefore;
  }

  /**
   * When `user`'s tokens stopped being good on `database` (ms), or `undefined` if never revoked.
   *
   * @example
   * ```ts
   * const before = revocations.revokedBefore('todos', 'user-42');
   * ```
   */
  revokedBefore(database: string, user: string): number | undefined {
    return this.#databases.get(database)?.get(user);
  }

  /**
   * Refuses `principal` on `database` with an {@link AuthError} of code `revoked` (HTTP 401)
   * when its token was issued before the user's revocation there.
   *
   * @example
   * ```ts
   * revocations.check(principal, 'todos');
   * ```
   */
  check(principal: UserPrincipal, database: string): void {
    const before = this.revokedBefore(database, principal.sub);
    if (before === undefined) return;
    const iat = principal.claims.iat;
    // iat counts whole seconds: a token issued in the revocation's second is refused too (it may
    // have been issued before it); a fresh sign-in a second later is good.
    if (typeof iat === 'number' && Number.isFinite(iat) && iat * 1000 >= before) return;
    throw new AuthError(
      'revoked',
      "this user's sessions were revoked; sign in again to get a new token",
    );
  }

  /**
   * Whether `principal` (a user) is refused on `database` by a revocation; `false` for API keys
   * and for no principal.
   *
   * @example
   * ```ts
   * if (revocations.revokes(session.principal, 'todos')) socket.close(4403, 'user revoked');
   * ```
   */
  revokes(principal: Principal | undefined, database: string): boolean {
    if (principal?.kind !== 'user') return false;
    try {
      this.check(principal, database);
      return false;
    } catch {
      return true;
    }
  }

  #write(databases: Map<string, Map<string, number>>): void {
    const file: RevocationFile = {
      version: 1,
      databases: Object.fromEntries(
        [...databases].map(([name, users]) => [name, Object.fromEntries(users)]),
      ),
    };
    const temporary = `${this.path}.${process.pid}.tmp`;
    try {
      const fd = openSync(temporary, 'w', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(file, null, 2)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, this.path);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
  }
}

function parse(path: string, text: string): Map<string, Map<string, number>> {
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch {
    throw new UserRevocationsFileError(path, 'not valid JSON');
  }
  const { version, databases } = (file ?? {}) as Partial<RevocationFile>;
  if (version !== 1 || typeof databases !== 'object' || databases === null)
    throw new UserRevocationsFileError(path, 'expected {"version": 1, "databases": {...}}');
  const result = new Map<string, Map<string, number>>();
  for (const [database, users] of Object.entries(databases)) {
    if (typeof users !== 'object' || users === null)
      throw new UserRevocationsFileError(path, `databases.${database} must be an object`);
    const map = new Map<string, number>();
    for (const [user, at] of Object.entries(users)) {
      if (!Number.isSafeInteger(at))
        throw new UserRevocationsFileError(path, `databases.${database}: a time is not an integer`);
      map.set(user, at as number);
    }
    result.set(database, map);
  }
  return result;
}
