import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { defaultEnv, type Env, OffsyncError } from '@offsync/core';
import { apiKeyRole, generateApiKey, hashApiKey } from './api-key.js';
import { writeFileAtomic } from './atomic-file.js';
import { AuthConfigError } from './auth-error.js';
import type { ApiKeyPrincipal, ApiKeyRole } from './principal.js';

/**
 * What the store keeps about a key, without the key: safe to list in the admin API.
 *
 * @example
 * ```ts
 * for (const info of store.list()) console.log(info.id, info.role, info.label, info.revokedAt ?? 'active');
 * ```
 */
export interface ApiKeyInfo {
  /** Stable id, `key_` and 16 hex digits. */
  readonly id: string;
  /** What the key may do. */
  readonly role: ApiKeyRole;
  /** Free text given at creation, to tell keys apart. */
  readonly label: string;
  /** When the key was created (ISO 8601, UTC). */
  readonly createdAt: string;
  /** When the key was revoked (ISO 8601, UTC); absent while it is active. */
  readonly revokedAt?: string;
  /**
   * The databases a service key may sync (see {@link checkDatabaseBinding}); absent: every
   * database. Admin keys are never scoped: they administer the whole server.
   */
  readonly databases?: readonly string[];
}

/**
 * A newly created key: the only time its plaintext exists outside its holder.
 *
 * @example
 * ```ts
 * const { id, key } = await store.create('service', 'billing worker');
 * console.log(`key ${id}, shown once: ${key}`);
 * ```
 */
export interface CreatedApiKey {
  /** The new key's id. */
  readonly id: string;
  /** The key itself; the store keeps only its hash. */
  readonly key: string;
}

/**
 * What the store knows of a presented key.
 *
 * @example
 * ```ts
 * const result = store.check(key);
 * if (result.status === 'valid') console.log(result.principal.kind);
 * ```
 */
export type ApiKeyCheck =
  | { readonly status: 'valid'; readonly principal: ApiKeyPrincipal }
  | { readonly status: 'revoked'; readonly keyId: string }
  | { readonly status: 'unknown' }
  | { readonly status: 'malformed' };

/**
 * Options of {@link ApiKeyStore.open}.
 *
 * @example
 * ```ts
 * const store = await ApiKeyStore.open(path, { env: { ...defaultEnv, now: () => 0 } });
 * ```
 */
export interface ApiKeyStoreOptions {
  /** Where time and randomness come from; defaults to the real ones. */
  readonly env?: Pick<Env, 'now' | 'randomBytes'>;
}

/**
 * The API key file could not be read, parsed or written.
 *
 * @example
 * ```ts
 * if (error instanceof ApiKeyFileError) console.error(`fix or remove ${error.path}: ${error.reason}`);
 * ```
 */
export class ApiKeyFileError extends OffsyncError {
  readonly type = 'ApiKeyFileError';
  /** The key file. */
  readonly path: string;
  /** What went wrong. */
  readonly reason: string;

