import { quoteIdentifier } from '../sqlite/sql.js';
import type { IntegerMode } from './query-options.js';

/**
 * A column's storage class in a {@link defineTable} description; a trailing `?` allows NULL.
 * `'any'` is a column without declared type (any of the five classes).
 *
 * @example
 * ```ts
 * const done: ColumnType = 'integer';
 * const note: ColumnType = 'text?';
 * ```
 */
export type ColumnType =
  | 'integer'
  | 'real'
  | 'text'
  | 'blob'
  | 'any'
  | 'integer?'
  | 'real?'
  | 'text?'
  | 'blob?';

/**
 * A table described for typed rows: its name and its columns' storage classes.
 *
 * @example
 * ```ts
 * const todos: TableDefinition = { name: 'todos', columns: { id: 'text', done: 'integer' }, select: '...' };
 * ```
 */
export interface TableDefinition<
  Columns extends Readonly<Record<string, ColumnType>> = Readonly<Record<string, ColumnType>>,
> {
  /** The table's name. */
  readonly name: string;
  /** Column name → storage class, in the order `select` reads them. */
  readonly columns: Columns;
  /** `SELECT "c1", "c2", ... FROM "name"`: every described column, in order, to extend. */
  readonly select: string;
}

/**
 * A column type without its `?` (nullable) mark.
 *
 * @example
 * ```ts
 * const kind: BaseColumnType<'text?'> = 'text';
 * ```
 */
export type BaseColumnType<T extends ColumnType> = T extends `${infer B}?` ? B : T;

/**
 * The JS type of a value of column type `T` read with integer mode `I`.
 *
 * @example
 * ```ts
 * const done: ColumnValue<'integer', 'number'> = 1;
 * const note: ColumnValue<'text?', 'bigint'> = null;
 * ```
 */
export type ColumnValue<T extends ColumnType, I extends IntegerMode = 'bigint'> =
  | (BaseColumnType<T> extends 'integer'
      ? IntegerValue<I>
      : BaseColumnType<T> extends 'real'
        ? number
        : BaseColumnType<T> extends 'text'
          ? string
          : BaseColumnType<T> extends 'blob'
            ? Uint8Array
            : null | number | string | Uint8Array | IntegerValue<I>)
  | (T extends `${string}?` ? null : never);

/**
 * The JS type of an INTEGER read with integer mode `I`.
 *
 * @example
 * ```ts
 * const id: IntegerValue<'string'> = '9007199254740993';
 * ```
 */
export type IntegerValue<I extends IntegerMode> = I extends 'bigint'
  ? bigint
  : I extends 'number'
    ? number
    : string;

/**
 * The object row of a {@link TableDefinition} read with `{ rows: 'object', integers: I }`:
 * exact `bigint` INTEGERs by default, `number` or `string` when asked.
 *
 * @example
 * ```ts
 * const todos = defineTable('todos', { id: 'text', done: 'integer', note: 'text?' });
 * type Todo = RowOf<typeof todos, 'number'>; // { id: string; done: number; note: string | null }
 * const rows = replica.query<Todo>(todos.select, [], { rows: 'object', integers: 'number' });
 * ```
 */
export type RowOf<T extends TableDefinition, I extends IntegerMode = 'bigint'> = {
  -readonly [C in keyof T['columns']]: ColumnValue<T['columns'][C], I>;
};

/**
 * Describes a table for typed rows (TypeScript only: nothing is checked at run time, and the
 * table itself is created by your schema SQL). `select` reads every described column.
 *
 * @example
 * ```ts
 * const todos = defineTable('todos', { id: 'text', title: 'text', done: 'integer' });
 * type Todo = RowOf<typeof todos, 'number'>;
 * const open = replica.query<Todo>(`${todos.select} WHERE done = 0`, [], {
 *   rows: 'object',
 *   integers: 'number',
 * });
 * ```
 */
export function defineTable<const Columns extends Readonly<Record<string, ColumnType>>>(
  name: string,
  columns: Columns,
): TableDefinition<Columns> {
  const list = Object.keys(columns).map(quoteIdentifier).join(', ');
  return { name, columns, select: `SELECT ${list} FROM ${quoteIdentifier(name)}` };
}
