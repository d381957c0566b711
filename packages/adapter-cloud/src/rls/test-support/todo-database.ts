import { type NodeReplica, openReplica } from '@offsync/adapter-node';
import type { SqliteDriver, SqliteStatement, SqlValue } from '@offsync/core';
import { PolicyError } from '../policy-error.js';

/**
 * The multi-tenant todo schema the RLS tests run on: lists and todos carry `tenant_id` and
 * `owner_id`; `members` (composite key) says who may work in which list.
 */
export const TODO_SCHEMA = `
  CREATE TABLE lists(
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT ''
  );
  CREATE TABLE todos(
    id TEXT PRIMARY KEY NOT NULL,
    list_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    archived INTEGER NOT NULL DEFAULT 0,
    priority INTEGER NOT NULL DEFAULT 0,
    "org-id" TEXT
  );
  CREATE TABLE members(
    list_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'editor',
    PRIMARY KEY (list_id, user_id)
  );
`;

/**
 * Tenants `acme` (alice, bob) and `globex` (carol). Alice owns list l1, where bob is a member;
 * bob owns l2; carol owns l3. Todo a2 is archived.
 */
export const TODO_ROWS = `
  INSERT INTO lists VALUES
    ('l1', 'acme', 'alice', 'groceries'),
    ('l2', 'acme', 'bob', 'garage'),
    ('l3', 'globex', 'carol', 'launch');
  INSERT INTO members VALUES
    ('l1', 'alice', 'owner'),
    ('l1', 'bob', 'editor'),
    ('l2', 'bob', 'owner'),
    ('l3', 'carol', 'owner');
  INSERT INTO todos(id, list_id, tenant_id, owner_id, title, archived, priority, "org-id") VALUES
    ('a1', 'l1', 'acme', 'alice', 'milk', 0, 1, 'org-7'),
    ('a2', 'l1', 'acme', 'alice', 'eggs', 1, 3, 'org-7'),
    ('b1', 'l2', 'acme', 'bob', 'tyres', 0, 2, 'org-8'),
    ('b2', 'l1', 'acme', 'bob', 'bread', 0, 5, NULL),
    ('c1', 'l3', 'globex', 'carol', 'rocket', 0, 9, 'org-9');
`;

/** An in-memory replica holding the todo schema and rows. Close it after the test. */
export function openTodoDatabase(): NodeReplica {
  const replica = openReplica(':memory:');
  replica.driver.exec(TODO_SCHEMA);
  replica.driver.exec(TODO_ROWS);
  return replica;
}

/** Single-column keys, as `visibleKeys` and `forbiddenKeys` take them. */
export const ids = (...values: string[]): SqlValue[][] => values.map((value) => [value]);

/** A driver that records the parameter count of every statement it runs. */
export interface CountingDriver extends SqliteDriver {
  /** Parameter counts of every `all`/`run`, in order. */
  readonly calls: number[];
}

/** Wraps a driver to count statements and their parameters (for chunking tests). */
export function countingDriver(driver: SqliteDriver): CountingDriver {
  const calls: number[] = [];
  return {
    calls,
    exec: (sql) => driver.exec(sql),
    close: () => driver.close(),
    prepare: (sql): SqliteStatement => {
      const statement = driver.prepare(sql);
      return {
        run: (params) => {
          calls.push(params?.length ?? 0);
          statement.run(params);
        },
        all: (params) => {
          calls.push(params?.length ?? 0);
          return statement.all(params);
        },
      };
    },
  };
}

/** Runs `fn` and returns the PolicyError it threw; fails the test on anything else. */
export function policyErrorOf(fn: () => unknown): PolicyError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw new Error(`expected a PolicyError, got ${String(error)}`);
  }
  throw new Error('expected a PolicyError, but the call returned normally');
}
