import type { SqliteDriver, SqliteStatement, SqlValue } from '@offsync/core';
import type Database from 'better-sqlite3';

type Statement = Database.Statement<unknown[], unknown>;

function bindable(params: readonly SqlValue[] | undefined): unknown[] {
  if (!params) return [];
  // better-sqlite3 binds Buffers as BLOBs; wrap other Uint8Arrays without copying.
  return params.map((value) =>
    value instanceof Uint8Array && !Buffer.isBuffer(value)
      ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
      : value,
  );
}

class BetterSqliteStatement implements SqliteStatement {
  readonly #statement: Statement;

  constructor(statement: Statement) {
    // INTEGER as bigint (exact to 64 bits), REAL as number, rows as arrays.
    statement.safeIntegers(true);
    if (statement.reader) statement.raw(true);
    this.#statement = statement;
  }

  run(params?: readonly SqlValue[]): void {
    this.#statement.run(...bindable(params));
  }

  all(params?: readonly SqlValue[]): SqlValue[][] {
    if (!this.#statement.reader) {
      this.#statement.run(...bindable(params));
      return [];
    }
    return this.#statement.all(...bindable(params)) as SqlValue[][];
  }
}

/**
 * The {@link SqliteDriver} over a better-sqlite3 connection: exact values (INTEGER as bigint,
 * REAL as number, BLOB as Buffer) and a cache of prepared statements.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * const driver = new BetterSqliteDriver(new Database('app.db'));
 * const replica = SqliteReplica.open(driver);
 * ```
 */
export class BetterSqliteDriver implements SqliteDriver {
  /** The connection the app uses too. */
  readonly db: Database.Database;
  readonly #statements = new Map<string, BetterSqliteStatement>();

  constructor(db: Database.Database) {
    this.db = db;
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  prepare(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = new BetterSqliteStatement(this.db.prepare(sql));
      // Generated SQL comes in a bounded number of shapes; cap the cache all the same.
      if (this.#statements.size >= 2000) this.#statements.clear();
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  close(): void {
    this.#statements.clear();
    this.db.close();
  }
}
