import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { launchChromium } from '../../../tools/chromium/launch.js';
import {
  type AuthServer,
  createTodoDatabase,
  startAuthServer,
} from './support/identity-provider.js';

// Browser origins: CORS on the HTTP API and the Origin check on WebSocket upgrades, first as raw
// requests (every header visible, an attacker's exact bytes), then in real headless Chromium
// from pages served on two loopback origins, one allowed and one not.

const SECRET = 'k'.repeat(48);

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function call(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers }, (response) => {
      let text = '';
      response.setEncoding('latin1');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

function cors(answer: Answer): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(answer.headers)
      .filter(([name]) => name.startsWith('access-control-'))
      .map(([name, value]) => [name, String(value)]),
  );
}

/** Opens a WebSocket with `origin` (or none) and reports how the handshake went. */
function upgrade(url: string, origin: string | undefined): Promise<string> {
  return new Promise((resolve) => {
    const socket = new WebSocket(
      `${url.replace(/^http/, 'ws')}/v1/databases/todos/ws`,
      origin === undefined ? {} : { origin },
    );
    socket.on('open', () => {
      socket.close();
      resolve('open');
    });
    socket.on('unexpected-response', (_request, response) => {
      resolve(`refused ${response.statusCode}`);
      socket.terminate();
    });
    socket.on('error', () => resolve('error'));
  });
}

const APP = 'https://app.example.com';

