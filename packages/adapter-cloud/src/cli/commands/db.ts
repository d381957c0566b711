import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { CliContext, segment } from '../context.js';
import { CommandFailure, UsageError } from '../errors.js';
import { printJson, printRows } from '../output.js';

interface JsonOption {
  readonly json?: boolean;
}

const SUMMARY_COLUMNS = [
  'name',
  'syncedTables',
  'tables',
  'devices',
  'connectedDevices',
  'sizeBytes',
  'version',
];

/**
 * `offsync db create|list|delete`.
 *
 * @example
 * ```ts
 * registerDb(program); // offsync db create todos --schema app.sql
 * ```
 */
export function registerDb(program: Command): void {
  const db = program.command('db').description('create, list and delete databases');
  db.command('create')
    .description('create a database, optionally from a schema file')
    .argument('<db>', 'database name (letters, digits, - and _)')
    .option('--schema <file.sql>', 'SQL run in the new database (all or nothing)')
    .option('--json', 'print the new database as JSON')
    .action(async (name: string, options: JsonOption & { schema?: string }, command: Command) => {
      const context = CliContext.of(command);
      const schema =
        options.schema === undefined ? undefined : readFileSync(options.schema, 'utf8');
      const created = await context.admin().request<Record<string, unknown>>('POST', '/databases', {
        name,
        ...(schema === undefined ? {} : { schema }),
      });
      if (options.json) printJson(context.io, created);
      else context.io.out(`created database ${name} (${String(created.tables)} table(s))\n`);
    });
  db.command('list')
    .description('list the databases')
    .option('--json', 'print JSON')
    .action(async (options: JsonOption, command: Command) => {
      const context = CliContext.of(command);
      const rows = await context.admin().request<Record<string, unknown>[]>('GET', '/databases');
      printRows(context.io, rows, SUMMARY_COLUMNS, options.json === true);
    });
  db.command('delete')
    .description('delete a database, its files and its sessions (asks unless --yes)')
    .argument('<db>', 'database name')
    .option('--yes', 'do not ask for confirmation (required when not on a terminal)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, options: JsonOption & { yes?: boolean }, command: Command) => {
      const context = CliContext.of(command);
      if (!options.yes) await confirm(name);
      const result = await context.admin().request('DELETE', `/databases/${segment(name)}`);
      if (options.json) printJson(context.io, result);
      else context.io.out(`deleted database ${name}\n`);
    });
}

async function confirm(name: string): Promise<void> {
  // A script must say --yes: a prompt it cannot answer would hang, or read a stray line as yes.
  if (!process.stdin.isTTY || !process.stderr.isTTY)
    throw new UsageError(`refusing to delete database ${name} without --yes (not a terminal)`);
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(
      `Delete database ${name} and everything in it? Type its name to confirm: `,
    );
    if (answer.trim() !== name) throw new CommandFailure('not deleted: the name did not match');
  } finally {
    prompt.close();
  }
}
