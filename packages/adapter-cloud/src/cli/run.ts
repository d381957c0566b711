import { type Command, CommanderError } from 'commander';
import { AdminApiError } from './admin-client.js';
import { UsageError } from './errors.js';
import { type CliOutput, processOutput } from './output.js';
import { commandPath, createProgram } from './program.js';

/**
 * Runs the `offsync` command line and returns its exit code: 0 ok, 1 failure, 2 usage. Never
 * throws and never prints a stack trace, unless `OFFSYNC_DEBUG=1` asks for the stack of an
 * unexpected error.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2));
 * ```
 */
export async function runCli(
  argv: readonly string[],
  io: CliOutput = processOutput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const program = createProgram(io, env);
  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  // `offsync help db delete` is `offsync db delete --help`: commander's help command only
  // looks one level down.
  const args = argv[0] === 'help' && argv.length > 1 ? [...argv.slice(1), '--help'] : [...argv];
  let active: Command = program;
  program.hook('preAction', (_program, command) => {
    active = command;
  });
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (error) {
    return report(error, active, io, env);
  }
}

/**
 * Prints a failure as one line (plus a usage hint for usage mistakes) and picks the exit code.
 *
 * @example
 * ```ts
 * const code = report(new UsageError('missing --db'), command, processOutput, process.env); // 2
 * ```
 */
export function report(
  error: unknown,
  command: Command,
  io: CliOutput,
  env: NodeJS.ProcessEnv,
): number {
  // Commander printed its own message (or the help) already.
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof UsageError) {
    io.err(
      `offsync: ${oneLine(error.message)}\n(run "${commandPath(command)} --help" for usage)\n`,
    );
    return 2;
  }
  if (error instanceof AdminApiError) {
    io.err(`offsync: ${error.code}: ${oneLine(error.message)} (HTTP ${error.status})\n`);
    return 1;
  }
  io.err(`offsync: ${oneLine(error instanceof Error ? error.message : String(error))}\n`);
  if (env.OFFSYNC_DEBUG === '1' && error instanceof Error && error.stack)
    io.err(`${error.stack}\n`);
  return 1;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
