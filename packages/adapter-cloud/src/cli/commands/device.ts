import type { Command } from 'commander';
import { CliContext, segment } from '../context.js';
import { addDatabaseList } from '../list-command.js';
import { isoTime, printJson } from '../output.js';

interface DeviceRow {
  readonly site: string;
  readonly user: string;
  readonly lastSeen: number;
  readonly lastSync?: number;
  readonly connected: boolean;
  readonly revokedAt?: number;
}

/**
 * `offsync device list|revoke`: the devices (replicas) of a database.
 *
 * @example
 * ```ts
 * registerDevice(program); // offsync device revoke todos 0123456789abcdef0123456789abcdef
 * ```
 */
export function registerDevice(program: Command): void {
  const device = program.command('device').description('the devices of a database');
  addDatabaseList<DeviceRow>(device, {
    description: 'list the devices of a database, most recently seen first',
    resource: 'devices',
    columns: ['site', 'user', 'connected', 'lastSeen', 'lastSync', 'acked', 'pending', 'revokedAt'],
    show: (row) => ({
      ...row,
      connected: row.connected ? 'yes' : 'no',
      lastSeen: isoTime(row.lastSeen),
      lastSync: isoTime(row.lastSync),
      revokedAt: isoTime(row.revokedAt),
    }),
  });
  device
    .command('revoke')
    .description('revoke a device: its sessions close and it is refused from now on')
    .argument('<db>', 'database name')
    .argument('<site>', 'the device site id, from device list')
    .option('--json', 'print the result as JSON')
    .action(
      async (database: string, site: string, options: { json?: boolean }, command: Command) => {
        const context = CliContext.of(command);
        const result = await context
          .admin()
          .request<{ revoked: string; closedSessions: number }>(
            'DELETE',
            `/databases/${segment(database)}/devices/${segment(site)}`,
          );
        if (options.json) printJson(context.io, result);
        else
          context.io.out(
            `revoked device ${site} of ${database}: ${result.closedSessions} session(s) closed\n`,
          );
      },
    );
}
