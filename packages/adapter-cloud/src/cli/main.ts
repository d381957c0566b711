#!/usr/bin/env node
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openReplica } from '@offsync/adapter-node';
import { OffsyncError } from '@offsync/core';
import { databaseAudience, issueDevToken, parseTtl } from '../auth/index.js';
import { connectNode } from '../node-connect.js';
import { startServer } from '../server/server.js';
import { loadServerConfig } from '../server/server-config.js';
import { AdminClient } from './admin-client.js';
import { inspectPayload } from './inspect.js';
import { ProgressBar } from './progress.js';

const USAGE = `offsync — local-first sync for SQLite

  offsync serve [--data ./data] [--port 8787] [--host 127.0.0.1] [--admin-key KEY] [--clock-leeway 30]
  offsync db create <name> [--schema file.sql]
  offsync db list
  offsync table list <db>
  offsync table enable <db> <table> [--allow-integer-primary-key]
  offsync table disable <db> <table>
  offsync policy set <db> <table> <select|insert|update|delete> <expression | null>
  offsync token issue --sub <user> --db <name> [--ttl 1h] [--claim key=value ...]
  offsync status
  offsync inspect <payload-file>
  offsync sync --db <name> --file <local.db> --token <jwt> [--schema file.sql] [--table t ...]

Admin commands talk to a running server: --url (default $OFFSYNC_URL or http://127.0.0.1:8787) and
--key (default $OFFSYNC_ADMIN_KEY, else <data>/admin.key). --data defaults to ./data.`;

/** A CLI usage mistake (exit code 2). */
class UsageError extends Error {}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    data: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    url: { type: 'string' },
    key: { type: 'string' },
    'admin-key': { type: 'string' },
    'clock-leeway': { type: 'string' },
    schema: { type: 'string' },
    sub: { type: 'string' },
    ttl: { type: 'string' },
    claim: { type: 'string', multiple: true },
    db: { type: 'string' },
    file: { type: 'string' },
    token: { type: 'string' },
    table: { type: 'string', multiple: true },
    'allow-integer-primary-key': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});

const dataDir = resolve(values.data ?? './data');
const url = values.url ?? process.env.OFFSYNC_URL ?? 'http://127.0.0.1:8787';

function adminKey(): string {
  const key = values.key ?? process.env.OFFSYNC_ADMIN_KEY;
  if (key) return key;
  const file = join(dataDir, 'admin.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new UsageError(
    `no admin key: pass --key, set OFFSYNC_ADMIN_KEY, or run from the folder holding ${file}`,
  );
}

