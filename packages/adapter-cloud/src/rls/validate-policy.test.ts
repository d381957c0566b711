import type { NodeReplica } from '@offsync/adapter-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PolicyError } from './policy-error.js';
import { openTodoDatabase, policyErrorOf } from './test-support/todo-database.js';
import { validatePolicy } from './validate-policy.js';

describe('validatePolicy', () => {
  let replica: NodeReplica;
  beforeEach(() => {
    replica = openTodoDatabase();
  });
  afterEach(() => replica.close());

  it('returns the compiled policy when SQLite compiles it on the table', () => {
    const compiled = validatePolicy(
      replica.driver,
      'todos',
      'select',
      'tenant_id = auth.tenant AND NOT archived',
    );
    expect(compiled.sql).toBe('tenant_id = ? AND NOT archived');
    expect(compiled.claims).toEqual(['tenant']);
  });

  it('accepts subqueries over other application tables, and quoted columns', () => {
    const compiled = validatePolicy(
      replica.driver,
      'todos',
      'update',
      'EXISTS (SELECT 1 FROM members m WHERE m.list_id = todos.list_id AND m.user_id = auth.sub) AND "org-id" = auth."org-id"',
    );
    expect(compiled.claims).toEqual(['sub', 'org-id']);
  });

  it('refuses an unknown column with SQLite’s message, table and operation', () => {
    const error = policyErrorOf(() =>
      validatePolicy(replica.driver, 'todos', 'select', 'ownr_id = auth.sub'),
    );
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).toMatchObject({
      type: 'PolicyError',
      problem: 'does-not-compile',
      table: 'todos',
      operation: 'select',
      expression: 'ownr_id = auth.sub',
    });
    expect(error.reason).toContain('no such column: ownr_id');
    expect(error.message).toContain('todos select');
  });

  it('refuses syntax errors, unknown functions and unknown tables in subqueries', () => {
    const reason = (expression: string) =>
      policyErrorOf(() => validatePolicy(replica.driver, 'todos', 'insert', expression));
    expect(reason('owner_id = = auth.sub').reason).toContain('syntax error');
    expect(reason('no_such_fn(owner_id)').reason).toContain('no such function: no_such_fn');
    expect(reason('EXISTS (SELECT 1 FROM nobody)').reason).toContain('no such table: nobody');
    expect(reason('count(*) > 0').problem).toBe('does-not-compile');
  });

  it('refuses a policy on a table that does not exist, or spelled otherwise', () => {
    const missing = policyErrorOf(() => validatePolicy(replica.driver, 'tasks', 'select', 'true'));
    expect(missing).toMatchObject({ problem: 'no-such-table', table: 'tasks' });
    const spelled = policyErrorOf(() => validatePolicy(replica.driver, 'TODOS', 'select', 'true'));
    expect(spelled.problem).toBe('no-such-table');
    expect(spelled.reason).toContain('spelled todos');
  });

  it('refuses policies on internal tables', () => {
    const error = policyErrorOf(() =>
      validatePolicy(replica.driver, 'offsync_state', 'select', 'true'),
    );
    expect(error.problem).toBe('forbidden-name');
  });

  it('places compile refusals on the table and operation', () => {
    const error = policyErrorOf(() =>
      validatePolicy(replica.driver, 'todos', 'delete', "true; ATTACH 'x' AS y"),
    );
    expect(error).toMatchObject({
      problem: 'statement-separator',
      table: 'todos',
      operation: 'delete',
    });
  });
});
