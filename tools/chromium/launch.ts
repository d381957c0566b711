// Headless Chromium for tests: Debian's /usr/bin/chromium driven by playwright-core, and a
// loopback-only static file server for the pages it opens.
//
// Never `npx playwright install`: it downloads browser builds, which this project's machines
// cannot fetch. `node tools/chromium/ensure-chromium.mjs` (npm test's pretest) installs Debian's
// chromium instead.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/** The Chromium binary: `OFFSYNC_CHROMIUM`, or Debian's `/usr/bin/chromium`. */
export const CHROMIUM_EXECUTABLE = process.env.OFFSYNC_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags for a closed network. Without the background-networking ones Chromium keeps trying to
 * reach Google services (component updates, sync, QUIC probes), flooding a network that has only
 * loopback. Playwright adds its own fresh temporary `--user-data-dir` per launch (and refuses one
 * in `args`), deleted when the browser closes.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--metrics-recording-only',
];

/**
 * Launches headless Chromium with {@link CHROMIUM_ARGS}. Close it in `afterAll`.
 *
 * @example
 * ```ts
 * const browser = await launchChromium();
 * afterAll(() => browser.close());
 * ```
 */
export async function launchChromium(options: { timeoutMs?: number } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_EXECUTABLE)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_EXECUTABLE}: run \`node tools/chromium/ensure-chromium.mjs\` ` +
        `(as root; npm test runs it as pretest) or set OFFSYNC_CHROMIUM`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_EXECUTABLE,
    headless: true,
    args: [...CHROMIUM_ARGS],
    timeout: options.timeoutMs ?? 30_000,
  });
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  // Required for WebAssembly.instantiateStreaming; any other type makes Chromium log an error.
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * A running static file server.
 *
 * @example
 * ```ts
 * const server: StaticServer = await serveDirectory(dir);
 * await page.goto(`${server.url}/index.html`);
 * ```
 */
export interface StaticServer {
  /** Its origin, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * Serves the files of `root` on 127.0.0.1 at a random free port (GET and HEAD only; `/` is
 * `index.html`; nothing outside `root`). Loopback only: no other host can reach it.
 *
 * @example
 * ```ts
 * const server = await serveDirectory(built.dir);
 * afterAll(() => server.close());
 * ```
 */
export async function serveDirectory(root: string): Promise<StaticServer> {
  const base = resolve(root);
  const server: Server = createServer((request, response) => {
    void (async () => {
      try {
        if (request.method !== 'GET' && request.method !== 'HEAD') {
          response.writeHead(405).end();
          return;
        }
        const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
        let file = resolve(join(base, pathname));
        if (file !== base && !file.startsWith(base + sep)) {
          response.writeHead(403).end();
          return;
        }
        if ((await stat(file).catch(() => undefined))?.isDirectory())
          file = join(file, 'index.html');
        const body = await readFile(file).catch(() => undefined);
        if (body === undefined) {
          response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
          return;
        }
        response.writeHead(200, {
          'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
          'content-length': body.length,
          'cache-control': 'no-store',
        });
        response.end(request.method === 'HEAD' ? undefined : body);
      } catch {
        if (!response.headersSent) response.writeHead(500);
        response.end();
      }
    })();
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/**
 * What a page did wrong while watched: console errors, uncaught exceptions, blocked requests.
 *
 * @example
 * ```ts
 * expect(watch.errors, watch.report()).toEqual([]);
 * ```
 */
export interface PageWatch {
  /** Console errors and uncaught exceptions, in order. */
  readonly errors: readonly string[];
  /** Requests to anything but the allowed origins, which were aborted. */
  readonly blockedRequests: readonly string[];
  /** Everything above as text, for a failure message. */
  report(): string;
}

/**
 * Records a page's console errors and uncaught exceptions, and aborts (and records) every request
 * that does not go to one of `allowedOrigins`: tests prove a page needs no CDN and no network.
 * Call before `page.goto`.
 *
 * @example
 * ```ts
 * const watch = await watchPage(page, [server.url]);
 * ```
 */
export async function watchPage(page: Page, allowedOrigins: readonly string[]): Promise<PageWatch> {
  const errors: string[] = [];
  const blockedRequests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => {
    errors.push(`uncaught: ${error.stack ?? error.message}`);
  });
  page.on('crash', () => {
    errors.push('the page crashed');
  });
  await page.route('**/*', (route) => {
    const url = route.request().url();
    const local =
      url.startsWith('data:') ||
      url.startsWith('blob:') ||
      allowedOrigins.some((origin) => url === origin || url.startsWith(`${origin}/`));
    if (local) return route.continue();
    blockedRequests.push(url);
    return route.abort('blockedbyclient');
  });
  return {
    errors,
    blockedRequests,
    report: () =>
      [
        `page errors (${errors.length}):`,
        ...errors.map((error) => `  ${error}`),
        `blocked requests (${blockedRequests.length}):`,
        ...blockedRequests.map((url) => `  ${url}`),
      ].join('\n'),
  };
}
