import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NodeReplica } from '@offsync/adapter-node';
import type { Command } from 'commander';
import { CliContext, segment } from '../context.js';
import { CommandFailure, UsageError } from '../errors.js';
import { printJson } from '../output.js';
import { need } from '../parse.js';

interface BackupOptions {
  readonly out?: string;
  readonly offline?: boolean;
  readonly force?: boolean;
  readonly json?: boolean;
}

/**
 * `offsync backup`: a consistent copy of a database, online (from the running server, through
 * `VACUUM INTO`) or, with `--offline`, straight from the data folder of a stopped server.
 *
 * @example
 * ```ts
 * registerBackup(program); // offsync backup todos --out todos-2026-12-04.db
 * ```
 */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('write a consistent SQLite copy of a database, checked with integrity_check')
    .argument('<db>', 'database name')
    .option('--out <file>', 'where to write the copy; required')
    .option('--offline', 'copy from <data>/databases without a server (a stopped one)')
    .option('--force', 'replace --out if it exists')
    .option('--json', 'print the result as JSON')
    .action(async (database: string, options: BackupOptions, command: Command) => {
      const context = CliContext.of(command);
      const out = resolve(need(options.out, '--out'));
      if (existsSync(out) && !options.force)
        throw new UsageError(`${out} exists; pass --force to replace it`);
      // Written beside the target and renamed once checked: --out is never a half copy.
      const partial = `${out}.partial`;
      rmSync(partial, { force: true });
      try {
        if (options.offline)
          await copyOffline(join(context.dataDir, 'databases', `${database}.db`), partial);
        else await context.admin().download(`/databases/${segment(database)}/backup`, partial);
        const tables = await verify(partial);
        renameSync(partial, out);
        const result = {
          database,
          file: out,
          bytes: statSync(out).size,
          tables,
          integrity: 'ok',
          mode: options.offline ? 'offline' : 'online',
        };
        if (options.json) printJson(context.io, result);
        else
          context.io.out(
            `backed up ${database} to ${out} (${result.bytes} bytes, ${tables} table(s), integrity ok)\n`,
          );
      } finally {
        rmSync(partial, { force: true });
      }
    });
}

async function scratchDatabase(): Promise<NodeReplica> {
  // Imported when the command runs: `offsync --help` and the admin commands start without it.
  const { openReplica } = await import('@offsync/adapter-node');
  return openReplica(':memory:');
}

async function copyOffline(source: string, target: string): Promise<void> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}\.db$/.test(source.replace(/^.*[\\/]/, '')))
    throw new UsageError('not a valid database name (letters, digits, - and _)');
  if (!existsSync(source)) throw new CommandFailure(`no database file ${source}`);
  const scratch = await scratchDatabase();
  try {
    // VACUUM INTO reads one snapshot of the attached file (a running server's writes wait or
    // land after it), so the copy is consistent even if the server was not stopped after all.
    scratch.db.prepare('ATTACH ? AS offsync_source').run(source);
    scratch.db.prepare('VACUUM offsync_source INTO ?').run(target);
  } finally {
    scratch.close();
  }
}

/** Opens the copy and runs `PRAGMA integrity_check`; returns how many tables it holds. */
async function verify(file: string): Promise<number> {
  const scratch = await scratchDatabase();
  try {
    // Attached rather than opened as a replica, which would switch the copy to WAL mode.
    scratch.db.prepare('ATTACH ? AS offsync_copy').run(file);
    const check = scratch.db.prepare('PRAGMA offsync_copy.integrity_check').pluck().all();
    if (check.length !== 1 || check[0] !== 'ok')
      throw new CommandFailure(`the copy failed its integrity check: ${check.join('; ')}`);
    return Number(
      scratch.db
        .prepare("SELECT count(*) FROM offsync_copy.sqlite_schema WHERE type = 'table'")
        .pluck()
        .get(),
    );
  } catch (error) {
    if (error instanceof CommandFailure) throw error;
    throw new CommandFailure(
      `the copy does not open as SQLite: ${error instanceof Error ? error.message : String(error)}`,
    );
  } finally {
    scratch.close();
  }
}
