import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { AuthConfigError } from './auth-error.js';
import { issueDevToken } from './dev-token.js';
import { clockEnv, expectAuthError, NOW_MS, NOW_S } from './test-support/fixtures.js';
import { TokenVerifier } from './token-verifier.js';
import { parseTtl } from './ttl.js';

const SECRET = 'development-secret-that-is-at-least-32-bytes';
const env = clockEnv();

describe('issueDevToken', () => {
  it('round-trips through the verifier with its claims, audience and issuer', async () => {
    const token = await issueDevToken({
      secret: SECRET,
      sub: 'alice',
      ttlSeconds: parseTtl('2h'),
      claims: { org: 'acme', roles: ['editor'] },
      audience: 'offsync',
      issuer: 'offsync-cli',
      env,
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const verifier = await TokenVerifier.create({
      hs256Secret: SECRET,
      audience: 'offsync',
      issuer: 'offsync-cli',
      env,
    });
    const user = await verifier.verify(token);
    expect(user).toEqual({
      kind: 'user',
      sub: 'alice',
      claims: {
        org: 'acme',
        roles: ['editor'],
        sub: 'alice',
        aud: 'offsync',
        iss: 'offsync-cli',
        iat: NOW_S,
        exp: NOW_S + 7200,
      },
      expiresAt: NOW_MS + 7_200_000,
    });
  });

  it('sets sub, iat and exp itself, whatever the extra claims say', async () => {
    const token = await issueDevToken({
      secret: SECRET,
      sub: 'alice',
      ttlSeconds: 60,
      claims: { sub: 'mallory', exp: NOW_S + 999_999, iat: 0 },
      env,
    });
    const user = await (await TokenVerifier.create({ hs256Secret: SECRET, env })).verify(token);
    expect(user.sub).toBe('alice');
    expect(user.claims.exp).toBe(NOW_S + 60);
    expect(user.claims.iat).toBe(NOW_S);
  });

  it('makes tokens that expire after their ttl', async () => {
    const clock = clockEnv();
    const token = await issueDevToken({ secret: SECRET, sub: 'a', ttlSeconds: 60, env: clock });
    const verifier = await TokenVerifier.create({ hs256Secret: SECRET, env: clock });
    expect((await verifier.verify(token)).sub).toBe('a');
    clock.set(NOW_MS + (60 + 31) * 1000);
    await expectAuthError(verifier.verify(token), 'expired', token);
  });

  it('is refused by a server with another secret', async () => {
    const token = await issueDevToken({ secret: SECRET, sub: 'a', ttlSeconds: 60, env });
    const verifier = await TokenVerifier.create({
      hs256Secret: 'a-different-secret-of-at-least-32-bytes',
      env,
    });
    await expectAuthError(verifier.verify(token), 'bad-signature', token);
  });

  it('refuses a short secret, an empty sub and a bad ttl', async () => {
    const bad = [
      { secret: 'short', sub: 'a', ttlSeconds: 60 },
      { secret: SECRET, sub: '', ttlSeconds: 60 },
      { secret: SECRET, sub: 'a', ttlSeconds: 0 },
      { secret: SECRET, sub: 'a', ttlSeconds: -5 },
      { secret: SECRET, sub: 'a', ttlSeconds: 1.5 },
      { secret: SECRET, sub: 'a', ttlSeconds: Number.NaN },
    ];
    for (const options of bad) {
      await expect(issueDevToken(options)).rejects.toBeInstanceOf(AuthConfigError);
    }
  });
});
