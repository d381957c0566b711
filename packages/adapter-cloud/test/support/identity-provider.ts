import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReplica } from '@offsync/adapter-node';
import type { ClientMessage, ServerMessage } from '@offsync/core';
import { decodeServerMessage, encodeMessage } from '@offsync/core/codec';
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { ApiKeyStore, type RunningServer, startServer } from '../../src/index.js';
import { helloMessage } from './hello-message.js';

/** A signing key of a simulated identity provider, with its public JWK. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** Generates a key pair the way a provider would publish it: `kid`, `alg`, `use: sig`. */
export async function signingKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

/** Signs `payload` with `key`; `exp` defaults to an hour from now, `iat` to now. */
export function signToken(
  key: SigningKey,
  payload: JWTPayload,
  header: { readonly kid?: string | undefined } = {},
): Promise<string> {
  const nowS = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: nowS, exp: nowS + 3600, ...payload })
    .setProtectedHeader({ alg: key.alg, kid: header.kid ?? key.kid, typ: 'JWT' })
    .sign(key.privateKey);
}

/** How the JWKS endpoint answers. */
export type JwksMode =
  | 'ok'
  | 'garbage-json'
  | 'not-json'
  | 'server-error'
  | 'redirect'
  | 'silent'
  | 'huge';

/**
 * A provider's `jwks_uri` on 127.0.0.1: serves the current key set (rotatable), counts fetches,
 * and can misbehave on demand (garbage, errors, a redirect, silence, a huge body).
 */
