import type { Command } from 'commander';
import { CliContext, segment } from './context.js';
import { printRows } from './output.js';

/**
 * What a `list <db>` command lists: the rows the admin API answers at
 * `/databases/<db>/<resource>`, and how a row looks in the text table.
 */
export interface DatabaseListOptions<Row> {
  /** The command's help line. */
  readonly description: string;
  /** The path under `/databases/<db>/`: `devices`, `tables`. */
  readonly resource: string;
  /** The table's columns, in order. */
  readonly columns: readonly string[];
  /** A row as the table shows it (the JSON output keeps the server's rows as they are). */
  readonly show: (row: Row) => Readonly<Record<string, unknown>>;
}

/**
 * Adds `list <db> [--json]` under `parent`: the one shape of every per-database listing, so each
 * command only says what it fetches and how a row reads.
 *
 * @example
 * ```ts
 * addDatabaseList<TableRow>(table, {
 *   description: 'list the tables of a database',
 *   resource: 'tables',
 *   columns: ['name', 'synced'],
 *   show: (row) => ({ ...row, synced: row.synced ? 'on' : 'off' }),
 * });
 * ```
 */
export function addDatabaseList<Row extends object>(
  parent: Command,
  options: DatabaseListOptions<Row>,
): void {
  parent
    .command('list')
    .description(options.description)
    .argument('<db>', 'database name')
    .option('--json', 'print JSON')
    .action(async (database: string, flags: { json?: boolean }, command: Command) => {
      const context = CliContext.of(command);
      const rows = await context
        .admin()
        .request<Row[]>('GET', `/databases/${segment(database)}/${options.resource}`);
      printRows(
        context.io,
        rows as unknown as Record<string, unknown>[],
        options.columns,
        flags.json === true,
        rows.map(options.show),
      );
    });
}
