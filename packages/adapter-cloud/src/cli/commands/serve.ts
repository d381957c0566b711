import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, Option } from 'commander';
import { LOG_LEVELS, type LogLevel } from '../../server/observability/logger.js';
import { CliContext } from '../context.js';
import { wholeNumber } from '../parse.js';

interface ServeOptions {
  readonly port?: string;
  readonly host?: string;
  readonly adminKey?: string;
  readonly clockLeeway?: string;
  readonly logLevel?: LogLevel;
}

/**
 * `offsync serve`: runs the sync server until SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * registerServe(program); // offsync serve --data ./data --port 8787
 * ```
 */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the sync server (HTTP, WebSocket, admin API, dashboard) until stopped')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8787')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--admin-key <key>', 'an admin key to accept (else one is generated on first start)')
    .option('--clock-leeway <seconds>', 'leeway for token exp/nbf checks (default 30)')
    .addOption(
      new Option(
        '--log-level <level>',
        'lowest log level written (default: server.json log.level, else info)',
      ).choices(LOG_LEVELS),
    )
    .action(async (options: ServeOptions, command: Command) => {
      // Imported when the command runs: `offsync --help` and the admin commands start without it.
      const { startServer } = await import('../../server/server.js');
      const context = CliContext.of(command);
      const dataDir = context.dataDir;
      const dashboardDir = join(
        fileURLToPath(new URL('.', import.meta.url)),
        '..',
        '..',
        '..',
        'dashboard-dist',
      );
      const leeway = options.clockLeeway;
      const server = await startServer({
        dataDir,
        port: wholeNumber(options.port ?? '8787', '--port', 65_535),
        host: options.host ?? '127.0.0.1',
        ...(options.adminKey ? { adminKey: options.adminKey } : {}),
        ...(leeway === undefined
          ? {}
          : { clockLeewaySeconds: wholeNumber(leeway, '--clock-leeway', 86_400) }),
        ...(existsSync(dashboardDir) ? { dashboardDir } : {}),
        ...(options.logLevel ? { logLevel: options.logLevel } : {}),
      });
      const { io } = context;
      if (server.generatedAdminKey) {
        // Shown before it is saved: if saving fails, the key is still in the output, never lost.
        const file = join(dataDir, 'admin.key');
        io.out(`admin key (saved to ${file}): ${server.generatedAdminKey}\n`);
        try {
          writeFileSync(file, `${server.generatedAdminKey}\n`, { mode: 0o600 });
          chmodSync(file, 0o600);
        } catch (error) {
          io.err(
            `offsync: could not save the admin key to ${file} (${error instanceof Error ? error.message : String(error)}); keep the key shown above\n`,
          );
        }
      }
      io.out(`offsync serving ${dataDir} on ${server.url} (dashboard: ${server.url}/dashboard/)\n`);
      const stop = (): void => {
        io.out('offsync: shutting down\n');
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
