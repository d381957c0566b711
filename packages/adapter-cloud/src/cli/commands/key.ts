import type { Command } from 'commander';
import { CliContext, segment } from '../context.js';
import { isoTime, printJson, printRows } from '../output.js';
import { collect } from '../parse.js';

interface KeyRow {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly createdAt: number;
  readonly lastUsedAt?: number;
  readonly revokedAt?: number;
  readonly databases?: readonly string[];
}

interface CreateOptions {
  readonly name?: string;
  readonly role?: string;
  readonly db: readonly string[];
  readonly json?: boolean;
}

/**
 * `offsync key create|list|revoke`: the server's API keys.
 *
 * @example
 * ```ts
 * registerKey(program); // offsync key create --name "billing worker" --role service --db billing
 * ```
 */
export function registerKey(program: Command): void {
  const key = program.command('key').description('API keys (admin and service)');
  key
    .command('create')
    .description('create an API key; the key is printed once and never again')
    .option('--name <name>', 'a label telling keys apart', '')
    .option('--role <role>', 'admin or service', 'admin')
    .option('--db <name>', 'limit a service key to this database (repeatable)', collect, [])
    .option('--json', 'print {id, name, role, key} as JSON')
    .action(async (options: CreateOptions, command: Command) => {
      const context = CliContext.of(command);
      const created = await context.admin().request<{ id: string; key: string }>('POST', '/keys', {
        name: options.name ?? '',
        role: options.role ?? 'admin',
        ...(options.db.length === 0 ? {} : { databases: options.db }),
      });
      if (options.json) printJson(context.io, created);
      else context.io.out(`created key ${created.id} (shown once, keep it): ${created.key}\n`);
    });
  key
    .command('list')
    .description('list the API keys (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const context = CliContext.of(command);
      const rows = await context.admin().request<KeyRow[]>('GET', '/keys');
      printRows(
        context.io,
        rows as unknown as Record<string, unknown>[],
        ['id', 'name', 'role', 'createdAt', 'lastUsedAt', 'revokedAt', 'databases'],
        options.json === true,
        rows.map((row) => ({
          ...row,
          createdAt: isoTime(row.createdAt),
          lastUsedAt: isoTime(row.lastUsedAt),
          revokedAt: isoTime(row.revokedAt),
          databases: row.databases?.join(','),
        })),
      );
    });
  key
    .command('revoke')
    .description('revoke an API key at once (its open sessions close)')
    .argument('<id>', 'the key id (key_…), from key list')
    .option('--json', 'print the result as JSON')
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      const context = CliContext.of(command);
      const result = await context.admin().request('DELETE', `/keys/${segment(id)}`);
      if (options.json) printJson(context.io, result);
      else context.io.out(`revoked key ${id}\n`);
    });
}
