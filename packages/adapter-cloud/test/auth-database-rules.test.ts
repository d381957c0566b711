import { openReplica } from '@offsync/adapter-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helloMessage } from './support/hello-message.js';
import {
  type AuthServer,
  helloWith,
  outcome,
  type ProviderServer,
  type SigningKey,
  signingKey,
  signToken,
  startAuthServer,
  startWithProvider,
  TODO_SCHEMA,
} from './support/identity-provider.js';
import { openRawSocket } from './support/raw-socket.js';

// Issuer and audience per database (jwt.databases in server.json): each database's own values
// replace the server-wide ones there, a setting left out keeps the server-wide value, and a
// token for one database is refused on another, over HTTP and WebSocket alike.

const DEFAULT_ISSUER = 'https://login.example.com/';

describe('per-database issuer and audience', () => {
  let auth: AuthServer;
  let key: SigningKey;
  let provider: ProviderServer | undefined;

  beforeAll(async () => {
    key = await signingKey('RS256', 'k1');
    provider = await startWithProvider(
      [key],
      {
        jwt: {
          issuer: DEFAULT_ISSUER,
          audience: 'todo-api',
          databases: {
            acme: { issuer: 'https://login.example.com/acme/', audience: 'acme-todos' },
            globex: { audience: ['globex-todos', 'globex-mobile'] },
          },
        },
      },
      ['plain', 'acme', 'globex'],
    );
    ({ auth } = provider);
  });

  afterAll(() => provider?.close());

  async function verdicts(iss: string, aud: string | string[]): Promise<Record<string, string>> {
    const token = await signToken(key, { sub: 'u1', iss, aud });
    const result: Record<string, string> = {};
    for (const name of ['plain', 'acme', 'globex'])
      result[name] = outcome(await helloWith(auth.server.url, name, token));
    return result;
  }

  it('holds each database to its own rules', async () => {
    expect(await verdicts(DEFAULT_ISSUER, 'todo-api')).toEqual({
      plain: 'welcome',
      acme: '401 unauthorized',
      globex: '401 unauthorized',
    });
    expect(await verdicts('https://login.example.com/acme/', 'acme-todos')).toEqual({
      plain: '401 unauthorized',
      acme: 'welcome',
      globex: '401 unauthorized',
    });
    // globex keeps the server-wide issuer and accepts either of its audiences.
    expect(await verdicts(DEFAULT_ISSUER, 'globex-mobile')).toEqual({
      plain: '401 unauthorized',
      acme: '401 unauthorized',
      globex: 'welcome',
    });
    // A token naming several audiences is good wherever one of them is accepted.
    expect(await verdicts(DEFAULT_ISSUER, ['todo-api', 'globex-todos'])).toEqual({
      plain: 'welcome',
      acme: '401 unauthorized',
      globex: 'welcome',
    });
  });

  it('says which check failed', async () => {
    const acmeToken = await signToken(key, {
      sub: 'u1',
      iss: 'https://login.example.com/acme/',
      aud: 'acme-todos',
    });
    expect(await helloWith(auth.server.url, 'globex', acmeToken)).toMatchObject({
      message: 'the token was issued by an untrusted issuer',
    });
    const globexToken = await signToken(key, {
      sub: 'u1',
      iss: DEFAULT_ISSUER,
      aud: 'globex-todos',
    });
    expect(await helloWith(auth.server.url, 'plain', globexToken)).toMatchObject({
      message: 'the token was issued for another audience',
    });
  });

  it('applies the same rules to a WebSocket hello', async () => {
    const replica = openReplica(':memory:');
    replica.db.exec(TODO_SCHEMA);
    replica.enableSync('todos');
    const acmeToken = await signToken(key, {
      sub: 'u1',
      iss: 'https://login.example.com/acme/',
      aud: 'acme-todos',
    });
    const onGlobex = await openRawSocket(auth.server.url, 'globex');
    const refused = await onGlobex.request(helloMessage(replica, acmeToken));
    const onAcme = await openRawSocket(auth.server.url, 'acme');
    const welcomed = await onAcme.request(helloMessage(replica, acmeToken));
    replica.close();
    onGlobex.socket.close();
    onAcme.socket.close();
    expect([outcome(refused), outcome(welcomed)]).toEqual(['401 unauthorized', 'welcome']);
  });
});

describe('jwt.databases in server.json', () => {
  it('refuses unknown per-database keys at start', async () => {
    await expect(
      startAuthServer({
        jwt: { hs256Secret: 'x'.repeat(43), databases: { acme: { issuer: 'a', jwksUrl: 'b' } } },
      }),
    ).rejects.toMatchObject({
      type: 'ServerConfigError',
      reason: 'unknown setting "jwt.databases.acme.jwksUrl"',
    });
  });
});
