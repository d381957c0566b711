import { Command } from 'commander';
import { registerBackup } from './commands/backup.js';
import { registerDb } from './commands/db.js';
import { registerDevice } from './commands/device.js';
import { registerInspect } from './commands/inspect.js';
import { registerKey } from './commands/key.js';
import { registerMigrate } from './commands/migrate.js';
import { registerPolicy } from './commands/policy.js';
import { registerServe } from './commands/serve.js';
import { registerStatus } from './commands/status.js';
import { registerSync } from './commands/sync.js';
import { registerTable } from './commands/table.js';
import { registerToken } from './commands/token.js';
import { registerUser } from './commands/user.js';
import { bindSurroundings } from './context.js';
import type { CliOutput } from './output.js';

/**
 * The whole `offsync` command tree, on commander. Parsing throws instead of exiting (the caller
 * turns errors into exit codes); commander's own messages are printed as one `offsync: ...` line
 * followed by the command's usage hint.
 *
 * @example
 * ```ts
 * await createProgram(processOutput).parseAsync(['db', 'list', '--json'], { from: 'user' });
 * ```
 */
export function createProgram(io: CliOutput, env: NodeJS.ProcessEnv = process.env): Command {
  const program = new Command('offsync')
    .description('OffSync: local-first sync for SQLite. The server, its admin, and a sync client.')
    .option('--url <url>', 'the server (default $OFFSYNC_URL or http://127.0.0.1:8787)')
    .option('--key <key>', 'the admin key (default $OFFSYNC_ADMIN_KEY, else <data>/admin.key)')
    .option('--data <dir>', 'the data folder (default ./data)')
    .helpCommand('help [command...]', 'show the help of a command (offsync help db delete)')
    // Settings set before .command() are inherited by every command made after.
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
      outputError: (text, write) => write(`offsync: ${text.replace(/^error: /, '')}`),
    });
  bindSurroundings(program, io, env);
  registerServe(program);
  registerDb(program);
  registerTable(program);
  registerPolicy(program);
  registerToken(program);
  registerKey(program);
  registerDevice(program);
  registerUser(program);
  registerMigrate(program);
  registerBackup(program);
  registerStatus(program);
  registerInspect(program);
  registerSync(program);
  for (const command of walk(program))
    command.showHelpAfterError(`(run "${commandPath(command)} --help" for usage)`);
  program.addHelpText(
    'after',
    `\nAll commands:\n${leaves(program)
      .map((command) => `  ${commandPath(command)} ${command.usage()}`)
      .join(
        '\n',
      )}\n\nExit codes: 0 ok, 1 failure, 2 usage. OFFSYNC_DEBUG=1 prints stack traces of unexpected errors.`,
  );
  return program;
}

/**
 * `offsync db delete` for the command `delete` under `db`.
 *
 * @example
 * ```ts
 * commandPath(deleteCommand); // 'offsync db delete'
 * ```
 */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

function walk(command: Command): Command[] {
  return [command, ...command.commands.flatMap(walk)];
}

function leaves(program: Command): Command[] {
  return walk(program).filter((command) => command !== program && command.commands.length === 0);
}
