import type { Command } from 'commander';
import { CliContext, segment } from '../context.js';
import { UsageError } from '../errors.js';
import { printJson, printRows } from '../output.js';

const OPERATIONS = ['select', 'insert', 'update', 'delete'];

/**
 * `offsync policy set|list`.
 *
 * @example
 * ```ts
 * registerPolicy(program); // offsync policy set todos items select "owner = auth.sub"
 * ```
 */
export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('row-level security policies');
  policy
    .command('set')
    .description('set the policy of one operation on a table ("null" removes it: closed)')
    .argument('<db>', 'database name')
    .argument('<table>', 'table name')
    .argument('<operation>', OPERATIONS.join('|'))
    .argument('<expression>', 'SQL boolean over the row and auth.* claims, or null')
    .option('--json', 'print every policy of the database as JSON')
    .action(
      async (
        database: string,
        table: string,
        operation: string,
        expression: string,
        options: { json?: boolean },
        command: Command,
      ) => {
        if (!OPERATIONS.includes(operation))
          throw new UsageError(
            `operation must be one of ${OPERATIONS.join(', ')}, not ${JSON.stringify(operation)}`,
          );
        const context = CliContext.of(command);
        const result = await context
          .admin()
          .request(
            'PUT',
            `/databases/${segment(database)}/policies/${segment(table)}/${operation}`,
            { expression: expression === 'null' ? null : expression },
          );
        if (options.json) printJson(context.io, result);
        else context.io.out(`policy ${operation} of ${database}.${table} set\n`);
      },
    );
  policy
    .command('list')
    .description('list the policies of a database, one line per table and operation')
    .argument('<db>', 'database name')
    .option('--json', 'print JSON (the policy set, by table)')
    .action(async (database: string, options: { json?: boolean }, command: Command) => {
      const context = CliContext.of(command);
      const policies = await context
        .admin()
        .request<Record<string, Record<string, string>>>(
          'GET',
          `/databases/${segment(database)}/policies`,
        );
      if (options.json) {
        printJson(context.io, policies);
        return;
      }
      const rows = Object.entries(policies).flatMap(([table, entry]) =>
        OPERATIONS.filter((operation) => Object.hasOwn(entry, operation)).map((operation) => ({
          table,
          operation,
          expression: entry[operation],
        })),
      );
      printRows(context.io, rows, ['table', 'operation', 'expression'], false);
    });
}
