import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineTable, type RowOf } from './table.js';

describe('defineTable', () => {
  const todos = defineTable('my "todos"', {
    id: 'text',
    done: 'integer',
    note: 'text?',
    data: 'any',
  });

  it('builds a SELECT of every described column, quoted', () => {
    expect(todos.select).toBe('SELECT "id", "done", "note", "data" FROM "my ""todos"""');
  });

  it('types rows by integer mode, keeping bigint unless asked', () => {
    expectTypeOf<RowOf<typeof todos>['done']>().toEqualTypeOf<bigint>();
    expectTypeOf<RowOf<typeof todos, 'number'>['done']>().toEqualTypeOf<number>();
    expectTypeOf<RowOf<typeof todos, 'string'>['done']>().toEqualTypeOf<string>();
    expectTypeOf<RowOf<typeof todos>['note']>().toEqualTypeOf<string | null>();
    expectTypeOf<RowOf<typeof todos, 'number'>['data']>().toEqualTypeOf<
      null | number | string | Uint8Array
    >();
  });
});
