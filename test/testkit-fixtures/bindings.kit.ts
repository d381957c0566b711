// Bindings with the faults binding authors reported, run through the kit by
// test/testkit-binding-authors.test.ts in a child vitest: the kit must name each fault once.
import { BetterSqliteDriver } from '@offsync/adapter-node';
import type { SqliteDriver, SqliteStatement, SqlValue } from '@offsync/core';
import { runDriverConformance } from '@offsync/testkit';
import Database from 'better-sqlite3';

const open = (): BetterSqliteDriver => new BetterSqliteDriver(new Database(':memory:'));

/** An async binding (node-sqlite3 style): every method resolves later. */
function asyncDriver(inner: SqliteDriver): SqliteDriver {
  const wrapped = {
    exec: async (sql: string) => inner.exec(sql),
    prepare: async (sql: string) => inner.prepare(sql),
    close: async () => inner.close(),
  };
  // What a binding author's untyped JavaScript hands the kit.
  return wrapped as unknown as SqliteDriver;
}

/**
 * Two faults at once: whole numbers bind as INTEGER (the OO API of some wasm builds), and the
 * statement cache finalizes the oldest of 500 statements (the replica's long-lived ones with it).
 */
function sloppyDriver(inner: SqliteDriver): SqliteDriver {
  const cache: { finalized: boolean }[] = [];
  const loose = (params?: readonly SqlValue[]): SqlValue[] | undefined =>
    params?.map((v) => (typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v));
  return {
    exec: (sql) => inner.exec(sql),
    prepare: (sql): SqliteStatement => {
      const statement = inner.prepare(sql);
      const state = { finalized: false };
      cache.push(state);
      if (cache.length > 500) cache.shift()!.finalized = true;
      const live = (): SqliteStatement => {
        if (state.finalized) throw new Error('statement finalized');
        return statement;
      };
      return {
        run: (params) => live().run(loose(params)),
        all: (params) => live().all(loose(params)),
      };
    },
    close: () => inner.close(),
  };
}

/** TEXT cut at the first NUL, as a binding passing `char*` without a length does. */
function nulCuttingDriver(inner: SqliteDriver): SqliteDriver {
  const cut = (params?: readonly SqlValue[]): SqlValue[] | undefined =>
    params?.map((v) => (typeof v === 'string' ? v.split('\u0000')[0]! : v));
  return {
    exec: (sql) => inner.exec(sql),
    prepare: (sql) => {
      const statement = inner.prepare(sql);
      return {
        run: (params) => statement.run(cut(params)),
        all: (params) => statement.all(cut(params)),
      };
    },
    close: () => inner.close(),
  };
}

runDriverConformance(() => ({ driver: asyncDriver(open()) }), 'async binding');
runDriverConformance(() => ({ driver: sloppyDriver(open()) }), 'sloppy binding');
runDriverConformance(() => ({ driver: nulCuttingDriver(open()) }), 'nul-cutting binding', {
  limitations: [{ id: 'text-nul', reason: 'binds TEXT as a C string' }],
});
