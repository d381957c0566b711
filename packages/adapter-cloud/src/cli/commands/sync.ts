import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliContext } from '../context.js';
import { CommandFailure } from '../errors.js';
import { collect, need } from '../parse.js';

interface SyncOptions {
  readonly db?: string;
  readonly file?: string;
  readonly token?: string;
  readonly schema?: string;
  readonly table: readonly string[];
}

/**
 * `offsync sync`: syncs a local SQLite file with the server once, with progress.
 *
 * @example
 * ```ts
 * registerSync(program); // offsync sync --db todos --file local.db --token "$TOKEN"
 * ```
 */
export function registerSync(program: Command): void {
  program
    .command('sync')
    .description('sync a local SQLite file with a database on the server, once')
    .option('--db <name>', 'the database on the server; required')
    .option('--file <local.db>', 'the local SQLite file (created if missing); required')
    .option('--token <jwt>', 'a user token (see token issue); required')
    .option('--schema <file.sql>', 'SQL run in the local file first')
    .option('--table <name>', 'switch sync on for a local table first (repeatable)', collect, [])
    .action(async (options: SyncOptions, command: Command) => {
      const context = CliContext.of(command);
      const database = need(options.db, '--db');
      const token = need(options.token, '--token');
      const file = need(options.file, '--file');
      // Imported when the command runs: `offsync --help` and the admin commands start without it.
      const [{ openReplica }, { connectNode }, { ProgressBar }] = await Promise.all([
        import('@offsync/adapter-node'),
        import('../../node-connect.js'),
        import('../progress.js'),
      ]);
      const replica = openReplica(file);
      try {
        if (options.schema) replica.db.exec(readFileSync(options.schema, 'utf8'));
        for (const name of options.table) replica.enableSync(name);
        const client = connectNode(replica, {
          url: context.url,
          database,
          token,
          manual: true,
          pollMs: 0,
          pageSize: 2000,
        });
        const bar = new ProgressBar('sync');
        client.on((status) => {
          if (status.state === 'syncing')
            bar.update(status.cursor, status.serverVersion, `pending ${status.pending}`);
        });
        try {
          const status = await client.syncNow();
          bar.done(
            `${status.state}: local version ${status.localVersion}, server version ${status.serverVersion}`,
          );
          for (const [name, refusal] of Object.entries(status.refusedTables))
            context.io.out(`table ${name} not synced: ${refusal.message}\n`);
          if (status.state === 'offline' || status.state === 'error')
            throw new CommandFailure(
              `sync ${status.state}: ${status.error?.message ?? 'no answer from the server'}`,
            );
        } finally {
          await client.disconnect();
        }
      } finally {
        replica.close();
      }
    });
}
