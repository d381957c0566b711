import { readFileSync } from 'node:fs';
import { openReplica } from '@offsync/adapter-node';
import { SyncClient } from '@offsync/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpTransport } from '../src/client/index.js';
import {
  type AuthServer,
  helloWith,
  type ProviderServer,
  type SigningKey,
  signingKey,
  signToken,
  startWithProvider,
  TODO_SCHEMA,
} from './support/identity-provider.js';

// The provider recipes of docs/auth.md, each loaded from the doc itself (so the doc cannot
// drift), its key set served on 127.0.0.1 in place of the provider's URL, and tokens shaped
// like that provider's, signed with locally generated keys. A real client syncs with each token
// and the rows it receives, compared by their SQL text, show the claim mapping at work.

const DOC = readFileSync(new URL('../../../docs/auth.md', import.meta.url), 'utf8');

function recipe(name: string): { jwt: Record<string, unknown> } & Record<string, unknown> {
  const match = new RegExp(`<!-- recipe: ${name} -->\\s*\`\`\`json\\n([\\s\\S]*?)\`\`\``).exec(DOC);
  if (!match) throw new Error(`docs/auth.md has no recipe ${name}`);
  return JSON.parse(match[1]!) as { jwt: Record<string, unknown> };
}

const ROWS = `INSERT INTO todos(id, tenant, title) VALUES
  ('a1', 'acme', 'ship it'), ('a2', 'acme', NULL), ('g1', 'globex', 'plan')`;

/** Syncs a fresh replica with `token` and returns the rows it got, each as SQL literals. */
async function visibleRows(auth: AuthServer, token: string): Promise<string[]> {
  const replica = openReplica(':memory:');
  replica.db.exec(TODO_SCHEMA);
  replica.enableSync('todos');
  const transport = new HttpTransport({
    url: auth.server.url,
    database: 'todos',
    timeoutMs: 5_000,
  });
  const client = new SyncClient(replica, { transport, token, pollMs: 0 });
  try {
    await client.syncNow();
    return replica.db
      .prepare(
        "SELECT quote(id) || ',' || quote(tenant) || ',' || quote(title) FROM todos ORDER BY id",
      )
      .pluck()
      .all() as string[];
  } finally {
    await client.disconnect();
    replica.close();
  }
}

const ACME = ["'a1','acme','ship it'", "'a2','acme',NULL"];
const GLOBEX = ["'g1','globex','plan'"];

/** The recipe `name` served by a provider publishing `key`, its `todos` database holding ROWS. */
async function providerServer(
  name: string,
  key: SigningKey,
  policy: string,
): Promise<{ provider: ProviderServer; auth: AuthServer; config: ReturnType<typeof recipe> }> {
  const config = recipe(name);
  const provider = await startWithProvider([key], config, ['todos'], policy);
  const { auth } = provider;
  const { status } = await auth.admin('POST', '/databases/todos/sql', { sql: ROWS });
  expect(status).toBe(200);
  return { provider, auth, config };
}

describe('Auth0-style tokens', () => {
  let auth: AuthServer;
  let provider: ProviderServer | undefined;
  let key: SigningKey;
  let issuer: string;
  const API = 'https://api.todo.example.com';

  beforeAll(async () => {
    key = await signingKey('RS256', 'auth0-2024');
    let config: ReturnType<typeof recipe>;
    ({ provider, auth, config } = await providerServer('auth0', key, 'tenant = auth.tenant'));
    issuer = config.jwt.issuer as string;
  });
  afterAll(() => provider?.close());

  const auth0Token = (tenant: Record<string, unknown>) =>
    signToken(key, {
      iss: issuer,
      sub: 'auth0|64f1c2d3e4',
      aud: [API, `${issuer}userinfo`],
      azp: 'spa-client-id',
      scope: 'openid profile email',
      org_id: 'org_9a8b7c',
      ...tenant,
    });

  it('reads the namespaced tenant claim through the mapping', async () => {
    expect(
      await visibleRows(auth, await auth0Token({ 'https://todo.example.com/tenant': 'acme' })),
    ).toEqual(ACME);
    expect(
      await visibleRows(auth, await auth0Token({ 'https://todo.example.com/tenant': 'globex' })),
    ).toEqual(GLOBEX);
  });

  it('lets no top-level claim stand in for the mapped one', async () => {
    expect(
      await visibleRows(
        auth,
        await auth0Token({ tenant: 'globex', 'https://todo.example.com/tenant': 'acme' }),
      ),
    ).toEqual(ACME);
    expect(await visibleRows(auth, await auth0Token({ tenant: 'globex' }))).toEqual([]);
  });

  it('refuses a token for another API or from another tenant', async () => {
    const other = await signToken(key, { iss: issuer, sub: 'auth0|x', aud: 'https://other.api' });
    expect(await helloWith(auth.server.url, 'todos', other)).toMatchObject({
      status: 401,
      message: 'the token was issued for another audience',
    });
    const foreign = await signToken(key, { iss: 'https://evil.auth0.com/', sub: 'x', aud: API });
    expect(await helloWith(auth.server.url, 'todos', foreign)).toMatchObject({
      status: 401,
      message: 'the token was issued by an untrusted issuer',
    });
  });
});

