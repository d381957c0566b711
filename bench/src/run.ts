import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchResult, markdownTable, withinBounds } from './result.js';
import { browserSuite } from './suites/browser.js';
import { coreSuite } from './suites/core.js';
import { sqliteSuite } from './suites/sqlite.js';
import { nodeEngine, wasmEngine } from './suites/sqlite-engine.js';
import type { Suite } from './suites/suite.js';
import { syncSuite } from './suites/sync.js';
import { wasmDriversSuite } from './suites/wasm-drivers.js';
import { watchSuite } from './suites/watch.js';

const suites: Record<string, Suite> = {
  core: coreSuite,
  sqlite: (context) => sqliteSuite(context, [nodeEngine, wasmEngine]),
  sync: syncSuite,
  watch: watchSuite,
  wasmDrivers: wasmDriversSuite,
  browser: browserSuite,
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

const results: BenchResult[] = [];
for (const [name, suite] of Object.entries(suites)) {
  if (only && !only.includes(name)) continue;
  process.stderr.write(`bench: ${name}${quick ? ' (quick)' : ''}\n`);
  results.push(...(await suite({ quick })));
}

mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify({ quick, results }, null, 2)}\n`);
const table = markdownTable(results);
writeFileSync(join(resultsDir, 'latest.md'), `${table}\n`);
process.stdout.write(`${table}\n`);

const failed = results.filter((result) => !withinBounds(result));
if (failed.length > 0) {
  process.stderr.write(
    `bench: ${failed.length} result(s) outside their bounds: ${failed.map((r) => r.id).join(', ')}\n`,
  );
  process.exitCode = 1;
}