  constructor(path: string, reason: string, cause?: unknown) {
    super(`API key file ${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
    if (cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: cause, enumerable: false, writable: true });
    }
  }
}

const FILE_VERSION = 1;
const ID_BYTES = 8;
const HASH_TEXT = /^[A-Za-z0-9_-]{43}$/;
/** The central store's database names (kept in step with `central-store.ts`). */
const DATABASE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

interface Entry {
  readonly info: ApiKeyInfo;
  readonly hash: Buffer;
}

/**
 * The server's API keys, kept in one JSON file in its data folder. Only a SHA-256 hash of each
 * key is stored (the keys are 256 random bits, so a slow password hash would add nothing), and a
 * presented key is compared against every stored hash in constant time. Revoked keys stay in the
 * file, marked, so their holders are told "revoked" rather than "unknown".
 *
 * Every change rewrites the file atomically and in order, and the in-memory state follows only
 * once the file is on disk. The file is read once, at {@link ApiKeyStore.open}: changes made by
 * another process meanwhile are not seen, and would be overwritten by the next change made here.
 *
 * @example
 * ```ts
 * const store = await ApiKeyStore.open(join(dataDir, 'api-keys.json'));
 * const { key } = await store.create('service', 'billing worker');
 * store.verify(key); // { kind: 'service', keyId: 'key_…', label: 'billing worker' }
 * ```
 */
export class ApiKeyStore {
  /** The key file. */
  readonly path: string;
  readonly #env: Pick<Env, 'now' | 'randomBytes'>;
  #entries: readonly Entry[];
  #tail: Promise<unknown> = Promise.resolve();
  // In memory only: writing the file on every request would cost more than the hint is worth.
  readonly #lastUsed = new Map<string, number>();

  private constructor(
    path: string,
    entries: readonly Entry[],
    env: Pick<Env, 'now' | 'randomBytes'>,
  ) {
    this.path = path;
    this.#entries = entries;
    this.#env = env;
  }

  /**
   * Opens the store at `path`; a missing file is an empty store (the file appears with the first
   * key).
   *
   * @example
   * ```ts
   * const store = await ApiKeyStore.open('/var/lib/offsync/api-keys.json');
   * ```
   */
  static async open(path: string, options: ApiKeyStoreOptions = {}): Promise<ApiKeyStore> {
    return new ApiKeyStore(path, await readKeyFile(path), options.env ?? defaultEnv);
  }

  /**
   * Creates a key with a new random value. The plaintext is returned here and never again. A
   * service key may be limited to some databases (`options.databases`); it is then refused
   * (403 `wrong-database`) on every other.
   *
   * @example
   * ```ts
   * const { id, key } = await store.create('admin', 'alice laptop');
   * await store.create('service', 'billing worker', { databases: ['billing'] });
   * ```
   */
  create(
    role: ApiKeyRole,
    label: string,
    options: { readonly databases?: readonly string[] } = {},
  ): Promise<CreatedApiKey> {
    return this.#serial(async () => {
      const databases = options.databases;
      if (databases !== undefined) {
        if (role !== 'service')
          throw new AuthConfigError('only service keys can be limited to databases');
        if (databases.length === 0 || databases.some((name) => !DATABASE_NAME.test(name)))
          throw new AuthConfigError(
            'databases must list one or more database names (letters, digits, - and _)',
          );
      }
      const key = generateApiKey(role, this.#env);
      const info = await this.#add(key, role, label, databases);
      return { id: info.id, key };
    });
  }

  /**
   * Records a key whose plaintext was made elsewhere (a bootstrap key from the environment).
   * Registering an active key again returns it unchanged; a revoked key is refused with an
   * {@link AuthConfigError}, so that a stale environment cannot undo a revocation.
   *
   * @example
   * ```ts
   * await store.register(process.env.OFFSYNC_ADMIN_KEY!, 'bootstrap');
   * ```
   */
  register(key: string, label: string): Promise<ApiKeyInfo> {
    return this.#serial(async () => {
      const role = apiKeyRole(key);
      if (role === undefined) {
        throw new AuthConfigError(
          'not a well-formed API key: expected osk_admin_ or osk_service_ followed by 43 ' +
            'base64url characters (make one with generateApiKey)',
        );
      }
      const existing = this.#find(hashApiKey(key));
      if (existing?.info.revokedAt !== undefined) {
        throw new AuthConfigError(
          `API key ${existing.info.id} was revoked and cannot be registered again; use a new key`,
        );
      }
      return existing?.info ?? this.#add(key, role, label);
    });
  }

  /**
   * The principal of an active key, or `undefined` for anything else (unknown, revoked,
   * malformed).
   *
   * @example
   * ```ts
   * const principal = store.verify(key);
   * if (principal?.kind === 'admin') showDashboard();
   * ```
   */
  verify(key: string): ApiKeyPrincipal | undefined {
    const result = this.check(key);
    return result.status === 'valid' ? result.principal : undefined;
  }

  /**
   * Tells whether a presented key is valid, revoked, unknown or not a key at all.
   *
   * @example
   * ```ts
   * store.check('osk_admin_nope'); // { status: 'malformed' }
   * ```
   */
  check(key: string): ApiKeyCheck {
    if (apiKeyRole(key) === undefined) return { status: 'malformed' };
    const entry = this.#find(hashApiKey(key));
    if (entry === undefined) return { status: 'unknown' };
    const { id, role, label, revokedAt, databases } = entry.info;
    if (revokedAt !== undefined) return { status: 'revoked', keyId: id };
    this.#lastUsed.set(id, this.#env.now());
    return {
      status: 'valid',
      principal: { kind: role, keyId: id, label, ...(databases ? { databases } : {}) },
    };
  }

  /**
   * Every key the store knows, active and revoked, oldest first.
   *
   * @example
   * ```ts
   * store.list().filter((info) => info.revokedAt === undefined).length; // active keys
   * ```
   */
  list(): readonly ApiKeyInfo[] {
    return this.#entries.map((entry) => entry.info);
  }

  /**
   * When a key last verified, in ms since the epoch, since this process opened the store
   * (`undefined`: not used since).
   *
   * @example
   * ```ts
   * const at = store.lastUsedAt(info.id);
   * console.log(at === undefined ? 'not used since start' : new Date(at).toISOString());
   * ```
   */
  lastUsedAt(id: string): number | undefined {
    return this.#lastUsed.get(id);
  }

  /**
   * Revokes a key at once: it stops verifying as soon as this resolves. Returns `false` when no
   * active key has that id.
   *
   * @example
   * ```ts
   * if (!(await store.revoke(id))) console.error(`no active key ${id}`);
   * ```
   */
  revoke(id: string): Promise<boolean> {
    return this.#serial(async () => {
      const index = this.#entries.findIndex(
        (entry) => entry.info.id === id && entry.info.revokedAt === undefined,
      );
      if (index < 0) return false;
      const entry = this.#entries[index]!;
      const revoked: Entry = {
        info: Object.freeze({ ...entry.info, revokedAt: this.#timestamp() }),
        hash: entry.hash,
      };
      await this.#commit(this.#entries.map((other, i) => (i === index ? revoked : other)));
      return true;
    });
  }

  #find(hash: Buffer): Entry | undefined {
    // Every stored hash is compared, each in constant time, and the loop never exits early: how
    // long a check takes says nothing about which key matched or how much of it.
    let found: Entry | undefined;
    for (const entry of this.#entries) {
      if (timingSafeEqual(hash, entry.hash) && found === undefined) found = entry;
    }
    return found;
  }

  async #add(
    key: string,
    role: ApiKeyRole,
    label: string,
    databases?: readonly string[],
  ): Promise<ApiKeyInfo> {
    const info: ApiKeyInfo = Object.freeze({
      id: this.#newId(),
      role,
      label,
      createdAt: this.#timestamp(),
      ...(databases ? { databases: Object.freeze([...databases]) } : {}),
    });
    await this.#commit([...this.#entries, { info, hash: hashApiKey(key) }]);
    return info;
  }

  async #commit(entries: readonly Entry[]): Promise<void> {
    const file = {
      version: FILE_VERSION,
      keys: entries.map(({ info, hash }) => ({ ...info, hash: hash.toString('base64url') })),
    };
    try {
      await writeFileAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`);
    } catch (error) {
      throw new ApiKeyFileError(this.path, `cannot write: ${describe(error)}`, error);
    }
    this.#entries = entries;
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    // Changes run one at a time, each starting from the state the previous one committed.
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  #newId(): string {
    for (;;) {
      const bytes = this.#env.randomBytes(new Uint8Array(ID_BYTES));
      const id = `key_${Buffer.from(bytes).toString('hex')}`;
      if (!this.#entries.some((entry) => entry.info.id === id)) return id;
    }
  }

