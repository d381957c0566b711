import type { NodeReplica } from '@offsync/adapter-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bindClaims } from './bind-claims.js';
import { compilePolicy } from './compile-policy.js';
import { openTodoDatabase } from './test-support/todo-database.js';

const bind = (expression: string, claims: Record<string, unknown>) =>
  bindClaims(compilePolicy(expression), claims);

describe('bindClaims', () => {
  it('binds strings as TEXT, safe integers as INTEGER, other numbers as REAL', () => {
    expect(
      bind('auth.s = auth.i AND auth.f = auth.big', { s: 'u1', i: 42, f: 0.5, big: 2 ** 60 }),
    ).toEqual(['u1', 42n, 0.5, 2 ** 60]);
    expect(bind('auth.n = auth.z', { n: -7, z: -0 })).toEqual([-7n, 0n]);
  });

  it('binds booleans as INTEGER 1 and 0', () => {
    expect(bind('auth.yes AND NOT auth.no', { yes: true, no: false })).toEqual([1n, 0n]);
  });

  it('binds missing claims, null, arrays, objects and NaN as NULL', () => {
    expect(
      bind('auth.missing = auth.nil = auth.list = auth.obj = auth.nan', {
        nil: null,
        list: ['a', 'b'],
        obj: { id: 1 },
        nan: Number.NaN,
      }),
    ).toEqual([null, null, null, null, null]);
  });

  it('binds bigints within 64 bits as INTEGER, others as NULL', () => {
    expect(bind('auth.a = auth.b', { a: 2n ** 62n, b: 2n ** 64n })).toEqual([2n ** 62n, null]);
  });

  it('reads nested claims through own properties only', () => {
    const claims = { org: { id: 'o1', tier: { level: 3 } }, plain: 'x' };
    expect(bind('auth.org.id = auth.org.tier.level', claims)).toEqual(['o1', 3n]);
    expect(bind('auth.org.missing = auth.plain.length', claims)).toEqual([null, null]);
    expect(bind('auth.constructor = auth.toString = auth.__proto__', {})).toEqual([
      null,
      null,
      null,
    ]);
  });

  it('repeats a claim referenced twice', () => {
    expect(bind('a = auth.sub OR b = auth.sub', { sub: 'u1' })).toEqual(['u1', 'u1']);
  });

  describe('in SQLite', () => {
    let replica: NodeReplica;
    beforeEach(() => {
      replica = openTodoDatabase();
    });
    afterEach(() => replica.close());

    it('each claim type lands in its storage class', () => {
      const compiled = compilePolicy('auth.s, auth.i, auth.f, auth.b, auth.missing');
      const values = bindClaims(compiled, { s: 'u1', i: 7, f: 1.25, b: true });
      const row = replica.driver
        .prepare('SELECT typeof(?), typeof(?), typeof(?), typeof(?), typeof(?)')
        .all(values)[0];
      expect(row).toEqual(['text', 'integer', 'real', 'integer', 'null']);
    });

    it('compares as a policy author expects: integers with INTEGER columns, true with 1', () => {
      const count = (expression: string, claims: Record<string, unknown>) =>
        replica.driver
          .prepare(`SELECT count(*) FROM todos WHERE (${compilePolicy(expression).sql})`)
          .all(bindClaims(compilePolicy(expression), claims))[0]![0];
      expect(count('priority <= auth.level', { level: 2 })).toBe(2n);
      expect(count('priority <= auth.level', { level: 2.5 })).toBe(2n);
      expect(count('archived = auth.flag', { flag: true })).toBe(1n);
      expect(count('owner_id = auth.sub', {})).toBe(0n);
      expect(count('owner_id = auth.sub OR auth.sub IS NULL', {})).toBe(5n);
    });
  });
});
