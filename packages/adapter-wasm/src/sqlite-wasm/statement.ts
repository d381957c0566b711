import {
  InvalidValueError,
  SQL_INTEGER_MAX,
  SQL_INTEGER_MIN,
  type SqliteStatement,
  type SqlValue,
} from '@offsync/core';
import { ParameterCountError, SqliteError } from '../errors.js';
import type { Connection } from './connection.js';
import { SQLITE } from './raw-api.js';

const NO_PARAMS: readonly SqlValue[] = [];

/**
 * A prepared statement of a {@link SqliteWasmDriver}: one `sqlite3_stmt`, usable until the driver
 * closes (or, once nothing references it, until the garbage collector lets the driver finalize
 * it).
 *
 * @internal
 */
export class SqliteWasmStatement implements SqliteStatement {
  readonly #connection: Connection;
  readonly #pointer: number;
  readonly #sql: string;
  readonly #count: number;

  constructor(connection: Connection, pointer: number, sql: string, count: number) {
    this.#connection = connection;
    this.#pointer = pointer;
    this.#sql = sql;
    this.#count = count;
  }

  run(params: readonly SqlValue[] = NO_PARAMS): void {
    const stmt = this.#bind(params, 'run');
    const { raw } = this.#connection;
    try {
      let rc = raw.sqlite3_step(stmt);
      // Stepped to the end: RETURNING rows and trigger work complete, as in every binding.
      while (rc === SQLITE.ROW) rc = raw.sqlite3_step(stmt);
      if (rc !== SQLITE.DONE) throw new SqliteError(this.#connection.errorMessage(), this.#sql);
    } finally {
      raw.sqlite3_reset(stmt);
    }
  }

  all(params: readonly SqlValue[] = NO_PARAMS): SqlValue[][] {
    const stmt = this.#bind(params, 'all');
    const connection = this.#connection;
    const { raw } = connection;
    const rows: SqlValue[][] = [];
    try {
      const columns = raw.sqlite3_column_count(stmt);
      let rc = raw.sqlite3_step(stmt);
      while (rc === SQLITE.ROW) {
        const row: SqlValue[] = new Array(columns);
        for (let c = 0; c < columns; c++) row[c] = readColumn(connection, stmt, c);
        rows.push(row);
        rc = raw.sqlite3_step(stmt);
      }
      if (rc !== SQLITE.DONE) throw new SqliteError(connection.errorMessage(), this.#sql);
    } finally {
      raw.sqlite3_reset(stmt);
    }
    return rows;
  }

  #bind(params: readonly SqlValue[], operation: string): number {
    const connection = this.#connection;
    connection.open(operation);
    if (params.length !== this.#count) {
      throw new ParameterCountError(this.#count, params.length, this.#sql);
    }
    const stmt = this.#pointer;
    for (let i = 0; i < params.length; i++) {
      const rc = bindValue(connection, stmt, i + 1, params[i]!);
      if (rc !== SQLITE.OK) throw new SqliteError(connection.errorMessage(), this.#sql);
    }
    return stmt;
  }
}

/**
 * Binds one value by its JavaScript type alone, never by its value: this is the exactness the
 * sqlite-wasm OO API lacks (it binds an integral `number` as INTEGER and reads INTEGER as
 * `number` where it fits).
 */
function bindValue(connection: Connection, stmt: number, index: number, value: SqlValue): number {
  const { raw } = connection;
  switch (typeof value) {
    case 'bigint':
      // The wasm boundary wraps a bigint to 64 bits silently (ToBigInt64): check first.
      if (value < SQL_INTEGER_MIN || value > SQL_INTEGER_MAX) {
        throw new InvalidValueError(`INTEGER ${value} is outside the signed 64-bit range`);
      }
      return raw.sqlite3_bind_int64(stmt, index, value);
    case 'number':
      // Every number is REAL, 2 as 2.0; NaN binds as NULL and -0 as -0.0, as sqlite3_bind_double
      // does in better-sqlite3.
      return raw.sqlite3_bind_double(stmt, index, value);
    case 'string': {
      // Explicit byte length: a NUL inside the text is kept, not taken for its end.
      const { pointer, bytes } = connection.scratchText(value);
      return raw.sqlite3_bind_text(stmt, index, pointer, bytes, SQLITE.TRANSIENT);
    }
    case 'object': {
      if (value === null) return raw.sqlite3_bind_null(stmt, index);
      if (!(value instanceof Uint8Array)) {
        throw new InvalidValueError('objects other than Uint8Array are not SQL values');
      }
      // Never a NULL pointer, even for an empty BLOB: that would bind NULL instead.
      const pointer = connection.scratch(value.byteLength);
      connection.heap().set(value, pointer);
      return raw.sqlite3_bind_blob(stmt, index, pointer, value.byteLength, SQLITE.TRANSIENT);
    }
    default:
      throw new InvalidValueError(`a ${typeof value} is not a SQL value`);
  }
}

function readColumn(connection: Connection, stmt: number, column: number): SqlValue {
  const { raw } = connection;
  switch (raw.sqlite3_column_type(stmt, column)) {
    case SQLITE.INTEGER:
      return raw.sqlite3_column_int64(stmt, column);
    case SQLITE.FLOAT:
      return raw.sqlite3_column_double(stmt, column);
    case SQLITE.TEXT: {
      // Pointer first, then length, as sqlite3.h prescribes (the length is of that form).
      const pointer = raw.sqlite3_column_text(stmt, column);
      const length = raw.sqlite3_column_bytes(stmt, column);
      return connection.text(pointer, length);
    }
    case SQLITE.BLOB: {
      const pointer = raw.sqlite3_column_blob(stmt, column);
      const length = raw.sqlite3_column_bytes(stmt, column);
      // A copy: the heap bytes are SQLite's until the next step.
      return length === 0 ? new Uint8Array(0) : connection.heap().slice(pointer, pointer + length);
    }
    default:
      return null;
  }
}
