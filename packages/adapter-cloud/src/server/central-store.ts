import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OffsyncError } from '@offsync/core';
import { CentralDatabase } from './central-database.js';

/**
 * A database name that is not allowed, a database that does not exist / already exists, or a
 * schema that SQLite refused when the database was created (nothing is created then).
 *
 * @example
 * ```ts
 * if (error instanceof DatabaseError && error.code === 'not-found') respond(404);
 * ```
 */
export class DatabaseError extends OffsyncError {
  readonly type = 'DatabaseError';
  /** `invalid-name`, `not-found`, `exists` or `invalid-schema`. */
  readonly code: 'invalid-name' | 'not-found' | 'exists' | 'invalid-schema';
  /** The database name. */
  readonly database: string;
  /** For `invalid-schema`: SQLite's own message (no stack, no file path). */
  readonly detail: string | undefined;

  constructor(
    code: 'invalid-name' | 'not-found' | 'exists' | 'invalid-schema',
    database: string,
    detail?: string,
  ) {
    const text = {
      'invalid-name':
        'is not a valid database name (letters, digits, - and _, at most 63, starting with a letter or digit)',
      'not-found': 'does not exist',
      exists: 'already exists',
      'invalid-schema': 'was not created: its schema failed',
    }[code];
    super(
      `database ${JSON.stringify(database)} ${text}${detail === undefined ? '' : `: ${detail}`}`,
    );
    this.code = code;
    this.database = database;
    this.detail = detail;
  }
}

/**
 * Where the server keeps its central databases. The embedded default keeps one SQLite file per
 * database; the sync protocol only sees this interface, so another store (PostgreSQL, ...) can
 * take its place.
 *
 * @example
 * ```ts
 * const store: CentralStore = new SqliteCentralStore('./data');
 * ```
 */
export interface CentralStore {
  /** Database names, sorted. */
  list(): string[];
  /**
   * Creates a database, optionally running schema SQL in it: all or nothing. A schema SQLite
   * refuses throws {@link DatabaseError} `invalid-schema` and leaves no database behind.
   */
  create(name: string, schemaSql?: string): CentralDatabase;
  /** Opens an existing database (cached). Throws {@link DatabaseError} `not-found`. */
  open(name: string): CentralDatabase;
  /**
   * Closes and removes a database and its files. Throws {@link DatabaseError} `not-found`. The
   * caller ends the database's sessions first.
   */
  delete(name: string): void;
  /** Bytes the database takes on disk. */
  sizeOf(name: string): number;
  /** Databases currently open. */
  opened(): CentralDatabase[];
  /** Closes every open database. */
  close(): void;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/**
 * The embedded store: `<data>/databases/<name>.db`, SQLite files in WAL mode with durable
 * commits, opened through `@offsync/adapter-node`. Nothing to install.
 *
 * @example
 * ```ts
 * const store = new SqliteCentralStore('./data');
 * store.create('todos', 'CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT)');
 * ```
 */
export class SqliteCentralStore implements CentralStore {
  readonly #dir: string;
  readonly #open = new Map<string, CentralDatabase>();

  constructor(dataDir: string) {
    this.#dir = join(dataDir, 'databases');
    mkdirSync(this.#dir, { recursive: true });
  }

  list(): string[] {
    return readdirSync(this.#dir)
      .filter((file) => file.endsWith('.db'))
      .map((file) => file.slice(0, -3))
      .filter((name) => NAME.test(name))
      .sort();
  }

  create(name: string, schemaSql?: string): CentralDatabase {
    this.#check(name);
    if (existsSync(this.#path(name))) throw new DatabaseError('exists', name);
    // Built under a name list() ignores and renamed into place once complete, so neither a bad
    // schema nor a crash half way leaves a database that exists (a retry would get 409) but is
    // not what was asked for.
    const building = join(this.#dir, `.${name}.${randomBytes(6).toString('hex')}.creating`);
    try {
      const draft = CentralDatabase.open(name, building);
      try {
        if (schemaSql) draft.replica.driver.exec(schemaSql);
        // Folds the WAL into the file and removes it, so the one rename below moves everything
        // (opening the database again puts it back in WAL mode).
        draft.replica.driver.exec('PRAGMA journal_mode = DELETE');
      } catch (error) {
        throw new DatabaseError(
          'invalid-schema',
          name,
          error instanceof Error ? error.message : String(error),
        );
      } finally {
        draft.close();
      }
      renameSync(building, this.#path(name));
    } catch (error) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${building}${suffix}`, { force: true });
      throw error;
    }
    const database = CentralDatabase.open(name, this.#path(name), { create: false });
    this.#open.set(name, database);
    return database;
  }

  open(name: string): CentralDatabase {
    this.#check(name);
    const cached = this.#open.get(name);
    if (cached) return cached;
    if (!existsSync(this.#path(name))) throw new DatabaseError('not-found', name);
    const database = CentralDatabase.open(name, this.#path(name), { create: false });
    this.#open.set(name, database);
    return database;
  }

  delete(name: string): void {
    this.#check(name);
    if (!existsSync(this.#path(name))) throw new DatabaseError('not-found', name);
    this.#open.get(name)?.close();
    this.#open.delete(name);
    // The main file last: until it goes, the database still exists and a retry can finish.
    for (const suffix of ['-wal', '-shm', ''])
      rmSync(`${this.#path(name)}${suffix}`, { force: true });
  }

  sizeOf(name: string): number {
    this.#check(name);
    let size = 0;
    for (const suffix of ['', '-wal']) {
      const path = `${this.#path(name)}${suffix}`;
      if (existsSync(path)) size += statSync(path).size;
    }
    return size;
  }

  opened(): CentralDatabase[] {
    return [...this.#open.values()];
  }

  close(): void {
    for (const database of this.#open.values()) {
      database.devices.flush();
      database.close();
    }
    this.#open.clear();
  }

  #path(name: string): string {
    return join(this.#dir, `${name}.db`);
  }

  #check(name: string): void {
    if (!NAME.test(name)) throw new DatabaseError('invalid-name', name);
  }
}
