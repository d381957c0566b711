import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from './auth-error.js';
import { useTempDirs } from './test-support/fixtures.js';
import { TokenVerifier } from './token-verifier.js';

const SECRET = 's'.repeat(48);
const newDir = useTempDirs();

function hs256(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('u1')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));
}

async function verdict(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return error instanceof AuthError ? error.code : `other: ${String(error)}`;
  }
}

describe('per-database rules', () => {
  let verifier: TokenVerifier;

  beforeAll(async () => {
    verifier = await TokenVerifier.create({
      hs256Secret: SECRET,
      issuer: 'https://idp/',
      audience: 'api',
      claims: { tenant: '/org/id' },
      databases: {
        acme: { issuer: ['https://idp/acme/', 'https://idp/acme-eu/'], claims: { tenant: '/t' } },
        globex: { audience: 'globex' },
      },
    });
  });

  it('replaces only the settings a database names', async () => {
    const token = await hs256({ iss: 'https://idp/acme-eu/', aud: 'api' });
    expect(
      await Promise.all([
        verdict(verifier.verify(token, 'acme')),
        verdict(verifier.verify(token, 'globex')),
        verdict(verifier.verify(token, 'unlisted')),
        verdict(verifier.verify(token)),
      ]),
    ).toEqual(['ok', 'wrong-issuer', 'wrong-issuer', 'wrong-issuer']);
    const globex = await hs256({ iss: 'https://idp/', aud: 'globex' });
    expect(
      await Promise.all([
        verdict(verifier.verify(globex, 'globex')),
        verdict(verifier.verify(globex, 'acme')),
      ]),
    ).toEqual(['ok', 'wrong-issuer']);
  });

  it('maps claims with the database’s own map, else the server-wide one', async () => {
    const token = await hs256({ iss: 'https://idp/acme/', aud: 'api', t: 'a', org: { id: 'o' } });
    expect((await verifier.verify(token, 'acme')).claims.tenant).toBe('a');
    const plain = await hs256({ iss: 'https://idp/', aud: 'api', t: 'a', org: { id: 'o' } });
    expect((await verifier.verify(plain, 'unlisted')).claims.tenant).toBe('o');
    expect(Object.isFrozen((await verifier.verify(plain)).claims)).toBe(true);
  });

  it('refuses a bad claim map at creation', async () => {
    await expect(
      TokenVerifier.create({ hs256Secret: SECRET, databases: { a: { claims: { aud: '/x' } } } }),
    ).rejects.toMatchObject({ reason: 'databases.a.claims: the "aud" claim cannot be mapped' });
  });
});

describe('a key file and a key URL together', () => {
  const server = createServer((_request, response) =>
    response.writeHead(200, { 'content-type': 'application/json' }).end(remoteSet),
  );
  let remoteSet = '{"keys":[]}';

  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('verifies with whichever set holds the kid, and refuses a kid in neither', async () => {
    const file = await generateKeyPair('ES256', { extractable: true });
    const remote = await generateKeyPair('RS256', { extractable: true });
    const path = join(await newDir(), 'jwks.json');
    writeFileSync(
      path,
      JSON.stringify({ keys: [{ ...(await exportJWK(file.publicKey)), kid: 'f' }] }),
    );
    remoteSet = JSON.stringify({ keys: [{ ...(await exportJWK(remote.publicKey)), kid: 'r' }] });
    const verifier = await TokenVerifier.create({
      jwksPath: path,
      jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    });
    const sign = (alg: string, kid: string, key: CryptoKey) =>
      new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg, kid }).setExpirationTime('1h').sign(key);
    expect(
      await Promise.all([
        verdict(verifier.verify(await sign('ES256', 'f', file.privateKey))),
        verdict(verifier.verify(await sign('RS256', 'r', remote.privateKey))),
        verdict(verifier.verify(await sign('RS256', 'x', remote.privateKey))),
        verdict(verifier.verify(await sign('RS256', 'f', remote.privateKey))),
      ]),
    ).toEqual(['ok', 'ok', 'unknown-key', 'unknown-key']);
  });
});
