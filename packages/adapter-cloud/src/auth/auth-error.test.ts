import { OffsyncError } from '@offsync/core';
import { describe, expect, it } from 'vitest';
import { AuthConfigError, AuthError, type AuthErrorCode } from './auth-error.js';

const CODES: readonly AuthErrorCode[] = [
  'missing',
  'malformed',
  'expired',
  'not-yet-valid',
  'bad-signature',
  'wrong-audience',
  'wrong-issuer',
  'unknown-key',
  'revoked',
  'forbidden',
];

describe('AuthError', () => {
  it('is an OffsyncError with a status of 401, or 403 for forbidden', () => {
    for (const code of CODES) {
      const error = new AuthError(code);
      expect(error).toBeInstanceOf(OffsyncError);
      expect(error.type).toBe('AuthError');
      expect(error.name).toBe('AuthError');
      expect(error.status).toBe(code === 'forbidden' ? 403 : 401);
      expect(error.message.length).toBeGreaterThan(0);
    }
  });

  it('serialises its data but not its cause', () => {
    const cause = new Error('payload {"sub":"alice","secret":"s3cr3t"}');
    const error = new AuthError('expired', undefined, cause);
    expect(error.cause).toBe(cause);
    expect(error.toJSON()).toEqual({
      type: 'AuthError',
      name: 'AuthError',
      message: 'the token has expired',
      code: 'expired',
      status: 401,
    });
    expect(structuredClone(error.toJSON())).toEqual(error.toJSON());
  });
});

describe('AuthError statuses beyond 401', () => {
  it('is 403 for a known caller refused, 503 when the provider’s keys are unreachable', () => {
    expect(
      (['wrong-database', 'forbidden', 'key-source-unavailable'] as const).map(
        (code) => new AuthError(code).status,
      ),
    ).toEqual([403, 403, 503]);
  });
});

describe('AuthConfigError', () => {
  it('carries its reason', () => {
    const error = new AuthConfigError('no key source');
    expect(error.type).toBe('AuthConfigError');
    expect(error.reason).toBe('no key source');
    expect(error.message).toContain('no key source');
  });
});
