// Builds the dashboard into packages/adapter-cloud/dashboard-dist, where `offsync serve` looks for
// it. Everything lands in that folder (no CDN, no web fonts), so the page works on loopback only.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Where the built assets go (gitignored; `npm run build` produces it). */
export const DASHBOARD_DIST = join(HERE, '..', 'dashboard-dist');

export default defineConfig({
  root: HERE,
  // The server serves the assets under /dashboard/ and answers unknown paths there with
  // index.html, so asset URLs must be absolute, not relative to the page.
  base: '/dashboard/',
  logLevel: 'warn',
  publicDir: false,
  build: {
    outDir: DASHBOARD_DIST,
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
