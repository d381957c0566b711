import type { NodeReplica } from '@offsync/adapter-node';
import { inSavepoint, MAX_PARAMETERS, type SqlValue } from '@offsync/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { forbiddenKeys } from './forbidden-keys.js';
import {
  countingDriver,
  ids,
  openTodoDatabase,
  policyErrorOf,
} from './test-support/todo-database.js';

describe('forbiddenKeys', () => {
  let replica: NodeReplica;
  beforeEach(() => {
    replica = openTodoDatabase();
  });
  afterEach(() => replica.close());

  const forbidden = (
    expression: string | undefined,
    claims: Record<string, unknown>,
    keys: SqlValue[][],
  ) => forbiddenKeys(replica.driver, 'todos', ['id'], keys, expression, claims);
  const alice = { sub: 'alice', tenant: 'acme' };

  it('insert: checks the new rows after they are written', () => {
    const policy = 'owner_id = auth.sub AND tenant_id = auth.tenant';
    replica.driver.exec(`
      INSERT INTO todos(id, list_id, tenant_id, owner_id) VALUES
        ('n1', 'l1', 'acme', 'alice'),
        ('n2', 'l1', 'acme', 'bob'),
        ('n3', 'l3', 'globex', 'alice');
    `);
    expect(forbidden(policy, alice, ids('n1', 'n2', 'n3'))).toEqual(ids('n2', 'n3'));
    expect(forbidden(policy, alice, ids('n1'))).toEqual([]);
  });

  it('update: checks the rows before and after the batch', () => {
    const policy = 'owner_id = auth.sub';
    // Alice may update a1 as it is...
    expect(forbidden(policy, alice, ids('a1'))).toEqual([]);
    replica.driver.exec("UPDATE todos SET owner_id = 'bob' WHERE id = 'a1'");
    // ...but not hand it to bob: the new row fails the check.
    expect(forbidden(policy, alice, ids('a1'))).toEqual(ids('a1'));
    // Nor may she touch bob's rows in the first place.
    expect(forbidden(policy, alice, ids('b1', 'b2'))).toEqual(ids('b1', 'b2'));
  });

  it('delete: checks the rows before they go, and a deleted row is not reported after', () => {
    const policy = "owner_id = auth.sub OR auth.role = 'admin'";
    expect(forbidden(policy, alice, ids('a1', 'b1'))).toEqual(ids('b1'));
    expect(forbidden(policy, { ...alice, role: 'admin' }, ids('a1', 'b1'))).toEqual([]);
    replica.driver.exec("DELETE FROM todos WHERE id IN ('a1', 'b1')");
    expect(forbidden(policy, alice, ids('a1', 'b1'))).toEqual([]);
  });

  it('a NULL outcome is forbidden', () => {
    expect(forbidden('tenant_id = auth.tenant', {}, ids('a1', 'c1'))).toEqual(ids('a1', 'c1'));
    expect(forbidden('NULL', {}, ids('a1'))).toEqual(ids('a1'));
  });

  it('follows SQLite’s truth: non-zero numbers pass, text that is not a number fails', () => {
    expect(forbidden('0.5', {}, ids('a1'))).toEqual([]);
    expect(forbidden('priority', {}, ids('a1', 'b2'))).toEqual([]);
    expect(forbidden("'yes'", {}, ids('a1'))).toEqual(ids('a1'));
  });

  it('without a policy every existing row is forbidden; `true` forbids none', () => {
    expect(forbidden(undefined, alice, ids('a1', 'c1', 'zz'))).toEqual(ids('a1', 'c1'));
    expect(forbidden('true', {}, ids('a1', 'c1', 'zz'))).toEqual([]);
  });

  it('reports keys with no row as neither allowed nor forbidden', () => {
    expect(forbidden('false', {}, ids('zz', 'yy'))).toEqual([]);
  });

  it('evaluates subquery policies', () => {
    const policy =
      'EXISTS (SELECT 1 FROM members m WHERE m.list_id = todos.list_id AND m.user_id = auth.sub)';
    expect(forbidden(policy, { sub: 'bob' }, ids('a1', 'b1', 'c1'))).toEqual(ids('c1'));
    expect(forbidden(policy, { sub: 'carol' }, ids('a1', 'c1'))).toEqual(ids('a1'));
  });

  it('handles composite keys', () => {
    const policy =
      'EXISTS (SELECT 1 FROM lists l WHERE l.id = members.list_id AND l.owner_id = auth.sub)';
    const keys: SqlValue[][] = [
      ['l1', 'alice'],
      ['l1', 'bob'],
      ['l2', 'bob'],
      ['l3', 'carol'],
    ];
    expect(
      forbiddenKeys(replica.driver, 'members', ['list_id', 'user_id'], keys, policy, alice),
    ).toEqual([
      ['l2', 'bob'],
      ['l3', 'carol'],
    ]);
  });

  it('reports a key passed twice once', () => {
    const keys = ids(...Array.from({ length: 1500 }, () => 'c1'));
    expect(forbidden('false', {}, keys)).toEqual(ids('c1'));
  });

  it('fails closed when a key matches only through type affinity', () => {
    replica.driver.exec('CREATE TABLE counters(n INTEGER PRIMARY KEY, owner TEXT)');
    replica.driver.exec("INSERT INTO counters VALUES (1, 'alice'), (2, 'bob')");
    const denied = forbiddenKeys(
      replica.driver,
      'counters',
      ['n'],
      [['1'], ['2']],
      'owner = auth.sub',
      alice,
    );
    // Reported as stored (INTEGER), so the caller sees a refusal even if it cannot match the key.
    expect(denied).toEqual([[2n]]);
  });

  it('checks a 5,000-row batch inside the server’s transaction, and the batch rolls back', () => {
    const policy = 'owner_id = auth.sub';
    const keys: SqlValue[][] = [];
    const counting = countingDriver(replica.driver);
    expect(() =>
      inSavepoint(replica.driver, () => {
        const insert = replica.driver.prepare(
          "INSERT INTO todos(id, list_id, tenant_id, owner_id) VALUES (?, 'l1', 'acme', ?)",
        );
        for (let i = 0; i < 5000; i++) {
          insert.run([`bulk-${i}`, i === 4321 ? 'bob' : 'alice']);
          keys.push([`bulk-${i}`]);
        }
        const denied = forbiddenKeys(counting, 'todos', ['id'], keys, policy, alice, 'insert');
        expect(denied).toEqual(ids('bulk-4321'));
        // What the server does with a non-empty result: refuse the batch whole.
        throw new Error(`forbidden: ${denied.map((key) => key[0]).join(', ')}`);
      }),
    ).toThrow('forbidden: bulk-4321');
    expect(Math.max(...counting.calls)).toBeLessThanOrEqual(MAX_PARAMETERS);
    expect(counting.calls.length).toBe(Math.ceil(5000 / (MAX_PARAMETERS - 1)));
    expect(replica.driver.prepare('SELECT count(*) FROM todos').all()).toEqual([[5n]]);
  });

  it('labels evaluation errors with the operation when given', () => {
    const error = policyErrorOf(() =>
      forbiddenKeys(replica.driver, 'todos', ['id'], ids('a1'), 'nope = 1', {}, 'update'),
    );
    expect(error).toMatchObject({
      problem: 'evaluation-failed',
      table: 'todos',
      operation: 'update',
    });
    expect(error.reason).toContain('no such column: nope');
  });
});