function wholeNumber(text: string, flag: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) > max)
    throw new UsageError(
      `${flag} takes a whole number from 0 to ${max}, not ${JSON.stringify(text)}`,
    );
  return Number(text);
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}\n\n${USAGE}`);
  return value;
}

function table(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  const text = (value: unknown): string =>
    value === undefined || value === null ? '' : String(value);
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => text(row[column]).length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    line(columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((row) => line(columns.map((c) => text(row[c])))),
  ].join('\n');
}

async function main(): Promise<void> {
  const [command, sub, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  switch (command) {
    case 'serve': {
      const dashboardDir = join(
        fileURLToPath(new URL('.', import.meta.url)),
        '..',
        '..',
        'dashboard-dist',
      );
      const leeway = values['clock-leeway'];
      const server = await startServer({
        dataDir,
        port: wholeNumber(values.port ?? '8787', '--port', 65_535),
        host: values.host ?? '127.0.0.1',
        ...(values['admin-key'] ? { adminKey: values['admin-key'] } : {}),
        ...(leeway === undefined
          ? {}
          : { clockLeewaySeconds: wholeNumber(leeway, '--clock-leeway', 86_400) }),
        ...(existsSync(dashboardDir) ? { dashboardDir } : {}),
      });
      if (server.generatedAdminKey) {
        // Shown before it is saved: if saving fails, the key is still in the output, never lost.
        const file = join(dataDir, 'admin.key');
        console.log(`admin key (saved to ${file}): ${server.generatedAdminKey}`);
        try {
          writeFileSync(file, `${server.generatedAdminKey}\n`, { mode: 0o600 });
          chmodSync(file, 0o600);
        } catch (error) {
          console.error(
            `offsync: could not save the admin key to ${file} (${error instanceof Error ? error.message : String(error)}); keep the key shown above`,
          );
        }
      }
      console.log(
        `offsync serving ${dataDir} on ${server.url} (dashboard: ${server.url}/dashboard/)`,
      );
      const stop = (): void => {
        console.log('offsync: shutting down');
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return;
    }
    case 'db': {
      const admin = new AdminClient(url, adminKey());
      if (sub === 'create') {
        const name = need(rest[0], 'database name');
        const schema = values.schema ? readFileSync(values.schema, 'utf8') : undefined;
        console.log(
          JSON.stringify(
            await admin.request('POST', '/databases', { name, ...(schema ? { schema } : {}) }),
            null,
            2,
          ),
        );
        return;
      }
      if (sub === 'list') {
        console.log(
          table(await admin.request<Record<string, unknown>[]>('GET', '/databases'), [
            'name',
            'syncedTables',
            'tables',
            'devices',
            'connectedDevices',
            'sizeBytes',
            'version',
          ]),
        );
        return;
      }
      break;
    }
    case 'table': {
      const admin = new AdminClient(url, adminKey());
      const database = need(rest[0], 'database name');
      if (sub === 'list') {
        const tables = await admin.request<
          {
            name: string;
            synced: boolean;
            primaryKey: string[];
            fingerprint?: string;
            problem?: string;
          }[]
        >('GET', `/databases/${encodeURIComponent(database)}/tables`);
        console.log(
          table(
            tables.map((t) => ({
              ...t,
              primaryKey: t.primaryKey.join(','),
              synced: t.synced ? 'on' : 'off',
            })),
            ['name', 'synced', 'primaryKey', 'fingerprint', 'problem'],
          ),
        );
        return;
      }
      if (sub === 'enable' || sub === 'disable') {
        const name = need(rest[1], 'table name');
        await admin.request(
          'PUT',
          `/databases/${encodeURIComponent(database)}/tables/${encodeURIComponent(name)}/sync`,
          {
            enabled: sub === 'enable',
            allowIntegerPrimaryKey: values['allow-integer-primary-key'] === true,
          },
        );
        console.log(`sync ${sub === 'enable' ? 'enabled' : 'disabled'} for ${database}.${name}`);
        return;
      }
      break;
    }
    case 'policy': {
      if (sub !== 'set') break;
      const admin = new AdminClient(url, adminKey());
      const [database, name, operation, expression] = rest;
      await admin.request(
        'PUT',
        `/databases/${encodeURIComponent(need(database, 'database'))}/policies/${encodeURIComponent(need(name, 'table'))}/${need(operation, 'operation')}`,
        {
          expression: need(expression, 'expression') === 'null' ? null : expression,
        },
      );
      console.log(`policy ${operation} of ${database}.${name} set`);
      return;
    }
    case 'token': {
      if (sub !== 'issue') break;
      const secret = loadServerConfig(dataDir).jwt.hs256Secret;
      if (!secret)
        throw new UsageError(
          `${join(dataDir, 'server.json')} has no hs256Secret to sign development tokens with`,
        );
      const claims: Record<string, unknown> = {};
      for (const claim of values.claim ?? []) {
        const at = claim.indexOf('=');
        if (at < 1) throw new UsageError(`--claim takes key=value, not ${JSON.stringify(claim)}`);
        const raw = claim.slice(at + 1);
        claims[claim.slice(0, at)] = /^-?\d+$/.test(raw)
          ? Number(raw)
          : raw === 'true'
            ? true
            : raw === 'false'
              ? false
              : raw;
      }
      console.log(
        await issueDevToken({
          secret,
          sub: need(values.sub, '--sub'),
          ttlSeconds: parseTtl(values.ttl ?? '1h'),
          claims,
          // Bound to one database: the same token is refused on every other database.
          audience: databaseAudience(need(values.db, '--db')),
        }),
      );
      return;
    }
    case 'status': {
      const admin = new AdminClient(url, adminKey());
      const status = await admin.request<Record<string, unknown>>('GET', '/status');
      const databases = await admin.request<Record<string, unknown>[]>('GET', '/databases');
      console.log(
        `server ${url}: up ${Math.round(Number(status.uptimeMs) / 1000)} s, ${databases.length} database(s)`,
      );
      if (databases.length > 0)
        console.log(
          table(databases, [
            'name',
            'syncedTables',
            'devices',
            'connectedDevices',
            'sizeBytes',
            'version',
          ]),
        );
      return;
    }
    case 'inspect': {
      for (const line of inspectPayload(new Uint8Array(readFileSync(need(sub, 'payload file')))))
        console.log(line);
      return;
    }
    case 'sync': {
      const replica = openReplica(need(values.file, '--file'));
      if (values.schema) replica.db.exec(readFileSync(values.schema, 'utf8'));
      for (const name of values.table ?? []) replica.enableSync(name);
      const client = connectNode(replica, {
        url,
        database: need(values.db, '--db'),
        token: need(values.token, '--token'),
        manual: true,
        pollMs: 0,
        pageSize: 2000,
      });
      const bar = new ProgressBar('sync');
      client.on((status) => {
        if (status.state === 'syncing')
          bar.update(status.cursor, status.serverVersion, `pending ${status.pending}`);
      });
      const status = await client.syncNow();
      bar.done(
        `${status.state}: local version ${status.localVersion}, server version ${status.serverVersion}`,
      );
      for (const [name, refusal] of Object.entries(status.refusedTables))
        console.log(`table ${name} not synced: ${refusal.message}`);
      await client.disconnect();
      replica.close();
      return;
    }
  }
  throw new UsageError(`unknown command: ${positionals.join(' ')}\n\n${USAGE}`);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(
    `offsync: ${error instanceof OffsyncError || error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
