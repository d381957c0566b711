import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliContext } from '../context.js';
import { decodePayload, describePayload } from '../inspect.js';
import { printJson } from '../output.js';

/**
 * `offsync inspect`: decodes a changeset or sync message file.
 *
 * @example
 * ```ts
 * registerInspect(program); // offsync inspect push.bin --json
 * ```
 */
export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('decode a changeset or sync message file, change by change')
    .argument('<payload-file>', 'the bytes to decode')
    .option('--json', 'print JSON (values in SQL literal form, 64-bit integers exact)')
    .action((file: string, options: { json?: boolean }, command: Command) => {
      const context = CliContext.of(command);
      const payload = decodePayload(new Uint8Array(readFileSync(file)));
      if (options.json) printJson(context.io, payload);
      else context.io.out(`${describePayload(payload).join('\n')}\n`);
    });
}
