import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CompactSign,
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthConfigError } from './auth-error.js';
import { clockEnv, expectAuthError, NOW_MS, NOW_S, useTempDirs } from './test-support/fixtures.js';
import { TokenVerifier, type TokenVerifierOptions } from './token-verifier.js';

const SECRET = 'development-secret-that-is-at-least-32-bytes';
const OTHER_SECRET = 'another-secret-that-is-also-32-bytes-long!!';
const VALID: JWTPayload = { sub: 'alice', iat: NOW_S, exp: NOW_S + 600 };
const env = clockEnv();
const tempDir = useTempDirs();

function verifier(options: TokenVerifierOptions): Promise<TokenVerifier> {
  return TokenVerifier.create({ env, ...options });
}

function signHs256(payload: JWTPayload, secret = SECRET): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(secret));
}

interface Pair {
  readonly publicKey: CryptoKey;
  readonly privateKey: CryptoKey;
}

function signWith(
  pair: Pair,
  payload: JWTPayload,
  header: { alg: string; kid?: string },
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header).sign(pair.privateKey);
}

async function publicJwk(pair: Pair, kid: string, alg: string): Promise<JWK> {
  return { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('TokenVerifier with an HS256 secret', () => {
  it('accepts a valid token and returns the whole payload as claims', async () => {
    const tokens = await verifier({ hs256Secret: SECRET });
    const token = await signHs256({ ...VALID, org: 'acme', roles: ['editor'], meta: { a: 1 } });
    const user = await tokens.verify(token);
    expect(user).toEqual({
      kind: 'user',
      sub: 'alice',
      claims: { ...VALID, org: 'acme', roles: ['editor'], meta: { a: 1 } },
      expiresAt: (NOW_S + 600) * 1000,
    });
  });

  it('deep-freezes the claims so a policy cannot change the security context', async () => {
    const tokens = await verifier({ hs256Secret: SECRET });
    const user = await tokens.verify(await signHs256({ ...VALID, meta: { team: 'a' } }));
    expect(Object.isFrozen(user.claims)).toBe(true);
    expect(Object.isFrozen(user.claims.meta)).toBe(true);
    expect(() => {
      (user.claims as Record<string, unknown>).sub = 'mallory';
    }).toThrow(TypeError);
  });

  it('accepts a secret given as bytes', async () => {
    const bytes = new TextEncoder().encode(SECRET);
    const tokens = await verifier({ hs256Secret: bytes });
    expect((await tokens.verify(await signHs256(VALID))).sub).toBe('alice');
  });

  it('refuses a token signed with another secret (forged signature)', async () => {
    const tokens = await verifier({ hs256Secret: SECRET });
    const token = await signHs256(VALID, OTHER_SECRET);
    await expectAuthError(tokens.verify(token), 'bad-signature', token);
  });

  it('refuses a token whose payload was altered after signing', async () => {
    const tokens = await verifier({ hs256Secret: SECRET });
    const [header, , signature] = (await signHs256(VALID)).split('.');
    const tampered = `${header}.${base64url({ ...VALID, sub: 'mallory' })}.${signature}`;
    await expectAuthError(tokens.verify(tampered), 'bad-signature', tampered);
  });

  it('refuses an expired token once past the 30 s default tolerance', async () => {
    const tokens = await verifier({ hs256Secret: SECRET });
    const expired = await signHs256({ sub: 'alice', exp: NOW_S - 31 });
    await expectAuthError(tokens.verify(expired), 'expired', expired);
    const withinTolerance = await signHs256({ sub: 'alice', exp: NOW_S - 10 });
    expect((await tokens.verify(withinTolerance)).sub).toBe('alice');
  });

  it('applies a configured clock tolerance', async () => {
    const tokens = await verifier({ hs256Secret: SECRET, clockToleranceSeconds: 0 });
    await expectAuthError(tokens.verify(await signHs256({ sub: 'a', exp: NOW_S - 1 })), 'expired');
    expect((await tokens.verify(await signHs256({ sub: 'a', exp: NOW_S + 1 }))).sub).toBe('a');
  });

  it('reads the time from the injected clock', async () => {
    const clock = clockEnv();
    const tokens = await TokenVerifier.create({ hs256Secret: SECRET, env: clock });
    const token = await signHs256({ sub: 'alice', exp: NOW_S + 60 });
    expect((await tokens.verify(token)).sub).toBe('alice');
    clock.set(NOW_MS + 91_000);
    await expectAuthError(tokens.verify(token), 'expired');
  });

  it('refuses a token that is not valid yet (nbf beyond the tolerance)', async () => {
    const tokens = await verifier({ hs256Secret: SECRET });
    const early = await signHs256({ ...VALID, nbf: NOW_S + 60 });
    await expectAuthError(tokens.verify(early), 'not-yet-valid', early);
    expect((await tokens.verify(await signHs256({ ...VALID, nbf: NOW_S + 10 }))).sub).toBe('alice');
  });

  it('checks the audience when one is configured', async () => {
    const tokens = await verifier({
      hs256Secret: SECRET,
      audience: ['offsync', 'offsync-staging'],
    });
    const wrong = await signHs256({ ...VALID, aud: 'another-api' });
    await expectAuthError(tokens.verify(wrong), 'wrong-audience', wrong);
    await expectAuthError(tokens.verify(await signHs256(VALID)), 'wrong-audience');
    expect((await tokens.verify(await signHs256({ ...VALID, aud: 'offsync' }))).sub).toBe('alice');
    const listed = await signHs256({ ...VALID, aud: ['x', 'offsync-staging'] });
    expect((await tokens.verify(listed)).sub).toBe('alice');
  });

  it('ignores the audience when none is configured', async () => {
    const tokens = await verifier({ hs256Secret: SECRET });
    expect((await tokens.verify(await signHs256({ ...VALID, aud: 'anything' }))).sub).toBe('alice');
  });

  it('checks the issuer when one is configured', async () => {
    const tokens = await verifier({ hs256Secret: SECRET, issuer: 'https://auth.example.com/' });
    const wrong = await signHs256({ ...VALID, iss: 'https://evil.example.com/' });
    await expectAuthError(tokens.verify(wrong), 'wrong-issuer', wrong);
    await expectAuthError(tokens.verify(await signHs256(VALID)), 'wrong-issuer');
    const right = await signHs256({ ...VALID, iss: 'https://auth.example.com/' });
    expect((await tokens.verify(right)).sub).toBe('alice');
  });

  it('requires a non-empty string sub', async () => {
    const tokens = await verifier({ hs256Secret: SECRET });
    const noSub = await signHs256({ exp: NOW_S + 600 });
    const error = await expectAuthError(tokens.verify(noSub), 'malformed', noSub);
    expect(error.message).toContain('"sub"');
    await expectAuthError(tokens.verify(await signHs256({ ...VALID, sub: '' })), 'malformed');
    const numeric = await signHs256({ exp: NOW_S + 600, sub: 42 } as unknown as JWTPayload);
    await expectAuthError(tokens.verify(numeric), 'malformed');
  });

  it('requires exp, so no token lives forever', async () => {
    const tokens = await verifier({ hs256Secret: SECRET });
    const error = await expectAuthError(tokens.verify(await signHs256({ sub: 'a' })), 'malformed');
    expect(error.message).toContain('"exp"');
    const textual = await signHs256({ sub: 'a', exp: 'tomorrow' } as unknown as JWTPayload);
    await expectAuthError(tokens.verify(textual), 'malformed');
  });

  it('refuses an unsecured token (alg none), with or without a signature part', async () => {
    const tokens = await verifier({ hs256Secret: SECRET });
    const unsecured = new UnsecuredJWT({ ...VALID }).encode();
    expect(unsecured.endsWith('.')).toBe(true);
    await expectAuthError(tokens.verify(unsecured), 'bad-signature', unsecured);
    const [, payload, signature] = (await signHs256(VALID)).split('.');
    const relabelled = `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`;
    await expectAuthError(tokens.verify(relabelled), 'bad-signature', relabelled);
    const noneVariant = `${base64url({ alg: 'None' })}.${payload}.`;
    await expectAuthError(tokens.verify(noneVariant), 'bad-signature', noneVariant);
  });

  it('refuses garbage as malformed, without echoing it', async () => {
    const tokens = await verifier({ hs256Secret: SECRET });
    const [header, payload] = (await signHs256(VALID)).split('.');
    const garbage = [
      'garbage',
      'a.b.c',
      '..',
      'a.b',
      'a.b.c.d',
      `${header}.${payload}`,
      `${base64url('not an object')}.${payload}.c2ln`,
      `${Buffer.from('{not json').toString('base64url')}.${payload}.c2ln`,
      // Correctly signed, but the payload is not a claims object.
      await new CompactSign(new TextEncoder().encode('[1,2]'))
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(SECRET)),
      `${header}.${payload}.!!!`,
      'é.é.é',
      'x'.repeat(20_000),
    ];
    for (const token of garbage) {
      await expectAuthError(tokens.verify(token), 'malformed', token);
    }
  });

  it('treats an empty token as missing', async () => {
    const tokens = await verifier({ hs256Secret: SECRET });
    await expectAuthError(tokens.verify(''), 'missing');
  });

  it('keeps the library error as a cause that never reaches the JSON form', async () => {
    const tokens = await verifier({ hs256Secret: SECRET });
    const error = await expectAuthError(
      tokens.verify(await signHs256({ ...VALID, secretClaim: 'do-not-leak', nbf: NOW_S + 999 })),
      'not-yet-valid',
    );
    expect(error.cause).toBeInstanceOf(Error);
    expect(Object.keys(error)).not.toContain('cause');
    expect(JSON.stringify(error.toJSON())).not.toContain('do-not-leak');
  });
});

describe('TokenVerifier with an RS256 public key', () => {
  let pair: Pair;
  let pem: string;
  beforeAll(async () => {
    pair = await generateKeyPair('RS256');
    pem = await exportSPKI(pair.publicKey);
  });

  it('accepts a token signed by the matching private key', async () => {
    const tokens = await verifier({ rs256PublicKey: pem });
    const token = await signWith(pair, { ...VALID, tenant: 't1' }, { alg: 'RS256' });
    const user = await tokens.verify(token);
    expect(user.sub).toBe('alice');
    expect(user.claims.tenant).toBe('t1');
  });

  it('uses the PEM key whatever kid the token names', async () => {
    const tokens = await verifier({ rs256PublicKey: pem });
    const token = await signWith(pair, VALID, { alg: 'RS256', kid: 'idp-key-7' });
    expect((await tokens.verify(token)).sub).toBe('alice');
  });

  it('refuses a token signed by another RSA key', async () => {
    const other = await generateKeyPair('RS256');
    const tokens = await verifier({ rs256PublicKey: pem });
    const token = await signWith(other, VALID, { alg: 'RS256' });
    await expectAuthError(tokens.verify(token), 'bad-signature', token);
  });

  it('refuses algorithm confusion: an HS256 token keyed with the public key', async () => {
    const tokens = await verifier({ rs256PublicKey: pem });
    const token = await new SignJWT(VALID)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(pem));
    await expectAuthError(tokens.verify(token), 'bad-signature', token);
  });

  it('refuses an HS256 token even when the secret is right but HS256 is not configured', async () => {
    const tokens = await verifier({ rs256PublicKey: pem });
    await expectAuthError(tokens.verify(await signHs256(VALID)), 'bad-signature');
  });

  it('accepts both algorithms when both sources are configured, each with its own key', async () => {
    const tokens = await verifier({ rs256PublicKey: pem, hs256Secret: SECRET });
    expect((await tokens.verify(await signHs256(VALID))).sub).toBe('alice');
    expect((await tokens.verify(await signWith(pair, VALID, { alg: 'RS256' }))).sub).toBe('alice');
    const confused = await new SignJWT(VALID)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(pem));
    await expectAuthError(tokens.verify(confused), 'bad-signature');
  });

  it('checks audience and issuer on RS256 tokens too', async () => {
    const tokens = await verifier({ rs256PublicKey: pem, audience: 'offsync', issuer: 'idp' });
    const ok = await signWith(pair, { ...VALID, aud: 'offsync', iss: 'idp' }, { alg: 'RS256' });
    expect((await tokens.verify(ok)).sub).toBe('alice');
    const wrongAud = await signWith(pair, { ...VALID, aud: 'x', iss: 'idp' }, { alg: 'RS256' });
    await expectAuthError(tokens.verify(wrongAud), 'wrong-audience');
    const wrongIss = await signWith(pair, { ...VALID, aud: 'offsync', iss: 'x' }, { alg: 'RS256' });
    await expectAuthError(tokens.verify(wrongIss), 'wrong-issuer');
  });
});