describe('allowedOrigins configured', () => {
  let auth: AuthServer;

  beforeAll(async () => {
    auth = await startAuthServer({ jwt: { hs256Secret: SECRET }, allowedOrigins: [APP] });
    await createTodoDatabase(auth, 'todos');
  });
  afterAll(async () => {
    await auth?.dispose();
  });

  it('answers an allowed preflight with exactly what the API needs', async () => {
    const answer = await call(auth.server.url, 'OPTIONS', '/v1/databases/todos/sync', {
      origin: APP,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    });
    expect(answer.status).toBe(204);
    expect(answer.headers.vary).toBe('Origin');
    expect(cors(answer)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, POST, PUT, DELETE',
      'access-control-allow-headers': 'authorization, content-type',
      'access-control-max-age': '600',
      'access-control-expose-headers': 'retry-after',
    });
  });

  it('gives a disallowed origin no CORS header and refuses its requests unprocessed', async () => {
    const preflight = await call(auth.server.url, 'OPTIONS', '/v1/databases/todos/sync', {
      origin: 'https://evil.example',
      'access-control-request-method': 'POST',
    });
    expect([preflight.status, cors(preflight)]).toEqual([403, {}]);
    // A "simple" cross-origin POST a browser sends without a preflight: refused before the
    // admin key is even looked at, so the database is not created.
    const simple = await call(
      auth.server.url,
      'POST',
      '/v1/admin/databases',
      {
        origin: 'https://evil.example',
        'content-type': 'text/plain',
        authorization: `Bearer ${auth.adminKey}`,
      },
      JSON.stringify({ name: 'planted' }),
    );
    expect([simple.status, cors(simple), JSON.parse(simple.body).error.code]).toEqual([
      403,
      {},
      'origin-not-allowed',
    ]);
    const { body } = await auth.admin('GET', '/databases');
    expect((body as { name: string }[]).map((each) => each.name)).toEqual(['todos']);
  });

  it('lets the server’s own origin and non-browser clients through', async () => {
    const host = new URL(auth.server.url).host;
    const own = await call(auth.server.url, 'GET', '/v1/admin/databases', {
      origin: `http://${host}`,
      authorization: `Bearer ${auth.adminKey}`,
    });
    expect([own.status, cors(own)]).toEqual([200, {}]); // same origin: no CORS needed
    const cli = await call(auth.server.url, 'GET', '/v1/admin/databases', {
      authorization: `Bearer ${auth.adminKey}`,
    });
    expect(cli.status).toBe(200);
    const allowed = await call(auth.server.url, 'GET', '/v1/admin/databases', {
      origin: APP,
      authorization: `Bearer ${auth.adminKey}`,
    });
    expect([allowed.status, allowed.headers['access-control-allow-origin']]).toEqual([200, APP]);
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('refuses a WebSocket upgrade from a disallowed origin before upgrading', async () => {
    const url = auth.server.url;
    expect(await upgrade(url, 'https://evil.example')).toBe('refused 403');
    expect(await upgrade(url, 'null')).toBe('refused 403');
    expect(await upgrade(url, `${APP}.evil.example`)).toBe('refused 403');
    expect(await upgrade(url, APP)).toBe('open');
    expect(await upgrade(url, `http://${new URL(url).host}`)).toBe('open');
    expect(await upgrade(url, undefined)).toBe('open');
  });
});

describe('allowedOrigins unconfigured or "*"', () => {
  it('unconfigured: no CORS headers, upgrades from any origin (as before)', async () => {
    const auth = await startAuthServer({ jwt: { hs256Secret: SECRET } });
    try {
      await createTodoDatabase(auth, 'todos');
      const answer = await call(auth.server.url, 'GET', '/v1/health', { origin: APP });
      expect([answer.status, cors(answer), answer.headers.vary]).toEqual([200, {}, undefined]);
      expect(await upgrade(auth.server.url, 'https://anywhere.example')).toBe('open');
    } finally {
      await auth.dispose();
    }
  });

  it('"*": any origin, with a literal * and never credentials', async () => {
    const auth = await startAuthServer({ jwt: { hs256Secret: SECRET }, allowedOrigins: ['*'] });
    try {
      const answer = await call(auth.server.url, 'GET', '/v1/health', { origin: APP });
      expect(cors(answer)).toEqual({
        'access-control-allow-origin': '*',
        'access-control-expose-headers': 'retry-after',
      });
    } finally {
      await auth.dispose();
    }
  });

  it('refuses origins written as browsers never send them', async () => {
    for (const [origins, reason] of [
      [
        ['https://app.example.com/'],
        'allowedOrigins: "https://app.example.com/" is not an origin as browsers send it (did you mean "https://app.example.com"?)',
      ],
      [
        ['HTTPS://APP.example.com'],
        'allowedOrigins: "HTTPS://APP.example.com" is not an origin as browsers send it (did you mean "https://app.example.com"?)',
      ],
      [['*', APP], 'allowedOrigins: "*" allows every origin and must stand alone'],
      ['https://app.example.com', 'allowedOrigins must be an array of origins'],
    ] as const) {
      await expect(
        startAuthServer({ jwt: { hs256Secret: SECRET }, allowedOrigins: origins }),
      ).rejects.toMatchObject({ type: 'ServerConfigError', reason });
    }
  });
});

describe('in real Chromium', () => {
  let browser: Browser;
  let auth: AuthServer;
  let allowedPage: Server;
  let otherPage: Server;
  const pageUrl = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  beforeAll(async () => {
    const blank = () =>
      createServer((_req, res) =>
        res.writeHead(200, { 'content-type': 'text/html' }).end('<p>app</p>'),
      );
    allowedPage = blank();
    otherPage = blank();
    await Promise.all(
      [allowedPage, otherPage].map(
        (server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)),
      ),
    );
    auth = await startAuthServer({
      jwt: { hs256Secret: SECRET },
      allowedOrigins: [pageUrl(allowedPage).slice(0, -1)],
    });
    await createTodoDatabase(auth, 'todos');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await auth?.dispose();
    for (const server of [allowedPage, otherPage]) server?.close();
  });

  async function fromPage(server: Server): Promise<{ fetch: string; socket: string }> {
    const page = await browser.newPage();
    try {
      await page.goto(pageUrl(server));
      return await page.evaluate(
        async ({ api, key }) => {
          // A preflighted request (Authorization header), as the HTTP transport sends.
          const fetched = await fetch(`${api}/v1/admin/databases`, {
            headers: { authorization: `Bearer ${key}` },
          }).then(
            async (response) => `${response.status} ${(await response.json()).length} database(s)`,
            (error: Error) => `failed: ${error.name}`,
          );
          const socket = await new Promise<string>((resolve) => {
            // globalThis: the test module's own `WebSocket` import is Node's `ws`, which the
            // bundler would rename inside this browser-side function.
            const ws = new globalThis.WebSocket(
              `${api.replace(/^http/, 'ws')}/v1/databases/todos/ws`,
            );
            ws.onopen = () => {
              ws.close();
              resolve('open');
            };
            ws.onerror = () => resolve('error');
          });
          return { fetch: fetched, socket };
        },
        { api: auth.server.url, key: auth.adminKey },
      );
    } finally {
      await page.close();
    }
  }

  it('lets the allowed origin read answers and open WebSockets, and blocks the other', async () => {
    expect(await fromPage(allowedPage)).toEqual({ fetch: '200 1 database(s)', socket: 'open' });
    expect(await fromPage(otherPage)).toEqual({ fetch: 'failed: TypeError', socket: 'error' });
  });
});
