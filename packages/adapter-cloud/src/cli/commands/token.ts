import { join } from 'node:path';
import type { Command } from 'commander';
import { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { collect, need, parseClaims } from '../parse.js';

interface IssueOptions {
  readonly sub?: string;
  readonly db?: string;
  readonly ttl: string;
  readonly claim: readonly string[];
  readonly aud: readonly string[];
  readonly iss?: string;
}

/**
 * `offsync token issue`: a development user token signed with the server's HS256 secret.
 *
 * @example
 * ```ts
 * registerToken(program); // offsync token issue --sub alice --db todos --claim tenant=acme
 * ```
 */
export function registerToken(program: Command): void {
  const token = program.command('token').description('development user tokens');
  token
    .command('issue')
    .description("sign a user token with <data>/server.json's hs256Secret, bound to one database")
    .option('--sub <user>', 'the user (sub claim); required')
    .option('--db <name>', 'the database it is good for (aud offsync:<name>); required')
    .option('--ttl <duration>', 'lifetime: 90s, 15m, 1h, 7d', '1h')
    .option('--claim <key=value>', 'an extra claim for policies (repeatable)', collect, [])
    .option(
      '--aud <audience>',
      'a further aud value, for a server that checks one (repeatable)',
      collect,
      [],
    )
    .option('--iss <issuer>', 'the iss claim, for a server that checks one')
    .action(async (options: IssueOptions, command: Command) => {
      const context = CliContext.of(command);
      const sub = need(options.sub, '--sub');
      const database = need(options.db, '--db');
      // Imported when the command runs: `offsync --help` and the admin commands start without it.
      const [{ databaseAudience, issueDevToken, parseTtl }, { loadServerConfig }] =
        await Promise.all([import('../../auth/index.js'), import('../../server/server-config.js')]);
      const secret = loadServerConfig(context.dataDir).jwt.hs256Secret;
      if (!secret)
        throw new UsageError(
          `${join(context.dataDir, 'server.json')} has no hs256Secret to sign development tokens with`,
        );
      context.io.out(
        `${await issueDevToken({
          secret,
          sub,
          ttlSeconds: parseTtl(options.ttl),
          claims: parseClaims(options.claim),
          // Bound to one database: the same token is refused on every other database.
          audience:
            options.aud.length === 0
              ? databaseAudience(database)
              : [databaseAudience(database), ...options.aud],
          ...(options.iss === undefined ? {} : { issuer: options.iss }),
        })}\n`,
      );
    });
}