describe('TokenVerifier with a JWKS file', () => {
  let first: Pair;
  let second: Pair;
  let third: Pair;
  let ec: Pair;
  beforeAll(async () => {
    [first, second, third, ec] = await Promise.all([
      generateKeyPair('RS256'),
      generateKeyPair('RS256'),
      generateKeyPair('RS256'),
      generateKeyPair('ES256'),
    ]);
  });

  async function writeJwks(path: string, keys: readonly JWK[]): Promise<void> {
    await writeFile(path, JSON.stringify({ keys }));
  }

  async function twoKeyFile(): Promise<string> {
    const path = join(await tempDir(), 'jwks.json');
    await writeJwks(path, [
      await publicJwk(first, 'k1', 'RS256'),
      await publicJwk(second, 'k2', 'RS256'),
    ]);
    return path;
  }

  it('selects the key by kid among two', async () => {
    const tokens = await verifier({ jwksPath: await twoKeyFile() });
    const one = await signWith(first, { ...VALID, sub: 'one' }, { alg: 'RS256', kid: 'k1' });
    const two = await signWith(second, { ...VALID, sub: 'two' }, { alg: 'RS256', kid: 'k2' });
    expect((await tokens.verify(one)).sub).toBe('one');
    expect((await tokens.verify(two)).sub).toBe('two');
  });

  it('refuses a token whose kid names the other key in the set', async () => {
    const tokens = await verifier({ jwksPath: await twoKeyFile() });
    const token = await signWith(first, VALID, { alg: 'RS256', kid: 'k2' });
    await expectAuthError(tokens.verify(token), 'bad-signature', token);
  });

  it('refuses an unknown kid', async () => {
    const tokens = await verifier({ jwksPath: await twoKeyFile() });
    const token = await signWith(third, VALID, { alg: 'RS256', kid: 'k3' });
    await expectAuthError(tokens.verify(token), 'unknown-key', token);
  });

  it('refuses a token without kid when the set has several candidate keys', async () => {
    const tokens = await verifier({ jwksPath: await twoKeyFile() });
    const token = await signWith(first, VALID, { alg: 'RS256' });
    await expectAuthError(tokens.verify(token), 'unknown-key', token);
  });

  it('accepts ES256 keys from the set, and refuses HS256 tokens', async () => {
    const path = join(await tempDir(), 'jwks.json');
    await writeJwks(path, [await publicJwk(ec, 'ec1', 'ES256')]);
    const tokens = await verifier({ jwksPath: path });
    const token = await signWith(ec, VALID, { alg: 'ES256', kid: 'ec1' });
    expect((await tokens.verify(token)).sub).toBe('alice');
    await expectAuthError(tokens.verify(await signHs256(VALID)), 'bad-signature');
  });

  it('picks up a rewritten file: a new kid is accepted, a removed one refused', async () => {
    const path = await twoKeyFile();
    const tokens = await verifier({ jwksPath: path });
    const byThird = await signWith(third, VALID, { alg: 'RS256', kid: 'k3' });
    const byFirst = await signWith(first, VALID, { alg: 'RS256', kid: 'k1' });
    await expectAuthError(tokens.verify(byThird), 'unknown-key');
    expect((await tokens.verify(byFirst)).sub).toBe('alice');

    // In place, as an editor would.
    await writeJwks(path, [await publicJwk(third, 'k3', 'RS256')]);
    expect((await tokens.verify(byThird)).sub).toBe('alice');
    await expectAuthError(tokens.verify(byFirst), 'unknown-key');

    // Atomically, as a rotation job would.
    const staged = `${path}.new`;
    await writeJwks(staged, [
      await publicJwk(first, 'k1', 'RS256'),
      await publicJwk(third, 'k3', 'RS256'),
    ]);
    await rename(staged, path);
    expect((await tokens.verify(byFirst)).sub).toBe('alice');
    expect((await tokens.verify(byThird)).sub).toBe('alice');
  });

  it('keeps the last good key set while the file is broken or gone', async () => {
    const path = await twoKeyFile();
    const tokens = await verifier({ jwksPath: path });
    const token = await signWith(first, VALID, { alg: 'RS256', kid: 'k1' });
    await writeFile(path, '{"keys": [');
    expect((await tokens.verify(token)).sub).toBe('alice');
    await rename(path, `${path}.moved`);
    expect((await tokens.verify(token)).sub).toBe('alice');
    await writeJwks(path, [await publicJwk(second, 'k2', 'RS256')]);
    await expectAuthError(tokens.verify(token), 'unknown-key');
  });

  it('serves concurrent verifications during a reload', async () => {
    const path = await twoKeyFile();
    const tokens = await verifier({ jwksPath: path });
    await writeJwks(path, [await publicJwk(third, 'k3', 'RS256')]);
    const token = await signWith(third, VALID, { alg: 'RS256', kid: 'k3' });
    const users = await Promise.all(Array.from({ length: 20 }, () => tokens.verify(token)));
    expect(users.every((user) => user.sub === 'alice')).toBe(true);
  });

  it('prefers the JWKS for a token with a kid, the PEM key for one without', async () => {
    const tokens = await verifier({
      jwksPath: await twoKeyFile(),
      rs256PublicKey: await exportSPKI(third.publicKey),
    });
    const pemSigned = await signWith(third, VALID, { alg: 'RS256' });
    const setSigned = await signWith(second, VALID, { alg: 'RS256', kid: 'k2' });
    expect((await tokens.verify(pemSigned)).sub).toBe('alice');
    expect((await tokens.verify(setSigned)).sub).toBe('alice');
  });
});

