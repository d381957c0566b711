import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openReplica } from '@offsync/adapter-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueDevToken, startServer } from '../src/index.js';
import { helloMessage } from './support/hello-message.js';
import {
  type AuthServer,
  createTodoDatabase,
  helloWith,
  outcome,
  startAuthServer,
  TODO_SCHEMA,
} from './support/identity-provider.js';
import { openRawSocket, type RawSocket } from './support/raw-socket.js';

// "Sign this user out everywhere": POST /v1/admin/databases/:db/users/:user/revoke closes the
// user's open WebSocket sessions on that database and refuses their older tokens from then on,
// across restarts, while other users, other databases and fresh sign-ins are untouched.

const SECRET = randomBytes(48).toString('base64url');

function token(sub: string, issuedAtMs = Date.now()): Promise<string> {
  return issueDevToken({ secret: SECRET, sub, ttlSeconds: 3600, env: { now: () => issuedAtMs } });
}

async function session(auth: AuthServer, database: string, sub: string): Promise<RawSocket> {
  const replica = openReplica(':memory:');
  replica.db.exec(TODO_SCHEMA);
  replica.enableSync('todos');
  const socket = await openRawSocket(auth.server.url, database);
  const welcome = await socket.request(helloMessage(replica, await token(sub)));
  replica.close();
  expect(welcome.type).toBe('welcome');
  return socket;
}

describe('revoking a user', () => {
  let auth: AuthServer;

  beforeAll(async () => {
    auth = await startAuthServer({ jwt: { hs256Secret: SECRET } });
    await createTodoDatabase(auth, 'one');
    await createTodoDatabase(auth, 'two');
  });

  afterAll(async () => {
    await auth?.dispose();
  });

  it('closes that user’s sessions on that database, and only those', async () => {
    const alice1 = await session(auth, 'one', 'alice');
    const alice2 = await session(auth, 'one', 'alice');
    const bob = await session(auth, 'one', 'bob');
    const aliceElsewhere = await session(auth, 'two', 'alice');
    const before = Date.now();
    const { status, body } = await auth.admin('POST', '/databases/one/users/alice/revoke');
    expect(status).toBe(200);
    const answer = body as { user: string; closedSessions: number; revokedBefore: number };
    expect({ ...answer, revokedBefore: typeof answer.revokedBefore }).toEqual({
      user: 'alice',
      closedSessions: 2,
      revokedBefore: 'number',
    });
    expect(answer.revokedBefore).toBeGreaterThanOrEqual(before);
    expect(await alice1.closed).toEqual({ code: 4403, reason: 'user revoked' });
    expect(await alice2.closed).toEqual({ code: 4403, reason: 'user revoked' });
    expect([bob.socket.readyState, aliceElsewhere.socket.readyState]).toEqual([1, 1]);
    bob.socket.close();
    aliceElsewhere.socket.close();
  });

  it('refuses tokens issued before the revocation, accepts later ones, across a restart', async () => {
    const old = await token('carol');
    expect(outcome(await helloWith(auth.server.url, 'one', old))).toBe('welcome');
    const { body } = await auth.admin('POST', '/databases/one/users/carol/revoke');
    const { revokedBefore } = body as { revokedBefore: number };

    const refused = await helloWith(auth.server.url, 'one', old);
    expect(refused.type === 'error' && [refused.status, refused.message]).toEqual([
      401,
      "this user's sessions were revoked; sign in again to get a new token",
    ]);
    // Same second as the revocation: it may have been issued before it, so it is refused too.
    const sameSecond = await token('carol', Math.floor(revokedBefore / 1000) * 1000 + 999);
    expect(outcome(await helloWith(auth.server.url, 'one', sameSecond))).toBe('401 unauthorized');
    const fresh = await token('carol', (Math.floor(revokedBefore / 1000) + 1) * 1000);
    expect(outcome(await helloWith(auth.server.url, 'one', fresh))).toBe('welcome');
    // Other databases never heard of it.
    expect(outcome(await helloWith(auth.server.url, 'two', old))).toBe('welcome');

    auth = await auth.restart();
    expect(outcome(await helloWith(auth.server.url, 'one', old))).toBe('401 unauthorized');
    expect(outcome(await helloWith(auth.server.url, 'one', fresh))).toBe('welcome');
  });

  it('refuses a revoked user’s token without iat (nothing proves it newer)', async () => {
    await auth.admin('POST', '/databases/one/users/dave/revoke');
    const { SignJWT } = await import('jose');
    const noIat = await new SignJWT({ sub: 'dave', exp: Math.floor(Date.now() / 1000) + 3600 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(SECRET));
    expect(outcome(await helloWith(auth.server.url, 'one', noIat))).toBe('401 unauthorized');
  });

  it('answers bad revocation requests with a typed error and records nothing', async () => {
    // Issued before any of the attempts: a revocation among them would refuse it.
    const early = await token('erin', Date.now() - 60_000);
    const call = async (method: string, path: string, key: string | null = auth.adminKey) => {
      const response = await fetch(`${auth.server.url}/v1/admin${path}`, {
        method,
        headers: key === null ? {} : { authorization: `Bearer ${key}` },
      });
      const body = (await response.json()) as { error?: { code: string } };
      return `${response.status} ${body.error?.code}`;
    };
    expect(await call('POST', '/databases/nope/users/erin/revoke')).toBe('404 not-found');
    expect(await call('GET', '/databases/one/users/erin/revoke')).toBe('405 method-not-allowed');
    expect(await call('POST', '/databases/one/users/erin/revoke', null)).toBe('401 missing');
    expect(await call('POST', '/databases/one/users/erin/revoke', await token('erin'))).toBe(
      '403 forbidden',
    );
    expect(outcome(await helloWith(auth.server.url, 'one', early))).toBe('welcome');
  });

  it('will not start over a corrupt revocation file (it would forget revoked users)', async () => {
    await auth.server.close();
    writeFileSync(join(auth.dataDir, 'revocations.json'), '{"version": 1, "databases": 7}');
    await expect(
      startServer({ dataDir: auth.dataDir, port: 0, log: () => undefined }),
    ).rejects.toMatchObject({ type: 'UserRevocationsFileError' });
    writeFileSync(join(auth.dataDir, 'revocations.json'), '{"version": 1, "databases": {}}');
    auth = await auth.restart();
  });
});