describe('Clerk-style tokens', () => {
  let auth: AuthServer;
  let provider: ProviderServer | undefined;
  let key: SigningKey;
  let config: ReturnType<typeof recipe>;

  beforeAll(async () => {
    key = await signingKey('RS256', 'ins_2abc');
    ({ provider, auth, config } = await providerServer('clerk', key, 'tenant = auth.org'));
  });
  afterAll(() => provider?.close());

  it('maps the version 2 organization claim, with no audience', async () => {
    const token = await signToken(key, {
      iss: config.jwt.issuer as string,
      sub: 'user_2abcdef',
      sid: 'sess_2xyz',
      azp: 'https://todo.example.com',
      v: 2,
      o: { id: 'globex', rol: 'admin', slg: 'globex-inc' },
    });
    expect(await visibleRows(auth, token)).toEqual(GLOBEX);
  });

  it('gives a user without an active organization nothing', async () => {
    const token = await signToken(key, {
      iss: config.jwt.issuer as string,
      sub: 'user_2abcdef',
      azp: 'https://todo.example.com',
    });
    expect(await visibleRows(auth, token)).toEqual([]);
  });
});

describe('Supabase-style tokens', () => {
  let auth: AuthServer;
  let provider: ProviderServer | undefined;
  let key: SigningKey;
  let issuer: string;

  beforeAll(async () => {
    key = await signingKey('ES256', 'supabase-ec');
    let config: ReturnType<typeof recipe>;
    ({ provider, auth, config } = await providerServer(
      'supabase',
      key,
      "tenant = auth.tenant AND auth.role = 'authenticated'",
    ));
    issuer = config.jwt.issuer as string;
  });
  afterAll(() => provider?.close());

  const supabaseToken = (extra: Record<string, unknown>) =>
    signToken(key, {
      iss: issuer,
      sub: '0b6c2e1a-8f5d-4c3b-9a7e-1d2f3a4b5c6d',
      aud: 'authenticated',
      role: 'authenticated',
      email: 'ada@example.com',
      session_id: '5f1e…',
      is_anonymous: false,
      ...extra,
    });

  it('reads the tenant from app_metadata, never from user_metadata', async () => {
    const token = await supabaseToken({
      app_metadata: { provider: 'email', providers: ['email'], tenant_id: 'acme' },
      user_metadata: { tenant_id: 'globex' },
    });
    expect(await visibleRows(auth, token)).toEqual(ACME);
    const selfAssigned = await supabaseToken({
      app_metadata: { provider: 'email' },
      user_metadata: { tenant_id: 'globex' },
    });
    expect(await visibleRows(auth, selfAssigned)).toEqual([]);
  });

  it('refuses the anon key (no sub) and shows nothing to another role', async () => {
    const anon = await signToken(key, { iss: issuer, role: 'anon', aud: 'authenticated' });
    expect(await helloWith(auth.server.url, 'todos', anon)).toMatchObject({
      status: 401,
      message: 'the token has no "sub" claim',
    });
    const service = await supabaseToken({
      role: 'service_role',
      app_metadata: { tenant_id: 'acme' },
    });
    expect(await visibleRows(auth, service)).toEqual([]);
  });
});
