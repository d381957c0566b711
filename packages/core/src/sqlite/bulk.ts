import type { SqlValue } from '../changes/value.js';
import type { SqliteDriver, SqliteStatement } from './driver.js';
import { MAX_PARAMETERS } from './sql.js';

/**
 * Runs one multi-row statement per chunk of rows instead of one statement per row: a batch of
 * 100k rows is a few hundred statements. Statements are cached per shape and chunk size.
 *
 * @example
 * ```ts
 * const writer = new BulkWriter(driver);
 * writer.run('INSERT INTO t(a, b) VALUES', 2, [1n, 'x', 2n, 'y']);
 * ```
 */
export class BulkWriter {
  readonly #driver: SqliteDriver;
  readonly #statements = new Map<string, SqliteStatement>();

  constructor(driver: SqliteDriver) {
    this.#driver = driver;
  }

  /**
   * Runs `${head} (?, ...), (?, ...) ${tail}` over `values`, a flat list of rows `width` values
   * wide, chunked so that no statement binds more than {@link MAX_PARAMETERS} values.
   */
  run(head: string, width: number, values: readonly SqlValue[], tail = ''): void {
    const perChunk = Math.max(1, Math.floor(MAX_PARAMETERS / width)) * width;
    for (let start = 0; start < values.length; start += perChunk) {
      const chunk =
        start === 0 && values.length <= perChunk ? values : values.slice(start, start + perChunk);
      this.#statement(head, width, chunk.length / width, tail).run(chunk);
    }
  }

  #statement(head: string, width: number, count: number, tail: string): SqliteStatement {
    const key = `${count}\u0000${head}\u0000${tail}`;
    let statement = this.#statements.get(key);
    if (!statement) {
      const tuple = `(${new Array(width).fill('?').join(', ')})`;
      statement = this.#driver.prepare(
        `${head} ${new Array(count).fill(tuple).join(', ')} ${tail}`,
      );
      this.#statements.set(key, statement);
    }
    return statement;
  }
}
