import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuthError } from './auth-error.js';
import type { UserPrincipal } from './principal.js';
import { useTempDirs } from './test-support/fixtures.js';
import { UserRevocations, UserRevocationsFileError } from './user-revocations.js';

const newDir = useTempDirs();

function user(sub: string, iat?: unknown): UserPrincipal {
  return {
    kind: 'user',
    sub,
    claims: { sub, ...(iat === undefined ? {} : { iat }) },
    expiresAt: 0,
  };
}

describe('UserRevocations', () => {
  it('persists revocations and only ever moves them forward', async () => {
    const path = join(await newDir(), 'revocations.json');
    const revocations = UserRevocations.open(path);
    expect(revocations.revoke('todos', 'alice', 5_000.7)).toBe(5_000);
    expect(revocations.revoke('todos', 'alice', 1_000)).toBe(5_000);
    expect(revocations.revoke('todos', 'alice', 9_000)).toBe(9_000);
    const reopened = UserRevocations.open(path);
    expect([
      reopened.revokedBefore('todos', 'alice'),
      reopened.revokedBefore('todos', 'bob'),
    ]).toEqual([9_000, undefined]);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      version: 1,
      databases: { todos: { alice: 9_000 } },
    });
  });

  it('refuses tokens issued before the instant, or without iat', async () => {
    const revocations = UserRevocations.open(join(await newDir(), 'r.json'));
    revocations.revoke('todos', 'alice', 10_500);
    const verdict = (principal: UserPrincipal, database = 'todos') => {
      try {
        revocations.check(principal, database);
        return 'ok';
      } catch (error) {
        return error instanceof AuthError ? `${error.status} ${error.code}` : 'other';
      }
    };
    expect([
      verdict(user('alice', 9)),
      verdict(user('alice', 10)), // the revocation's own second
      verdict(user('alice', 11)),
      verdict(user('alice')),
      verdict(user('alice', '20')),
      verdict(user('alice', 9), 'other'),
      verdict(user('bob', 9)),
    ]).toEqual(['401 revoked', '401 revoked', 'ok', '401 revoked', '401 revoked', 'ok', 'ok']);
    expect(revocations.revokes(user('alice', 9), 'todos')).toBe(true);
    expect(revocations.revokes(undefined, 'todos')).toBe(false);
    expect(revocations.revokes({ kind: 'admin', keyId: 'k', label: 'ops' }, 'todos')).toBe(false);
  });

  it.each([
    ['not json', 'not valid JSON'],
    ['[]', 'expected {"version": 1, "databases": {...}}'],
    ['{"version": 2, "databases": {}}', 'expected {"version": 1, "databases": {...}}'],
    ['{"version": 1, "databases": {"todos": 5}}', 'databases.todos must be an object'],
    [
      '{"version": 1, "databases": {"todos": {"a": "soon"}}}',
      'databases.todos: a time is not an integer',
    ],
  ])('refuses a corrupt file %j', async (text, reason) => {
    const path = join(await newDir(), 'revocations.json');
    writeFileSync(path, text);
    expect(() => UserRevocations.open(path)).toThrow(UserRevocationsFileError);
    expect(() => UserRevocations.open(path)).toThrow(expect.objectContaining({ reason }));
  });

  it('keeps the last state when the file cannot be written', async () => {
    const dir = await newDir();
    const revocations = UserRevocations.open(join(dir, 'missing-folder', 'r.json'));
    expect(() => revocations.revoke('todos', 'alice', 1_000)).toThrow();
    expect(revocations.revokedBefore('todos', 'alice')).toBeUndefined();
  });
});
