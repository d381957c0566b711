import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { DatabaseClosedError, SqliteError } from '../errors.js';
import { memoryOf, type RawSqlite, rawSqliteOf } from './raw-api.js';
import { readUtf8, writeWtf8, wtf8Length } from './wtf8.js';

/** Smallest scratch allocation; bound values larger than it grow it to the next power of two. */
const MIN_SCRATCH = 256;

/**
 * One open sqlite-wasm connection as the driver and its statements share it: the raw C
 * exports, the database pointer, and a scratch buffer in the WebAssembly heap that every bound
 * TEXT or BLOB is copied through (bound with `SQLITE_TRANSIENT`, so SQLite owns its copy and the
 * buffer is free again when the bind returns: one allocation per driver, not one per value).
 *
 * @internal
 */
export class Connection {
  readonly raw: RawSqlite;
  readonly #memory: WebAssembly.Memory;
  #db: number;
  #heap: Uint8Array;
  #scratch = 0;
  #scratchSize = 0;
  /** Two pointer slots (ppStmt, pzTail) for sqlite3_prepare_v3 and sqlite3_open_v2. */
  readonly #slots: number;

  constructor(sqlite3: Sqlite3Static, db: number) {
    this.raw = rawSqliteOf(sqlite3);
    this.#memory = memoryOf(sqlite3);
    this.#db = db;
    this.#heap = new Uint8Array(this.#memory.buffer);
    this.#slots = this.raw.sqlite3_malloc(8);
    if (this.#slots === 0) throw new SqliteError('out of memory', '(open the database)');
  }

  /** The database pointer; 0 once closed. */
  get db(): number {
    return this.#db;
  }

  /** The database pointer, or {@link DatabaseClosedError} naming `operation`. */
  open(operation: string): number {
    if (this.#db === 0) throw new DatabaseClosedError(operation);
    return this.#db;
  }

  /** The WebAssembly heap; re-read after any call that may grow memory. */
  heap(): Uint8Array {
    // Memory growth detaches the old buffer: the view is cheap to remake, costly to get wrong.
    const { buffer } = this.#memory;
    if (this.#heap.buffer !== buffer) this.#heap = new Uint8Array(buffer);
    return this.#heap;
  }

  /** A pointer slot's value (ppStmt = 0, pzTail = 1). */
  slot(index: 0 | 1): number {
    const heap = this.heap();
    const at = this.#slots + index * 4;
    return (heap[at]! | (heap[at + 1]! << 8) | (heap[at + 2]! << 16) | (heap[at + 3]! << 24)) >>> 0;
  }

  /** The address of a pointer slot. */
  slotAddress(index: 0 | 1): number {
    return this.#slots + index * 4;
  }

  /** At least `bytes` (and never 0 bytes, so an empty value is not a NULL pointer) of scratch. */
  scratch(bytes: number): number {
    if (bytes <= this.#scratchSize) return this.#scratch;
    let size = Math.max(MIN_SCRATCH, this.#scratchSize);
    while (size < bytes) size *= 2;
    const pointer = this.raw.sqlite3_malloc(size);
    if (pointer === 0) throw new SqliteError(`out of memory (${size} bytes)`, '(bind a value)');
    if (this.#scratch !== 0) this.raw.sqlite3_free(this.#scratch);
    this.#scratch = pointer;
    this.#scratchSize = size;
    return pointer;
  }

  /** `text` as NUL-terminated WTF-8 in scratch; returns its pointer and byte length. */
  scratchText(text: string): { readonly pointer: number; readonly bytes: number } {
    const bytes = wtf8Length(text);
    const pointer = this.scratch(bytes + 1);
    const heap = this.heap();
    writeWtf8(heap, pointer, text);
    heap[pointer + bytes] = 0;
    return { pointer, bytes };
  }

  /** The text of `length` bytes at `pointer`. */
  text(pointer: number, length: number): string {
    return readUtf8(this.heap(), pointer, length);
  }

  /** SQLite's message for the last failure on this connection. */
  errorMessage(): string {
    if (this.#db === 0) return 'the database is closed';
    const pointer = this.raw.sqlite3_errmsg(this.#db);
    return pointer === 0 ? 'unknown error' : this.cString(pointer);
  }

  /** The NUL-terminated string at `pointer`. */
  cString(pointer: number): string {
    const heap = this.heap();
    let end = pointer;
    while (heap[end] !== 0) end++;
    return readUtf8(heap, pointer, end - pointer);
  }

  /** Marks the connection closed and releases its buffers; returns the database pointer. */
  detach(): number {
    const db = this.#db;
    this.#db = 0;
    if (this.#scratch !== 0) this.raw.sqlite3_free(this.#scratch);
    this.raw.sqlite3_free(this.#slots);
    this.#scratch = 0;
    this.#scratchSize = 0;
    return db;
  }
}
