import { OffsyncError } from '@offsync/core';

/**
 * A usage mistake on the command line: the command exits with code 2 and a usage hint.
 *
 * @example
 * ```ts
 * if (!file) throw new UsageError('missing --file');
 * ```
 */
export class UsageError extends OffsyncError {
  readonly type = 'UsageError';
}

/**
 * A command that ran and failed for a reason the user can act on (exit code 1), without the
 * error machinery behind it.
 *
 * @example
 * ```ts
 * throw new CommandFailure('the backup failed its integrity check');
 * ```
 */
export class CommandFailure extends OffsyncError {
  readonly type = 'CommandFailure';
}
