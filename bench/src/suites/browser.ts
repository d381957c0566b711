// The browser half of the bench: in headless Chromium, the worker replica (official SQLite wasm
// on OPFS opfs-sahpool, durable commits, one postMessage round trip per request) beside sql.js in
// memory in the same page, on the same rows. The page is bench/browser/, bundled with Vite and
// served by Vite's preview server on 127.0.0.1.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import type { BenchResult } from '../result.js';
import type { SuiteContext } from './suite.js';

const PAGE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'browser');
const CHROMIUM = process.env.OFFSYNC_CHROMIUM ?? '/usr/bin/chromium';
// The flags of tools/chromium/launch.ts (a closed network: no background services).
const ARGS = [
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
];

// Floors far under what was measured (docs/browser.md): OPFS commits and a message per request
// cost real time next to memory, so these guard against a collapse (a commit per row in a batch,
// a merge row by row across postMessage), not against the price of durability.
const BATCH_FLOOR = 0.05;
const SINGLE_FLOOR = 0.002;
const MERGE_FLOOR = 0.05;

interface Pair {
  readonly worker: number;
  readonly sqljs: number;
}
interface BrowserFigures {
  readonly rows: number;
  readonly commits: number;
  readonly insertBatch: Pair;
  readonly insertSingle: Pair;
  readonly merge: Pair;
}
type BenchWindow = {
  offsyncBrowserBench?: (rows: number, commits: number) => Promise<BrowserFigures>;
};

function result(id: string, pair: Pair, unit: string, floor: number, note: string): BenchResult {
  return {
    id,
    value: pair.worker,
    baseline: pair.sqljs,
    unit,
    ratio: pair.worker / pair.sqljs,
    floor,
    note,
  };
}

/** Runs the browser figures; skipped (no results, one line on stderr) where Chromium is missing. */
export async function browserSuite(context: SuiteContext): Promise<BenchResult[]> {
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`bench: browser skipped (no Chromium at ${CHROMIUM})\n`);
    return [];
  }
  const rows = context.quick ? 1_000 : 10_000;
  const commits = context.quick ? 50 : 300;
  const outDir = await mkdtemp(join(tmpdir(), 'offsync-browser-bench-'));
  try {
    await build({
      root: PAGE,
      configFile: false,
      logLevel: 'warn',
      mode: 'production',
      resolve: { conditions: ['source', 'module', 'browser', 'production'] },
      worker: { format: 'es' },
      build: {
        outDir,
        emptyOutDir: true,
        target: 'es2022',
        assetsInlineLimit: 0,
        reportCompressedSize: false,
      },
    });
    const server = await preview({
      root: PAGE,
      configFile: false,
      logLevel: 'warn',
      build: { outDir },
      preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
    });
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      const page = await (await browser.newContext()).newPage();
      const url = server.resolvedUrls?.local[0] ?? 'http://127.0.0.1:4173/';
      await page.goto(`${url}index.html`);
      await page.waitForFunction(() => (window as BenchWindow).offsyncBrowserBench !== undefined);
      const figures = await page.evaluate(
        ([r, c]) => (window as BenchWindow).offsyncBrowserBench!(r, c),
        [rows, commits] as const,
      );
      return [
        result(
          'browser.insert.batch',
          figures.insertBatch,
          'rows/s',
          BATCH_FLOOR,
          `${rows} rows in one transaction: worker (OPFS sahpool, one message) vs sql.js in memory`,
        ),
        result(
          'browser.insert.single',
          figures.insertSingle,
          'commits/s',
          SINGLE_FLOOR,
          `${commits} one-row commits, each awaited: worker (durable commit + round trip) vs sql.js in memory`,
        ),
        result(
          'browser.merge',
          figures.merge,
          'rows/s',
          MERGE_FLOOR,
          `a ${rows}-row changeset merged: worker (OPFS sahpool) vs sql.js in memory`,
        ),
      ];
    } finally {
      await browser.close();
      await new Promise<void>((done) => server.httpServer.close(() => done()));
    }
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
