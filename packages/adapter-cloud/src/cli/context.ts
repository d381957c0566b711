import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { AdminClient } from './admin-client.js';
import { UsageError } from './errors.js';
import { type CliOutput, processOutput } from './output.js';

/** The server the admin commands talk to when neither `--url` nor `OFFSYNC_URL` says. */
export const DEFAULT_URL = 'http://127.0.0.1:8787';

/**
 * The options every command accepts (declared once, on the program).
 *
 * @example
 * ```ts
 * const globals: GlobalOptions = { url: 'http://127.0.0.1:8787', data: './data' };
 * ```
 */
export interface GlobalOptions {
  /** `--url`: the server. */
  readonly url?: string;
  /** `--key`: the admin key. */
  readonly key?: string;
  /** `--data`: the data folder. */
  readonly data?: string;
}

interface Surroundings {
  readonly io: CliOutput;
  readonly env: NodeJS.ProcessEnv;
}

// Commander hands actions their command only: the program's output and environment are found
// through its root, so a program run inside another process (tests, embedding) prints where told.
const surroundings = new WeakMap<Command, Surroundings>();

/**
 * Sets where the commands of `program` print and which environment they read.
 *
 * @example
 * ```ts
 * bindSurroundings(program, processOutput, process.env);
 * ```
 */
export function bindSurroundings(program: Command, io: CliOutput, env: NodeJS.ProcessEnv): void {
  surroundings.set(program, { io, env });
}

/**
 * What a command needs besides its own arguments: the server, the admin key, the data folder and
 * where to print.
 *
 * @example
 * ```ts
 * const context = CliContext.of(command);
 * const databases = await context.admin().request('GET', '/databases');
 * ```
 */
export class CliContext {
  constructor(
    readonly globals: GlobalOptions,
    readonly io: CliOutput = processOutput,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /**
   * The context of a command being run (its options merged with the program's).
   *
   * @example
   * ```ts
   * program.command('status').action((_options, command: Command) => CliContext.of(command));
   * ```
   */
  static of(command: Command): CliContext {
    let root = command;
    while (root.parent) root = root.parent;
    const bound = surroundings.get(root);
    return new CliContext(
      command.optsWithGlobals<GlobalOptions>(),
      bound?.io ?? processOutput,
      bound?.env ?? process.env,
    );
  }

  /** The data folder, absolute (`--data`, default `./data`). */
  get dataDir(): string {
    return resolve(this.globals.data ?? './data');
  }

  /** The server's URL (`--url`, else `$OFFSYNC_URL`, else {@link DEFAULT_URL}). */
  get url(): string {
    return this.globals.url ?? (this.env.OFFSYNC_URL || DEFAULT_URL);
  }

  /** The admin key: `--key`, else `$OFFSYNC_ADMIN_KEY`, else `<data>/admin.key`. */
  adminKey(): string {
    const key = this.globals.key ?? this.env.OFFSYNC_ADMIN_KEY;
    if (key) return key;
    const file = join(this.dataDir, 'admin.key');
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    throw new UsageError(
      `no admin key: pass --key, set OFFSYNC_ADMIN_KEY, or run from the folder holding ${file}`,
    );
  }

  /** A client of the server's admin API with the admin key. */
  admin(): AdminClient {
    return new AdminClient(this.url, this.adminKey());
  }
}

/**
 * Percent-encodes one path segment of an admin route.
 *
 * @example
 * ```ts
 * `/databases/${segment(name)}/tables`;
 * ```
 */
export function segment(text: string): string {
  return encodeURIComponent(text);
}
