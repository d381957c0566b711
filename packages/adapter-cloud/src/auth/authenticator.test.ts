import { join } from 'node:path';
import { SignJWT } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { generateApiKey } from './api-key.js';
import { ApiKeyStore } from './api-key-store.js';
import { Authenticator, readCredential } from './authenticator.js';
import { issueDevToken } from './dev-token.js';
import { type Principal, requireAdmin } from './principal.js';
import { clockEnv, expectAuthError, NOW_S, useTempDirs } from './test-support/fixtures.js';
import { TokenVerifier } from './token-verifier.js';

const SECRET = 'development-secret-that-is-at-least-32-bytes';
const env = clockEnv();
const tempDir = useTempDirs();

let store: ApiKeyStore;
let tokens: TokenVerifier;
let auth: Authenticator;
let adminKey: string;
let serviceKey: string;

beforeEach(async () => {
  store = await ApiKeyStore.open(join(await tempDir(), 'api-keys.json'), { env });
  tokens = await TokenVerifier.create({ hs256Secret: SECRET, env });
  auth = new Authenticator({ apiKeys: store, tokens });
  adminKey = (await store.create('admin', 'ops')).key;
  serviceKey = (await store.create('service', 'worker')).key;
});

function userToken(sub = 'alice'): Promise<string> {
  return issueDevToken({ secret: SECRET, sub, ttlSeconds: 600, claims: { org: 'acme' }, env });
}

describe('readCredential', () => {
  it('takes the credential from a Bearer header, in any case, or a bare value', () => {
    expect(readCredential('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(readCredential('bearer abc')).toBe('abc');
    expect(readCredential('BEARER   abc  ')).toBe('abc');
    expect(readCredential('abc.def.ghi')).toBe('abc.def.ghi');
    expect(readCredential('  osk_admin_x ')).toBe('osk_admin_x');
  });

  it('refuses an absent or empty credential as missing', async () => {
    for (const value of [undefined, '', '   ', 'Bearer', 'Bearer   ']) {
      await expectAuthError(
        Promise.resolve().then(() => readCredential(value)),
        'missing',
      );
    }
  });

  it('refuses other schemes and extra parts as malformed', async () => {
    const values = [
      'Basic dXNlcjpwdw==',
      'Bearer sekret-one sekret-two',
      'Token sekret-three',
      'Bearer\tsekret-four\tsekret-five',
    ];
    for (const value of values) {
      await expectAuthError(
        Promise.resolve().then(() => readCredential(value)),
        'malformed',
        value.split(/\s+/)[1],
      );
    }
  });
});

describe('Authenticator', () => {
  it('authenticates an admin key from a Bearer header', async () => {
    const principal = await auth.authenticate(`Bearer ${adminKey}`);
    expect(principal).toMatchObject({ kind: 'admin', label: 'ops' });
  });

  it('authenticates a bare service key', async () => {
    const principal = await auth.authenticate(serviceKey);
    expect(principal).toMatchObject({ kind: 'service', label: 'worker' });
  });

  it('authenticates a user token from a header or bare', async () => {
    const token = await userToken();
    const fromHeader = await auth.authenticate(`Bearer ${token}`);
    const bare = await auth.authenticate(token);
    expect(fromHeader).toEqual(bare);
    expect(fromHeader).toMatchObject({ kind: 'user', sub: 'alice', claims: { org: 'acme' } });
  });

  it('refuses a missing header with 401', async () => {
    await expectAuthError(auth.authenticate(undefined), 'missing');
    await expectAuthError(auth.authenticate(''), 'missing');
  });

  it('refuses an unknown, a revoked and a malformed API key, without echoing it', async () => {
    const unknown = generateApiKey('admin');
    await expectAuthError(auth.authenticate(`Bearer ${unknown}`), 'unknown-key', unknown);
    const revoked = await store.create('service', 'old');
    await store.revoke(revoked.id);
    await expectAuthError(auth.authenticate(revoked.key), 'revoked', revoked.key);
    await expectAuthError(auth.authenticate('osk_admin_tooshort'), 'malformed', 'tooshort');
    await expectAuthError(auth.authenticate('osk_whatever'), 'malformed', 'osk_whatever');
  });

  it('treats anything without the osk_ prefix as a JWT', async () => {
    await expectAuthError(auth.authenticate('Bearer not-a-jwt'), 'malformed', 'not-a-jwt');
    const forged = await new SignJWT({ sub: 'alice', exp: NOW_S + 60 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('some-other-secret-that-is-32-bytes-long'));
    await expectAuthError(auth.authenticate(`Bearer ${forged}`), 'bad-signature', forged);
  });

  it('refuses a credential kind the server is not configured for', async () => {
    const keysOnly = new Authenticator({ apiKeys: store });
    await expectAuthError(keysOnly.authenticate(await userToken()), 'unknown-key');
    expect((await keysOnly.authenticate(adminKey)).kind).toBe('admin');
    const tokensOnly = new Authenticator({ tokens });
    await expectAuthError(tokensOnly.authenticate(adminKey), 'unknown-key', adminKey);
    expect((await tokensOnly.authenticate(await userToken())).kind).toBe('user');
  });
});

describe('requireAdmin', () => {
  it('lets an admin through', async () => {
    const principal: Principal = await auth.authenticate(adminKey);
    expect(() => requireAdmin(principal)).not.toThrow();
  });

  it('refuses services and users with 403 forbidden', async () => {
    for (const credential of [serviceKey, await userToken()]) {
      const principal = await auth.authenticate(credential);
      await expectAuthError(
        Promise.resolve().then(() => requireAdmin(principal)),
        'forbidden',
        credential,
      );
    }
  });
});
