import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NodeReplica, openReplica } from '@offsync/adapter-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PolicyError } from './policy-error.js';
import { POLICIES_TABLE, readPolicies, setPolicy, writePolicies } from './policy-store.js';
import {
  openTodoDatabase,
  policyErrorOf,
  TODO_ROWS,
  TODO_SCHEMA,
} from './test-support/todo-database.js';

describe('policy storage', () => {
  let replica: NodeReplica;
  beforeEach(() => {
    replica = openTodoDatabase();
  });
  afterEach(() => replica.close());

  const tableExists = () =>
    replica.driver
      .prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
      .all([POLICIES_TABLE])[0]![0] === 1n;

  it('a database that stored none has no policies, and reading creates nothing', () => {
    expect(readPolicies(replica.driver)).toEqual({});
    expect(tableExists()).toBe(false);
    setPolicy(replica.driver, 'todos', 'select', null);
    expect(tableExists()).toBe(false);
  });

  it('setPolicy stores, replaces and removes one policy', () => {
    setPolicy(replica.driver, 'todos', 'select', 'owner_id = auth.sub');
    setPolicy(replica.driver, 'todos', 'insert', 'owner_id = auth.sub');
    expect(tableExists()).toBe(true);
    expect(readPolicies(replica.driver)).toEqual({
      todos: { select: 'owner_id = auth.sub', insert: 'owner_id = auth.sub' },
    });
    setPolicy(replica.driver, 'todos', 'select', 'tenant_id = auth.tenant');
    setPolicy(replica.driver, 'todos', 'insert', null);
    expect(readPolicies(replica.driver)).toEqual({ todos: { select: 'tenant_id = auth.tenant' } });
  });

  it('a policy with invalid SQL is refused with SQLite’s message, and the old one kept', () => {
    setPolicy(replica.driver, 'todos', 'select', 'owner_id = auth.sub');
    const error = policyErrorOf(() =>
      setPolicy(replica.driver, 'todos', 'select', 'ownr_id = auth.sub'),
    );
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).toMatchObject({
      type: 'PolicyError',
      problem: 'does-not-compile',
      table: 'todos',
      operation: 'select',
    });
    expect(error.reason).toContain('no such column: ownr_id');
    expect(error.toJSON()).toMatchObject({ type: 'PolicyError', table: 'todos' });
    expect(readPolicies(replica.driver)).toEqual({ todos: { select: 'owner_id = auth.sub' } });
  });

  it('refuses ;, ATTACH and PRAGMA and keeps the old policy', () => {
    setPolicy(replica.driver, 'todos', 'update', 'owner_id = auth.sub');
    for (const expression of [
      'true; DELETE FROM todos',
      "owner_id = auth.sub OR ATTACH 'other.db' AS other",
      'PRAGMA writable_schema = 1',
    ]) {
      expect(() => setPolicy(replica.driver, 'todos', 'update', expression)).toThrow(PolicyError);
    }
    expect(readPolicies(replica.driver)).toEqual({ todos: { update: 'owner_id = auth.sub' } });
    expect(replica.driver.prepare('SELECT count(*) FROM todos').all()).toEqual([[5n]]);
  });

  it('refuses a policy on a table that does not exist', () => {
    const error = policyErrorOf(() => setPolicy(replica.driver, 'tasks', 'select', 'true'));
    expect(error).toMatchObject({ problem: 'no-such-table', table: 'tasks' });
    expect(readPolicies(replica.driver)).toEqual({});
  });

  it('refuses an unknown operation coming from untyped input', () => {
    const error = policyErrorOf(() =>
      setPolicy(replica.driver, 'todos', 'upsert' as 'select', 'true'),
    );
    expect(error.problem).toBe('malformed');
  });

  it('writePolicies replaces every policy at once', () => {
    setPolicy(replica.driver, 'lists', 'select', 'true');
    const policies = {
      todos: { select: 'tenant_id = auth.tenant AND NOT archived', delete: "auth.role = 'admin'" },
      members: { select: 'user_id = auth.sub' },
    };
    writePolicies(replica.driver, policies);
    expect(readPolicies(replica.driver)).toEqual(policies);
  });

  it('writePolicies refuses the whole set when one policy is invalid, keeping the old set', () => {
    writePolicies(replica.driver, { todos: { select: 'true' } });
    const error = policyErrorOf(() =>
      writePolicies(replica.driver, {
        todos: { select: 'owner_id = auth.sub' },
        lists: { select: 'no_column = 1' },
      }),
    );
    expect(error).toMatchObject({
      problem: 'does-not-compile',
      table: 'lists',
      operation: 'select',
    });
    expect(readPolicies(replica.driver)).toEqual({ todos: { select: 'true' } });
  });

  it('persists across reopening the database file', () => {
    const folder = mkdtempSync(join(tmpdir(), 'offsync-rls-'));
    try {
      const path = join(folder, 'app.db');
      const first = openReplica(path);
      first.driver.exec(TODO_SCHEMA);
      first.driver.exec(TODO_ROWS);
      const policies = {
        todos: {
          select:
            'EXISTS (SELECT 1 FROM members m WHERE m.list_id = todos.list_id AND m.user_id = auth.sub)',
          insert: 'owner_id = auth.sub',
          update: 'owner_id = auth.sub',
          delete: "owner_id = auth.sub OR auth.role = 'admin'",
        },
        lists: { select: 'tenant_id = auth.tenant' },
        members: { select: 'true' },
      };
      writePolicies(first.driver, policies);
      first.close();
      const second = openReplica(path);
      try {
        expect(readPolicies(second.driver)).toEqual(policies);
      } finally {
        second.close();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('nests in the caller’s transaction, rolling back with it', () => {
    replica.driver.exec('BEGIN');
    setPolicy(replica.driver, 'todos', 'select', 'true');
    replica.driver.exec('ROLLBACK');
    expect(readPolicies(replica.driver)).toEqual({});
  });
});