describe('TokenVerifier configuration', () => {
  it('needs at least one key source', async () => {
    await expect(TokenVerifier.create({})).rejects.toBeInstanceOf(AuthConfigError);
  });

  it('refuses an HS256 secret shorter than 32 bytes', async () => {
    const error = await TokenVerifier.create({ hs256Secret: 'short' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthConfigError);
    expect((error as AuthConfigError).reason).toContain('32 bytes');
  });

  it('refuses a public key that is not SPKI PEM', async () => {
    await expect(TokenVerifier.create({ rs256PublicKey: 'not a key' })).rejects.toBeInstanceOf(
      AuthConfigError,
    );
    // A real SPKI key, but not an RSA one.
    const ecPem = await exportSPKI((await generateKeyPair('ES256')).publicKey);
    await expect(TokenVerifier.create({ rs256PublicKey: ecPem })).rejects.toBeInstanceOf(
      AuthConfigError,
    );
  });

  it('refuses a missing or invalid JWKS file at startup', async () => {
    const dir = await tempDir();
    await expect(
      TokenVerifier.create({ jwksPath: join(dir, 'absent.json') }),
    ).rejects.toBeInstanceOf(AuthConfigError);
    const invalid = join(dir, 'invalid.json');
    await writeFile(invalid, JSON.stringify({ notKeys: true }));
    await expect(TokenVerifier.create({ jwksPath: invalid })).rejects.toBeInstanceOf(
      AuthConfigError,
    );
  });

  it('refuses a negative clock tolerance', async () => {
    await expect(
      TokenVerifier.create({ hs256Secret: SECRET, clockToleranceSeconds: -1 }),
    ).rejects.toBeInstanceOf(AuthConfigError);
  });
});
