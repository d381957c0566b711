import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliContext, segment } from '../context.js';
import { printJson, renderTable } from '../output.js';

interface MigrationResult {
  readonly version: number;
  readonly tables: readonly {
    readonly table: string;
    readonly kind: string;
    readonly previous: string;
    readonly fingerprint: string;
  }[];
}

/**
 * `offsync migrate`: runs a migration file on a database on the server.
 *
 * @example
 * ```ts
 * registerMigrate(program); // offsync migrate todos 002-add-due.sql --name add-due
 * ```
 */
export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('run a schema migration (ALTER TABLE ...) on a database; clients are told')
    .argument('<db>', 'database name')
    .argument('<file.sql>', 'the migration, the same file the clients run')
    .option('--name <name>', 'a name for the migration (default: the file name)')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        database: string,
        file: string,
        options: { name?: string; json?: boolean },
        command: Command,
      ) => {
        const context = CliContext.of(command);
        const sql = readFileSync(file, 'utf8');
        const name = options.name ?? file.replace(/^.*[\\/]/, '');
        const result = await context
          .admin()
          .request<MigrationResult>('POST', `/databases/${segment(database)}/migrate`, {
            sql,
            name,
          });
        if (options.json) {
          printJson(context.io, result);
          return;
        }
        context.io.out(`migrated ${database} to schema version ${result.version}\n`);
        if (result.tables.length > 0)
          context.io.out(
            `${renderTable(result.tables, ['table', 'kind', 'previous', 'fingerprint'])}\n`,
          );
      },
    );
}