export class JwksServer {
  keys: JWK[] = [];
  mode: JwksMode = 'ok';
  fetches = 0;
  readonly #server: Server;
  readonly #hanging = new Set<ServerResponse>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<JwksServer> {
    let self: JwksServer | undefined;
    const server = createServer((_request, response) => self!.#answer(response));
    self = new JwksServer(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  #answer(response: ServerResponse): void {
    this.fetches++;
    switch (this.mode) {
      case 'ok':
        json(response, { keys: this.keys } satisfies JSONWebKeySet);
        return;
      case 'garbage-json':
        json(response, { keys: 'all of them', kty: 42 });
        return;
      case 'not-json':
        response.writeHead(200, { 'content-type': 'application/json' }).end('<html>oops</html>');
        return;
      case 'server-error':
        response.writeHead(500).end('{"error":"down"}');
        return;
      case 'redirect':
        response.writeHead(302, { location: 'http://127.0.0.1:1/evil.json' }).end();
        return;
      case 'silent':
        // Headers never come: the fetch must give up on its own.
        this.#hanging.add(response);
        return;
      case 'huge': {
        // A valid-looking set padded past any sane size, streamed without a length.
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"keys":[');
        const filler = `${JSON.stringify({ kty: 'oct', k: 'x'.repeat(60_000) })},`;
        for (let i = 0; i < 40; i++) response.write(filler);
        response.end(`${JSON.stringify(this.keys[0] ?? {})}]}`);
        return;
      }
    }
  }

  async close(): Promise<void> {
    for (const response of this.#hanging) response.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function json(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** A sync server over a temporary folder with a given `server.json`, and an admin key. */
export interface AuthServer {
  readonly dataDir: string;
  readonly adminKey: string;
  readonly server: RunningServer;
  /** Calls the admin API; returns the status and parsed body. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** Stops and starts the server on the same folder. */
  restart(): Promise<AuthServer>;
  dispose(): Promise<void>;
}

/** Starts a server whose `server.json` is `config`. */
export async function startAuthServer(
  config: unknown,
  existingDir?: string,
  adminKey?: string,
): Promise<AuthServer> {
  const dataDir = existingDir ?? mkdtempSync(join(tmpdir(), 'offsync-auth-e2e-'));
  try {
    return await startIn(config, dataDir, adminKey);
  } catch (error) {
    if (existingDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function startIn(config: unknown, dataDir: string, adminKey?: string): Promise<AuthServer> {
  writeFileSync(join(dataDir, 'server.json'), JSON.stringify(config));
  let key = adminKey;
  if (key === undefined) {
    const keys = await ApiKeyStore.open(join(dataDir, 'keys.json'));
    key = (await keys.create('admin', 'ops')).key;
  }
  const server = await startServer({ dataDir, port: 0, host: '127.0.0.1', log: () => undefined });
  const adminKeyValue = key;
  const self: AuthServer = {
    dataDir,
    adminKey: adminKeyValue,
    server,
    async admin(method, path, body) {
      const response = await fetch(`${server.url}/v1/admin${path}`, {
        method,
        headers: { authorization: `Bearer ${adminKeyValue}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as unknown };
    },
    async restart() {
      await server.close();
      return startAuthServer(config, dataDir, adminKeyValue);
    },
    async dispose() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}

/** The schema the auth tests sync: todos per tenant. */
export const TODO_SCHEMA =
  "CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, tenant TEXT NOT NULL DEFAULT '', title TEXT)";

/** Creates `name` with {@link TODO_SCHEMA}, sync on, and `select` open to `policy`. */
export async function createTodoDatabase(
  auth: AuthServer,
  name: string,
  policy = 'true',
): Promise<void> {
  const steps: [string, string, unknown][] = [
    ['POST', '/databases', { name, schema: TODO_SCHEMA }],
    ['PUT', `/databases/${name}/tables/todos/sync`, { enabled: true }],
    ['PUT', `/databases/${name}/policies/todos/select`, { expression: policy }],
    ['PUT', `/databases/${name}/policies/todos/insert`, { expression: policy }],
  ];
  for (const [method, path, body] of steps) {
    const { status, body: answer } = await auth.admin(method, path, body);
    if (status !== 200) throw new Error(`${method} ${path}: ${status} ${JSON.stringify(answer)}`);
  }
}

/** Sends one framed message to the HTTP sync route and decodes the answer. */
export async function postFrame(
  url: string,
  database: string,
  message: ClientMessage,
  headers: Record<string, string> = {},
): Promise<{ status: number; message: ServerMessage }> {
  const response = await fetch(`${url}/v1/databases/${encodeURIComponent(database)}/sync`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', ...headers },
    body: Buffer.from(encodeMessage(message)),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { status: response.status, message: decodeServerMessage(bytes) };
}

/** A `hello` over HTTP with `token`, from a fresh replica with {@link TODO_SCHEMA}. */
export async function helloWith(
  url: string,
  database: string,
  token: string,
): Promise<ServerMessage> {
  const replica = openReplica(':memory:');
  try {
    replica.db.exec(TODO_SCHEMA);
    replica.enableSync('todos');
    return (await postFrame(url, database, helloMessage(replica, token))).message;
  } finally {
    replica.close();
  }
}

/** The `error` code and status of a refused answer, or `'welcome'`. */
export function outcome(message: ServerMessage): string {
  return message.type === 'error' ? `${message.status} ${message.code}` : message.type;
}

/** A simulated identity provider and a server that trusts its key set. */
export interface ProviderServer {
  readonly idp: JwksServer;
  readonly auth: AuthServer;
  /** Stops the server (removing its folder), then the provider. */
  close(): Promise<void>;
}

/**
 * Starts a {@link JwksServer} publishing `keys`, then a server whose `server.json` is `config`
 * with `jwt.jwksUrl` pointing at that provider (replacing any URL `config` names, as a recipe's
 * real provider URL), and creates each of `databases` with {@link createTodoDatabase}.
 *
 * @example
 * ```ts
 * const { auth, idp, close } = await startWithProvider([key], { jwt: { issuer, audience } }, ['todos']);
 * ```
 */
export async function startWithProvider(
  keys: readonly SigningKey[],
  config: { readonly jwt: Readonly<Record<string, unknown>> } & Readonly<Record<string, unknown>>,
  databases: readonly string[],
  policy?: string,
): Promise<ProviderServer> {
  const idp = await JwksServer.start();
  idp.keys = keys.map((key) => key.publicJwk);
  let auth: AuthServer | undefined;
  try {
    auth = await startAuthServer({ ...config, jwt: { ...config.jwt, jwksUrl: idp.url } });
    for (const name of databases) await createTodoDatabase(auth, name, policy);
  } catch (error) {
    // Nothing was handed back for the caller to close.
    await auth?.dispose();
    await idp.close();
    throw error;
  }
  const started = auth;
  return {
    idp,
    auth: started,
    async close() {
      await started.dispose();
      await idp.close();
    },
  };
}
