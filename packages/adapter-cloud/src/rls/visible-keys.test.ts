import type { NodeReplica } from '@offsync/adapter-node';
import { MAX_PARAMETERS, type SqlValue } from '@offsync/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compilePolicy } from './compile-policy.js';
import { keyString } from './key-string.js';
import {
  countingDriver,
  ids,
  openTodoDatabase,
  policyErrorOf,
} from './test-support/todo-database.js';
import { visibleKeys } from './visible-keys.js';

const ALL_TODOS = ids('a1', 'a2', 'b1', 'b2', 'c1');

describe('visibleKeys', () => {
  let replica: NodeReplica;
  beforeEach(() => {
    replica = openTodoDatabase();
  });
  afterEach(() => replica.close());

  const visible = (policy: string | undefined, claims: Record<string, unknown>, keys = ALL_TODOS) =>
    visibleKeys(replica.driver, 'todos', ['id'], keys, policy, claims);
  const keysOf = (...values: string[]) => new Set(values.map((value) => keyString([value])));

  it('filters rows per user', () => {
    const policy = 'owner_id = auth.sub';
    expect(visible(policy, { sub: 'alice' })).toEqual(keysOf('a1', 'a2'));
    expect(visible(policy, { sub: 'bob' })).toEqual(keysOf('b1', 'b2'));
    expect(visible(policy, { sub: 'mallory' })).toEqual(new Set());
  });

  it('filters rows per tenant, leaving archived rows out', () => {
    const policy = 'tenant_id = auth.tenant AND NOT archived';
    expect(visible(policy, { tenant: 'acme' })).toEqual(keysOf('a1', 'b1', 'b2'));
    expect(visible(policy, { tenant: 'globex' })).toEqual(keysOf('c1'));
  });

  it('a missing claim is NULL, and NULL denies', () => {
    expect(visible('owner_id = auth.sub', {})).toEqual(new Set());
    expect(visible('NOT (owner_id = auth.sub)', {})).toEqual(new Set());
  });

  it('is closed without a policy, and open with `true`', () => {
    expect(visible(undefined, { sub: 'alice', role: 'admin' })).toEqual(new Set());
    expect(visible('true', {})).toEqual(keysOf('a1', 'a2', 'b1', 'b2', 'c1'));
    expect(visible('false', {})).toEqual(new Set());
  });

  it('lets a role claim widen what a user sees', () => {
    const policy = "auth.role = 'admin' OR owner_id = auth.sub";
    expect(visible(policy, { sub: 'carol', role: 'admin' }).size).toBe(5);
    expect(visible(policy, { sub: 'carol', role: 'user' })).toEqual(keysOf('c1'));
  });

  it('evaluates subqueries over the members table', () => {
    const policy =
      'EXISTS (SELECT 1 FROM members m WHERE m.list_id = todos.list_id AND m.user_id = auth.sub)';
    expect(visible(policy, { sub: 'alice' })).toEqual(keysOf('a1', 'a2', 'b2'));
    expect(visible(policy, { sub: 'bob' })).toEqual(keysOf('a1', 'a2', 'b1', 'b2'));
    expect(visible(policy, { sub: 'carol' })).toEqual(keysOf('c1'));
    replica.driver.exec("DELETE FROM members WHERE list_id = 'l1' AND user_id = 'bob'");
    expect(visible(policy, { sub: 'bob' })).toEqual(keysOf('b1'));
  });

  it('binds quoted and nested claims', () => {
    expect(visible('"org-id" = auth."org-id"', { 'org-id': 'org-7' })).toEqual(keysOf('a1', 'a2'));
    expect(visible('"org-id" = auth.org.id', { org: { id: 'org-9' } })).toEqual(keysOf('c1'));
    expect(visible('priority >= auth.min', { min: 5 })).toEqual(keysOf('b2', 'c1'));
  });

  it('only answers for the keys asked, and leaves out keys with no row', () => {
    expect(visible('true', {}, ids('a1', 'zz', 'c1'))).toEqual(keysOf('a1', 'c1'));
    expect(visible('true', {}, [])).toEqual(new Set());
  });

  it('handles composite keys', () => {
    const policy =
      'user_id = auth.sub OR EXISTS (SELECT 1 FROM lists l WHERE l.id = members.list_id AND l.owner_id = auth.sub)';
    const keys: SqlValue[][] = [
      ['l1', 'alice'],
      ['l1', 'bob'],
      ['l2', 'bob'],
      ['l3', 'carol'],
      ['l3', 'bob'],
    ];
    const members = (sub: string) =>
      visibleKeys(replica.driver, 'members', ['list_id', 'user_id'], keys, policy, { sub });
    expect(members('alice')).toEqual(
      new Set([keyString(['l1', 'alice']), keyString(['l1', 'bob'])]),
    );
    expect(members('bob')).toEqual(new Set([keyString(['l1', 'bob']), keyString(['l2', 'bob'])]));
    expect(members('carol')).toEqual(new Set([keyString(['l3', 'carol'])]));
  });

  it('accepts a compiled policy', () => {
    const compiled = compilePolicy('owner_id = auth.sub');
    expect(
      visibleKeys(replica.driver, 'todos', ['id'], ALL_TODOS, compiled, { sub: 'bob' }),
    ).toEqual(keysOf('b1', 'b2'));
  });

  it('filters a 5,000-key batch in chunks under the parameter limit', () => {
    const insert = replica.driver.prepare(
      "INSERT INTO todos(id, list_id, tenant_id, owner_id) VALUES (?, 'l1', 'acme', ?)",
    );
    const keys: SqlValue[][] = [];
    for (let i = 0; i < 5000; i++) {
      insert.run([`bulk-${i}`, i % 2 === 0 ? 'dora' : 'ed']);
      keys.push([`bulk-${i}`]);
    }
    const counting = countingDriver(replica.driver);
    const seen = visibleKeys(counting, 'todos', ['id'], keys, 'owner_id = auth.sub', {
      sub: 'dora',
    });
    expect(seen.size).toBe(2500);
    expect(seen.has(keyString(['bulk-0']))).toBe(true);
    expect(seen.has(keyString(['bulk-1']))).toBe(false);
    expect(seen.has(keyString(['bulk-4998']))).toBe(true);
    expect(counting.calls.length).toBe(Math.ceil(5000 / (MAX_PARAMETERS - 1)));
    expect(Math.max(...counting.calls)).toBeLessThanOrEqual(MAX_PARAMETERS);
    expect(counting.calls.reduce((sum, n) => sum + n, 0)).toBe(5000 + counting.calls.length);
  });

  it('chunks composite keys by the parameters each one takes', () => {
    const keys: SqlValue[][] = [];
    for (let i = 0; i < 5000; i++) keys.push([`l${i % 4}`, i % 3 === 0 ? 'bob' : `u${i}`]);
    const counting = countingDriver(replica.driver);
    const seen = visibleKeys(counting, 'members', ['list_id', 'user_id'], keys, 'true', {});
    expect(seen).toEqual(new Set([keyString(['l1', 'bob']), keyString(['l2', 'bob'])]));
    expect(Math.max(...counting.calls)).toBeLessThanOrEqual(MAX_PARAMETERS);
    expect(counting.calls.length).toBe(Math.ceil(5000 / Math.floor(MAX_PARAMETERS / 2)));
  });

  it('refuses keys whose width is not the key columns’', () => {
    expect(() => visibleKeys(replica.driver, 'todos', ['id'], [['a1', 'x']], 'true', {})).toThrow(
      RangeError,
    );
    expect(() => visibleKeys(replica.driver, 'todos', [], [], 'true', {})).toThrow(RangeError);
  });

  it('reports a policy the schema no longer supports as an evaluation failure', () => {
    replica.driver.exec('ALTER TABLE todos DROP COLUMN archived');
    const error = policyErrorOf(() => visible('NOT archived', {}));
    expect(error).toMatchObject({
      problem: 'evaluation-failed',
      table: 'todos',
      operation: 'select',
    });
    expect(error.reason).toContain('no such column: archived');
  });

  it('refuses an expression that does not compile, naming the table', () => {
    const error = policyErrorOf(() => visible('true; DROP TABLE todos', {}));
    expect(error).toMatchObject({ problem: 'statement-separator', table: 'todos' });
  });
});
