import { SqliteError, StatementCountError } from './errors.js';
import {
  isBlankSql,
  type PlaceholderKind,
  type PlaceholderScan,
  rewritePlaceholders,
} from './placeholders.js';
import type { SqlJsDatabase, SqlJsStatement } from './sqljs-api.js';

/**
 * One compiled form of a SQL text: the statement sql.js prepared for one combination of
 * placeholder kinds.
 *
 * @internal
 */
export interface Variant {
  readonly statement: SqlJsStatement;
  /** Set when the cache finalized the statement (evicted, or the database closed). */
  freed: boolean;
}

/**
 * Compiled statements of one database, keyed by (SQL text, placeholder kinds); the least recently
 * used is finalized when the cache is full.
 *
 * sql.js statements live in the WebAssembly heap and are only released by `free()`, never by the
 * garbage collector, so a driver that prepared on every call without a bound would leak. The cache
 * makes repeated `prepare` of the same text free and keeps memory bounded.
 *
 * @internal
 */
export class StatementCache {
  readonly #database: SqlJsDatabase;
  readonly #capacity: number;
  readonly #variants = new Map<string, Variant>();

  constructor(database: SqlJsDatabase, capacity: number) {
    this.#database = database;
    this.#capacity = Math.max(1, Math.floor(capacity));
  }

  /** Number of compiled statements held. */
  get size(): number {
    return this.#variants.size;
  }

  /**
   * The statement for `scan` compiled with `kinds`, compiling it on a miss. Throws
   * {@link SqliteError} when SQLite refuses the SQL, {@link StatementCountError} when it holds
   * more than one statement.
   *
   * `signature` names `kinds` for the cache key, one letter per placeholder: `p` plain,
   * `i` integer, `r` real.
   */
  variant(scan: PlaceholderScan, kinds: readonly PlaceholderKind[], signature: string): Variant {
    const key = `${signature}\u0000${scan.sql}`;
    const cached = this.#variants.get(key);
    if (cached !== undefined) {
      this.#variants.delete(key);
      this.#variants.set(key, cached);
      return cached;
    }
    const variant: Variant = { statement: this.#compile(scan, kinds, signature), freed: false };
    this.#variants.set(key, variant);
    if (this.#variants.size > this.#capacity) {
      const [oldestKey, oldest] = this.#variants.entries().next().value!;
      this.#variants.delete(oldestKey);
      oldest.freed = true;
      oldest.statement.free();
    }
    return variant;
  }

  /** Finalizes every statement. */
  clear(): void {
    for (const variant of this.#variants.values()) {
      variant.freed = true;
      variant.statement.free();
    }
    this.#variants.clear();
  }

  #compile(
    scan: PlaceholderScan,
    kinds: readonly PlaceholderKind[],
    signature: string,
  ): SqlJsStatement {
    const plain = !/[ir]/.test(signature);
    const sql = plain ? scan.sql : rewritePlaceholders(scan, kinds);
    let statement: SqlJsStatement;
    try {
      statement = this.#database.prepare(sql);
    } catch (error) {
      // sql.js throws the string 'Nothing to prepare' for SQL without a statement.
      if (typeof error === 'string' && isBlankSql(scan.sql)) {
        throw new StatementCountError('none', scan.sql);
      }
      throw new SqliteError(error instanceof Error ? error.message : String(error), scan.sql);
    }
    // sqlite3_sql() is the prepared text up to the end of the first statement; anything but
    // blanks after it is a second statement that prepare would silently drop.
    if (!isBlankSql(sql.slice(statement.getSQL().length))) {
      statement.free();
      throw new StatementCountError('several', scan.sql);
    }
    return statement;
  }
}
