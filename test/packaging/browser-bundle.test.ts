import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditBrowserBuild, REPO } from './browser-bundle.js';

// What a browser app imports: the sync client and its transports, the wasm replica with its
// IndexedDB persistence, and the core's public entry.
const BROWSER_APP = `
import { connect, HttpTransport, WebSocketTransport } from '@offsync/adapter-cloud/client';
import { openReplica, openReplicaFromIndexedDb, saveReplicaToIndexedDb } from '@offsync/adapter-wasm';
import { SqliteReplica, SyncClient } from '@offsync/core';
Object.assign(globalThis, {
  offsync: { connect, HttpTransport, WebSocketTransport, openReplica, openReplicaFromIndexedDb, saveReplicaToIndexedDb, SqliteReplica, SyncClient },
});
`;

// The Node entry of the same package: the server, its auth and the ws-based connect.
const NODE_APP = `
import { connect, startServer } from '@offsync/adapter-cloud';
Object.assign(globalThis, { offsync: { connect, startServer } });
`;

describe('browser bundles (a real Vite build)', () => {
  beforeAll(() => {
    for (const built of [
      'packages/adapter-cloud/dist/client/index.js',
      'packages/adapter-wasm/dist/index.js',
      'packages/core/dist/index.js',
    ]) {
      if (!existsSync(join(REPO, built)))
        throw new Error(`${built} is missing: run \`npm run build\``);
    }
  });

  for (const source of [false, true]) {
    const through = source ? 'the monorepo source condition' : 'the published dist entries';
    it(`of the client and the wasm adapter pull in no Node built-in or Node-only package, through ${through}`, async () => {
      const audit = await auditBrowserBuild(BROWSER_APP, { source });
      const report = JSON.stringify(audit, null, 2);
      expect(audit.builtins, report).toEqual([]);
      expect(audit.nodeOnlyModules, report).toEqual([]);
      expect(audit.warnings, report).toEqual([]);
      expect(audit.externalImports, report).toEqual([]);
      // The app really bundled what it imports (a vacuous build would pass the checks above).
      const layer = source ? 'src' : 'dist';
      expect(
        audit.modules.some((id) => id.includes(`/packages/adapter-cloud/${layer}/client/`)),
      ).toBe(true);
      expect(audit.modules.some((id) => id.includes(`/packages/adapter-wasm/${layer}/`))).toBe(
        true,
      );
      expect(audit.modules.some((id) => id.includes(`/packages/core/${layer}/`))).toBe(true);
      expect(
        audit.modules.some((id) => id.includes('/node_modules/sql.js/dist/sql-wasm-browser.js')),
      ).toBe(true);
    });
  }

  it('of the Node entry is caught by the same audit (the audit is not vacuous)', async () => {
    const audit = await auditBrowserBuild(NODE_APP, { source: false });
    expect(audit.builtins.some((line) => line.startsWith('node:'))).toBe(true);
    expect(audit.nodeOnlyModules.some((id) => id.includes('/node_modules/ws/'))).toBe(true);
    expect(
      audit.nodeOnlyModules.some((id) => id.includes('/packages/adapter-cloud/dist/server/')),
    ).toBe(true);
  });
});