  #timestamp(): string {
    return new Date(this.#env.now()).toISOString();
  }
}

async function readKeyFile(path: string): Promise<readonly Entry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isNodeError(error) && error.code === 'ENOENT') return [];
    throw new ApiKeyFileError(path, `cannot read: ${describe(error)}`, error);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ApiKeyFileError(path, 'not valid JSON', error);
  }
  if (!isRecord(data) || data.version !== FILE_VERSION || !Array.isArray(data.keys)) {
    throw new ApiKeyFileError(path, `expected { "version": ${FILE_VERSION}, "keys": [...] }`);
  }
  const ids = new Set<string>();
  return data.keys.map((raw: unknown, index: number) => {
    const entry = parseEntry(raw);
    if (entry === undefined) throw new ApiKeyFileError(path, `keys[${index}] is malformed`);
    if (ids.has(entry.info.id)) {
      throw new ApiKeyFileError(path, `key id ${entry.info.id} appears twice`);
    }
    ids.add(entry.info.id);
    return entry;
  });
}

function parseEntry(raw: unknown): Entry | undefined {
  if (!isRecord(raw)) return undefined;
  const { id, role, label, createdAt, revokedAt, hash, databases } = raw;
  if (
    typeof id !== 'string' ||
    (role !== 'admin' && role !== 'service') ||
    typeof label !== 'string' ||
    typeof createdAt !== 'string' ||
    (revokedAt !== undefined && typeof revokedAt !== 'string') ||
    typeof hash !== 'string' ||
    !HASH_TEXT.test(hash) ||
    (databases !== undefined &&
      (role !== 'service' ||
        !Array.isArray(databases) ||
        databases.length === 0 ||
        !databases.every((name) => typeof name === 'string' && DATABASE_NAME.test(name))))
  ) {
    return undefined;
  }
  const info: ApiKeyInfo = Object.freeze({
    id,
    role,
    label,
    createdAt,
    ...(revokedAt === undefined ? {} : { revokedAt }),
    ...(databases === undefined ? {} : { databases: Object.freeze([...(databases as string[])]) }),
  });
  return { info, hash: Buffer.from(hash, 'base64url') };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNodeError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
