import { describe, expect, it } from 'vitest';
import {
  type PolicySet,
  parsePolicySet,
  policyFor,
  policySetFrom,
  serializePolicySet,
} from './policy-set.js';
import { policyErrorOf } from './test-support/todo-database.js';

const POLICIES: PolicySet = {
  todos: {
    delete: "auth.role = 'admin'",
    select: 'tenant_id = auth.tenant AND NOT archived',
  },
  lists: { select: 'true' },
};

describe('policy sets', () => {
  it('round-trip through JSON, operations in a stable order', () => {
    const json = serializePolicySet(POLICIES);
    expect(json).toBe(
      '{"todos":{"select":"tenant_id = auth.tenant AND NOT archived","delete":"auth.role = \'admin\'"},"lists":{"select":"true"}}',
    );
    expect(parsePolicySet(json)).toEqual(POLICIES);
  });

  it('refuse text that is not JSON, with the parser’s message', () => {
    const error = policyErrorOf(() => parsePolicySet('{"todos":'));
    expect(error.problem).toBe('malformed');
    expect(error.reason).toMatch(/^not JSON: /);
  });

  it('refuse shapes that are not table → operation → expression', () => {
    const problem = (value: unknown) => policyErrorOf(() => policySetFrom(value));
    expect(problem([]).problem).toBe('malformed');
    expect(problem('x').problem).toBe('malformed');
    expect(problem({ todos: 'true' })).toMatchObject({ problem: 'malformed', table: 'todos' });
    expect(problem({ todos: { upsert: 'true' } })).toMatchObject({
      problem: 'malformed',
      table: 'todos',
    });
    expect(problem({ todos: { select: 42 } })).toMatchObject({
      problem: 'malformed',
      table: 'todos',
      operation: 'select',
    });
    expect(problem({ todos: { select: null } }).operation).toBe('select');
    expect(problem({ '': { select: 'true' } }).problem).toBe('malformed');
  });

  it('refuse expressions the compiler refuses, naming table and operation', () => {
    const error = policyErrorOf(() =>
      parsePolicySet('{"todos":{"update":"true; DROP TABLE todos"}}'),
    );
    expect(error).toMatchObject({
      type: 'PolicyError',
      problem: 'statement-separator',
      table: 'todos',
      operation: 'update',
    });
    expect(policyErrorOf(() => policySetFrom({ t: { select: 'PRAGMA x' } })).problem).toBe(
      'forbidden-keyword',
    );
  });

  it('keep a table named __proto__ a table, and never find inherited policies', () => {
    const policies = parsePolicySet('{"__proto__":{"select":"true"}}');
    expect(Object.getPrototypeOf(policies)).toBe(Object.prototype);
    expect(policyFor(policies, '__proto__', 'select')).toBe('true');
    expect(policyFor(policies, 'constructor', 'select')).toBeUndefined();
    expect(policyFor(policies, 'toString', 'select')).toBeUndefined();
  });

  it('policyFor returns the operation’s expression or undefined (closed)', () => {
    expect(policyFor(POLICIES, 'todos', 'select')).toBe('tenant_id = auth.tenant AND NOT archived');
    expect(policyFor(POLICIES, 'todos', 'insert')).toBeUndefined();
    expect(policyFor(POLICIES, 'members', 'select')).toBeUndefined();
  });
});
