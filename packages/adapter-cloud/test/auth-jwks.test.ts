import { createServer } from 'node:net';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthServer,
  createTodoDatabase,
  helloWith,
  type JwksServer,
  outcome,
  type ProviderServer,
  type SigningKey,
  signingKey,
  signToken,
  startAuthServer,
  startWithProvider,
} from './support/identity-provider.js';

// Users' tokens verified against an identity provider's JWKS URL, served on 127.0.0.1 by the
// test: key rotation, the refetch cooldown, an unreachable or misbehaving provider, and tokens
// an attacker would try. Every token goes through the real server's HTTP sync route.

const ISSUER = 'https://idp.test/';
const AUDIENCE = 'todo-api';
const DB = 'todos';

function claims(sub: string, extra: Record<string, unknown> = {}) {
  return { sub, iss: ISSUER, aud: AUDIENCE, ...extra };
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function devices(auth: AuthServer): Promise<unknown> {
  return (await auth.admin('GET', `/databases/${DB}/devices`)).body;
}

describe('a remote JWKS with rotation', () => {
  let idp: JwksServer;
  let auth: AuthServer;
  let k1: SigningKey;
  let k2: SigningKey;
  let k3: SigningKey;
  let provider: ProviderServer | undefined;

  beforeAll(async () => {
    [k1, k2, k3] = await Promise.all([
      signingKey('RS256', 'k1'),
      signingKey('RS256', 'k2'),
      signingKey('ES256', 'k3'),
    ]);
    provider = await startWithProvider(
      [k1],
      { jwt: { jwksCooldownSeconds: 0, jwksTimeoutMs: 2_000, issuer: ISSUER, audience: AUDIENCE } },
      [DB],
    );
    ({ idp, auth } = provider);
  });

  afterAll(() => provider?.close());

  it('fetches once, picks up a new kid, keeps the old key until the set drops it', async () => {
    const url = auth.server.url;
    expect(outcome(await helloWith(url, DB, await signToken(k1, claims('alice'))))).toBe('welcome');
    expect(outcome(await helloWith(url, DB, await signToken(k1, claims('bob'))))).toBe('welcome');
    expect(idp.fetches).toBe(1); // cached

    // The provider rotates: k2 is published beside k1; a k2 token makes the server refetch.
    idp.keys = [k1.publicJwk, k2.publicJwk];
    expect(outcome(await helloWith(url, DB, await signToken(k2, claims('alice'))))).toBe('welcome');
    expect(idp.fetches).toBe(2);
    expect(outcome(await helloWith(url, DB, await signToken(k1, claims('alice'))))).toBe('welcome');
    expect(idp.fetches).toBe(2);

    // k1 is retired at the provider: the cached set still holds it until the next fetch...
    idp.keys = [k2.publicJwk, k3.publicJwk];
    expect(outcome(await helloWith(url, DB, await signToken(k1, claims('alice'))))).toBe('welcome');
    // ...which an EC key's first token (k3) causes; from then on k1 is refused.
    expect(outcome(await helloWith(url, DB, await signToken(k3, claims('alice'))))).toBe('welcome');
    expect(idp.fetches).toBe(3);
    const retired = await helloWith(url, DB, await signToken(k1, claims('alice')));
    expect(outcome(retired)).toBe('401 unauthorized');
    expect(retired.type === 'error' && retired.message).toBe('no trusted key matches the token');
  });

  it('refuses what an attacker would try, and records nothing for it', async () => {
    const url = auth.server.url;
    idp.keys = [k2.publicJwk];
    const before = await devices(auth);
    const refusals: [string, string][] = [];
    const attempt = async (name: string, token: string) => {
      const answer = await helloWith(url, DB, token);
      refusals.push([name, answer.type === 'error' ? `${answer.status} ${answer.message}` : 'ok']);
    };

    // Same kid, signed by the attacker's own key.
    const forger = await signingKey('RS256', 'k2');
    await attempt('forged', await signToken(forger, claims('alice')));
    // Algorithm confusion: HS256 with the provider's public key as the shared secret.
    const publicPem = await exportSPKI(
      (await generateKeyPair('RS256', { extractable: true })).publicKey,
    );
    await attempt(
      'hs256-with-public-key',
      await new SignJWT(claims('alice', { exp: Math.floor(Date.now() / 1000) + 60 }))
        .setProtectedHeader({ alg: 'HS256', kid: 'k2' })
        .sign(new TextEncoder().encode(publicPem)),
    );
    // alg none: no signature at all.
    await attempt(
      'none',
      `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims('alice', { exp: 4e9 }))}.`,
    );
    const nowS = Math.floor(Date.now() / 1000);
    await attempt('expired', await signToken(k2, claims('alice', { exp: nowS - 3600 })));
    await attempt('wrong-issuer', await signToken(k2, claims('alice', { iss: 'https://evil/' })));
    await attempt('wrong-audience', await signToken(k2, claims('alice', { aud: 'other-api' })));
    await attempt('unknown-kid', await signToken(k2, claims('alice'), { kid: 'made-up' }));
    await attempt('garbage', 'not.a.jwt');

    expect(refusals).toEqual([
      ['forged', '401 the token signature is invalid'],
      ['hs256-with-public-key', '401 the token signing algorithm is not accepted'],
      ['none', '401 the token signing algorithm is not accepted'],
      ['expired', '401 the token has expired'],
      ['wrong-issuer', '401 the token was issued by an untrusted issuer'],
      ['wrong-audience', '401 the token was issued for another audience'],
      ['unknown-kid', '401 no trusted key matches the token'],
      ['garbage', '401 the token is not a well-formed signed JWT'],
    ]);
    expect(await devices(auth)).toEqual(before);
  });
});

describe('the refetch cooldown', () => {
  it('does not let made-up kids make the server fetch again and again', async () => {
    const key = await signingKey('RS256', 'real');
    const { idp, auth, close } = await startWithProvider(
      [key],
      { jwt: { jwksCooldownSeconds: 3600, issuer: ISSUER, audience: AUDIENCE } },
      [DB],
    );
    try {
      const url = auth.server.url;
      expect(outcome(await helloWith(url, DB, await signToken(key, claims('a'))))).toBe('welcome');
      for (let i = 0; i < 5; i++) {
        const token = await signToken(key, claims('a'), { kid: `guess-${i}` });
        expect(outcome(await helloWith(url, DB, token))).toBe('401 unauthorized');
      }
      expect(idp.fetches).toBe(1);
    } finally {
      await close();
    }
  });
});

describe('a provider that is down or misbehaves', () => {
  let idp: JwksServer;
  let auth: AuthServer;
  let key: SigningKey;
  let provider: ProviderServer | undefined;

  beforeAll(async () => {
    key = await signingKey('RS256', 'k1');
    provider = await startWithProvider(
      [key],
      {
        jwt: {
          jwksTimeoutMs: 300,
          jwksCooldownSeconds: 0,
          jwksCacheMaxAgeSeconds: 0,
          issuer: ISSUER,
          audience: AUDIENCE,
        },
      },
      [DB],
    );
    ({ idp, auth } = provider);
  });

  afterAll(() => provider?.close());

  it('answers 503 with the reason for each failure before any key is known', async () => {
    const url = auth.server.url;
    const reasons: [string, string][] = [];
    for (const mode of [
      'garbage-json',
      'not-json',
      'server-error',
      'redirect',
      'silent',
      'huge',
    ] as const) {
      idp.mode = mode;
      const answer = await helloWith(url, DB, await signToken(key, claims('alice')));
      reasons.push([
        mode,
        answer.type === 'error' ? `${answer.status} ${answer.code}: ${answer.message}` : 'ok',
      ]);
    }
    const reason = (why: string) =>
      `503 key-source-unavailable: the identity provider's key set (JWKS) ${why}; try again later`;
    expect(reasons).toEqual([
      ['garbage-json', reason('answered something that is not a JSON Web Key Set')],
      ['not-json', reason('answered with an error or a body that is not JSON')],
      ['server-error', reason('answered with an error or a body that is not JSON')],
      ['redirect', reason('answered with an error or a body that is not JSON')],
      ['silent', reason('timed out')],
      ['huge', reason('answered a key set larger than allowed')],
    ]);
    // The server is unharmed, and recovers as soon as the provider does.
    expect((await fetch(`${url}/v1/health`)).status).toBe(200);
    idp.mode = 'ok';
    expect(outcome(await helloWith(url, DB, await signToken(key, claims('alice'))))).toBe(
      'welcome',
    );
  });

  it('keeps verifying with the last good keys while the provider is down', async () => {
    const url = auth.server.url;
    idp.mode = 'ok';
    expect(outcome(await helloWith(url, DB, await signToken(key, claims('bob'))))).toBe('welcome');
    idp.mode = 'server-error';
    const fetched = idp.fetches;
    expect(outcome(await helloWith(url, DB, await signToken(key, claims('bob'))))).toBe('welcome');
    expect(idp.fetches).toBeGreaterThan(fetched); // it did try the provider first
    idp.mode = 'ok';
  });

  it('answers 503 when the URL cannot be reached at all', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const down = await startAuthServer({
      jwt: { jwksUrl: `http://127.0.0.1:${port}/jwks.json`, issuer: ISSUER, audience: AUDIENCE },
    });
    try {
      await createTodoDatabase(down, DB);
      const answer = await helloWith(down.server.url, DB, await signToken(key, claims('alice')));
      expect(answer.type === 'error' && [answer.status, answer.code, answer.message]).toEqual([
        503,
        'key-source-unavailable',
        "the identity provider's key set (JWKS) could not be reached; try again later",
      ]);
    } finally {
      await down.dispose();
    }
  });
});
