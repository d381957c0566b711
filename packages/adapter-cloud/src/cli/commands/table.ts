import type { Command } from 'commander';
import { CliContext, segment } from '../context.js';
import { addDatabaseList } from '../list-command.js';
import { printJson } from '../output.js';

interface TableRow {
  readonly name: string;
  readonly synced: boolean;
  readonly primaryKey: readonly string[];
  readonly fingerprint?: string;
  readonly problem?: string;
}

interface EnableOptions {
  readonly allowIntegerPrimaryKey?: boolean;
  readonly allowForeignKeys?: boolean;
  readonly json?: boolean;
}

/**
 * `offsync table list|enable|disable`.
 *
 * @example
 * ```ts
 * registerTable(program); // offsync table enable todos items --allow-foreign-keys
 * ```
 */
export function registerTable(program: Command): void {
  const table = program.command('table').description("list a database's tables, switch sync");
  addDatabaseList<TableRow>(table, {
    description: 'list the tables of a database with their sync state and schema fingerprint',
    resource: 'tables',
    columns: ['name', 'synced', 'primaryKey', 'fingerprint', 'problem'],
    show: (row) => ({
      ...row,
      primaryKey: row.primaryKey.join(','),
      synced: row.synced ? 'on' : 'off',
    }),
  });
  table
    .command('enable')
    .description('switch sync on for a table (its schema is checked first)')
    .argument('<db>', 'database name')
    .argument('<table>', 'table name')
    .option(
      '--allow-integer-primary-key',
      'accept a rowid INTEGER PRIMARY KEY (only for ids assigned centrally)',
    )
    .option(
      '--allow-foreign-keys',
      'accept FOREIGN KEY constraints (a batch they refuse is refused whole)',
    )
    .option('--json', 'print the table as JSON')
    .action(async (database: string, name: string, options: EnableOptions, command: Command) => {
      const context = CliContext.of(command);
      const result = await context
        .admin()
        .request('PUT', `/databases/${segment(database)}/tables/${segment(name)}/sync`, {
          enabled: true,
          allowIntegerPrimaryKey: options.allowIntegerPrimaryKey === true,
          allowForeignKeys: options.allowForeignKeys === true,
        });
      if (options.json) printJson(context.io, result);
      else context.io.out(`sync enabled for ${database}.${name}\n`);
    });
  table
    .command('disable')
    .description('switch sync off for a table (its rows stay)')
    .argument('<db>', 'database name')
    .argument('<table>', 'table name')
    .option('--json', 'print the table as JSON')
    .action(
      async (database: string, name: string, options: { json?: boolean }, command: Command) => {
        const context = CliContext.of(command);
        const result = await context
          .admin()
          .request('PUT', `/databases/${segment(database)}/tables/${segment(name)}/sync`, {
            enabled: false,
          });
        if (options.json) printJson(context.io, result);
        else context.io.out(`sync disabled for ${database}.${name}\n`);
      },
    );
}
