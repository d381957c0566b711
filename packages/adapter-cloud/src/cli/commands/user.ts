import type { Command } from 'commander';
import { CliContext, segment } from '../context.js';
import { isoTime, printJson } from '../output.js';

/**
 * `offsync user revoke`: ends every session of a user and refuses their older tokens.
 *
 * @example
 * ```ts
 * registerUser(program); // offsync user revoke todos alice
 * ```
 */
export function registerUser(program: Command): void {
  const user = program.command('user').description('the users of a database');
  user
    .command('revoke')
    .description("close a user's sessions and refuse every token issued before now")
    .argument('<db>', 'database name')
    .argument('<user>', "the user (the tokens' sub)")
    .option('--json', 'print the result as JSON')
    .action(
      async (database: string, sub: string, options: { json?: boolean }, command: Command) => {
        const context = CliContext.of(command);
        const result = await context
          .admin()
          .request<{ user: string; closedSessions: number; revokedBefore: number }>(
            'POST',
            `/databases/${segment(database)}/users/${segment(sub)}/revoke`,
          );
        if (options.json) printJson(context.io, result);
        else
          context.io.out(
            `revoked user ${sub} of ${database}: ${result.closedSessions} session(s) closed, tokens issued before ${isoTime(result.revokedBefore)} refused\n`,
          );
      },
    );
}
