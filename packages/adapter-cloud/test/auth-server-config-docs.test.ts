import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DATABASE_JWT_CONFIG_KEYS,
  JWT_CONFIG_KEYS,
  loadServerConfig,
  SERVER_CONFIG_KEYS,
  startServer,
  tokenVerifierFromConfig,
} from '../src/index.js';
import { LOG_LEVELS } from '../src/server/observability/logger.js';

// docs/server-config.md against the code: every example is loaded through the real loader,
// turned into a token verifier and started as a real server; every key the loader accepts is in
// the key table, and the table names no key the loader would refuse.

const DOC = readFileSync(new URL('../../../docs/server-config.md', import.meta.url), 'utf8');

function examples(): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of DOC.matchAll(/<!-- example: ([\w-]+) -->\s*```json\n([\s\S]*?)```/g))
    found.set(match[1]!, match[2]!);
  return found;
}

/** The keys in the first column of the key table. */
function documentedKeys(): string[] {
  return [...DOC.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]!);
}

/** Every key the loader accepts, spelled as the table spells them. */
function acceptedKeys(): string[] {
  const nested: Record<string, readonly string[]> = {
    jwt: Object.keys(JWT_CONFIG_KEYS),
    // The observability sections accept exactly these (see observability/config.ts).
    log: ['level'],
    metrics: ['public'],
  };
  const keys: string[] = [];
  for (const top of SERVER_CONFIG_KEYS) {
    keys.push(top);
    for (const key of nested[top] ?? []) {
      keys.push(`${top}.${key}`);
      if (top === 'jwt' && key === 'databases')
        for (const each of Object.keys(DATABASE_JWT_CONFIG_KEYS))
          keys.push(`jwt.databases.<name>.${each}`);
    }
  }
  return keys;
}

describe('docs/server-config.md', () => {
  let dir: string;
  let pem: string;
  let jwks: string;
  let sign: (alg: 'RS256' | 'ES256') => Promise<string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offsync-config-docs-'));
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const ec = await generateKeyPair('ES256', { extractable: true });
    pem = join(dir, 'jwt-public.pem');
    jwks = join(dir, 'jwks.json');
    writeFileSync(pem, await exportSPKI(rsa.publicKey));
    writeFileSync(
      jwks,
      JSON.stringify({ keys: [{ ...(await exportJWK(ec.publicKey)), kid: 'ec1', alg: 'ES256' }] }),
    );
    sign = (alg) =>
      new SignJWT({ sub: 'u1', iss: 'https://login.example.com/', aud: 'todo-sync' })
        .setProtectedHeader(alg === 'RS256' ? { alg } : { alg, kid: 'ec1' })
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(alg === 'RS256' ? rsa.privateKey : ec.privateKey);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('has an example for each auth mode', () => {
    expect([...examples().keys()]).toEqual([
      'generated',
      'hs256',
      'rs256',
      'jwks-file',
      'jwks-url',
      'per-database',
      'complete',
    ]);
  });

  it('documents every key the loader accepts, and no other', () => {
    expect(documentedKeys()).toEqual(acceptedKeys());
  });

  it('lists the log levels the loader accepts', () => {
    const row = DOC.split('\n').find((line) => line.startsWith('| `log.level` |'))!;
    expect([...row.split('|')[2]!.matchAll(/"(\w+)"/g)].map((match) => match[1])).toEqual([
      ...LOG_LEVELS,
    ]);
  });

  for (const [name, text] of examples()) {
    it(`loads and serves the "${name}" example`, async () => {
      const dataDir = mkdtempSync(join(dir, `${name}-`));
      const json = text
        .replaceAll('/etc/offsync/jwt-public.pem', pem)
        .replaceAll('/etc/offsync/jwks.json', jwks);
      writeFileSync(join(dataDir, 'server.json'), json);
      const config = loadServerConfig(dataDir);
      expect(config).toEqual(JSON.parse(json));
      const verifier = await tokenVerifierFromConfig(config.jwt, { now: Date.now });
      expect(verifier).toBeDefined();
      if (name === 'rs256') expect((await verifier!.verify(await sign('RS256'))).sub).toBe('u1');
      if (name === 'jwks-file')
        expect((await verifier!.verify(await sign('ES256'))).sub).toBe('u1');
      const server = await startServer({ dataDir, port: 0, log: () => undefined });
      try {
        expect((await fetch(`${server.url}/v1/health`)).status).toBe(200);
      } finally {
        await server.close();
      }
    });
  }

  it('refuses a misspelt key, naming it', () => {
    const dataDir = mkdtempSync(join(dir, 'typo-'));
    for (const [config, reason] of [
      [{ jwt: { audiance: 'x' } }, 'unknown setting "jwt.audiance"'],
      [{ jwt: {}, allowedOrigin: [] }, 'unknown setting "allowedOrigin"'],
      [
        { jwt: { jwksTimeoutMs: 0 } },
        'jwt.jwksTimeoutMs must be a whole number of ms from 1 to 60000',
      ],
      [{ jwt: { issuer: [] } }, 'jwt.issuer must be a string or a non-empty array of strings'],
      [{ jwt: { claims: { sub: '/email' } } }, 'jwt.claims: the "sub" claim cannot be mapped'],
      [
        { jwt: { claims: { tenant: 'app_metadata.tenant' } } },
        'jwt.claims.tenant must be a JSON Pointer starting with "/" (like "/app_metadata/tenant_id")',
      ],
    ] as const) {
      writeFileSync(join(dataDir, 'server.json'), JSON.stringify(config));
      expect(() => loadServerConfig(dataDir)).toThrow(expect.objectContaining({ reason }));
    }
  });
});
