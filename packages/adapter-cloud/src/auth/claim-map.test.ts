import { describe, expect, it } from 'vitest';
import { AuthConfigError } from './auth-error.js';
import { applyClaimMap, checkClaimMap } from './claim-map.js';

describe('applyClaimMap', () => {
  const payload = {
    sub: 'u1',
    tenant: 'forged',
    app_metadata: { tenant_id: 't1', tags: ['a', 'b'] },
    'https://todo.example.com/roles': ['admin'],
    'a~b': { 'c/d': 42 },
  };

  it('reads nested, URL-named and escaped claims (RFC 6901)', () => {
    expect(
      applyClaimMap(payload, {
        tenant: '/app_metadata/tenant_id',
        roles: '/https:~1~1todo.example.com~1roles',
        odd: '/a~0b/c~1d',
        first: '/app_metadata/tags/0',
      }),
    ).toEqual({
      ...payload,
      tenant: 't1',
      roles: ['admin'],
      odd: 42,
      first: 'a',
    });
  });

  it('removes a mapped claim the pointer does not reach, so a token cannot supply it', () => {
    const mapped = applyClaimMap(payload, { tenant: '/app_metadata/missing' });
    expect(Object.hasOwn(mapped, 'tenant')).toBe(false);
  });

  it('never walks into the prototype', () => {
    const mapped = applyClaimMap(payload, {
      a: '/constructor',
      b: '/app_metadata/__proto__',
      c: '/app_metadata/tags/length',
    });
    expect(['a', 'b', 'c'].filter((name) => Object.hasOwn(mapped, name))).toEqual(['c']);
    // `length` is an own property of an array; it is a number, harmless.
    expect(mapped.c).toBe(2);
  });

  it('leaves the payload alone without a map', () => {
    expect(applyClaimMap(payload, undefined)).toEqual(payload);
  });
});

describe('checkClaimMap', () => {
  it.each([
    [[], 'claims must be an object of claim name to JSON Pointer'],
    [
      { 'auth.tenant': '/x' },
      'claims: "auth.tenant" is not a claim name a policy can read (letters, digits, _)',
    ],
    [{ exp: '/x' }, 'claims: the "exp" claim cannot be mapped'],
    [{ iss: '/x' }, 'claims: the "iss" claim cannot be mapped'],
    [
      { tenant: 'x' },
      'claims.tenant must be a JSON Pointer starting with "/" (like "/app_metadata/tenant_id")',
    ],
    [
      { tenant: 5 },
      'claims.tenant must be a JSON Pointer starting with "/" (like "/app_metadata/tenant_id")',
    ],
  ])('refuses %j', (map, reason) => {
    expect(() => checkClaimMap(map, 'claims')).toThrow(AuthConfigError);
    expect(() => checkClaimMap(map, 'claims')).toThrow(expect.objectContaining({ reason }));
  });
});
