import type { Command } from 'commander';
import { CliContext } from '../context.js';
import { printJson, renderTable } from '../output.js';

/**
 * `offsync status`: is the server up, and its databases.
 *
 * @example
 * ```ts
 * registerStatus(program); // offsync status --json
 * ```
 */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show whether the server is up, its uptime and its databases')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const context = CliContext.of(command);
      const admin = context.admin();
      const status = await admin.request<Record<string, unknown>>('GET', '/status');
      const databases = await admin.request<Record<string, unknown>[]>('GET', '/databases');
      if (options.json) {
        printJson(context.io, { url: context.url, ...status, databases });
        return;
      }
      context.io.out(
        `server ${context.url}: up ${Math.round(Number(status.uptimeMs) / 1000)} s, ${databases.length} database(s)\n`,
      );
      if (databases.length > 0)
        context.io.out(
          `${renderTable(databases, ['name', 'syncedTables', 'devices', 'connectedDevices', 'sizeBytes', 'version'])}\n`,
        );
    });
}
