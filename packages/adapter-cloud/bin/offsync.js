#!/usr/bin/env node
// The `offsync` bin. This file is committed, not built: npm links a workspace's bin only when the
// file exists at install time, so a bin pointing into dist/ gets no node_modules/.bin/offsync
// after `npm ci` in a fresh checkout (dist/ comes later, from `npm run build`), and `npx offsync`
// then fails with "could not determine executable to run". The CLI itself is dist/cli/main.js.
const cli = new URL('../dist/cli/main.js', import.meta.url);
try {
  await import(cli.href);
} catch (error) {
  // Only the CLI's own absence gets the hint; any other failure is the CLI's and propagates.
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(cli.pathname)) {
    console.error('offsync: the CLI is not built yet; run `npm run build` first.');
    process.exit(1);
  }
  throw error;
}
