/**
 * The message of whatever a driver threw (better-sqlite3 throws `SqliteError`s; other bindings
 * may throw anything), for a {@link PolicyError}'s reason.
 *
 * @example
 * ```ts
 * driverMessage(new Error('no such column: x')); // 'no such column: x'
 * ```
 */
export function driverMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
