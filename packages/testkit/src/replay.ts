/**
 * The line a failing conformance test prints: its seed and the command that replays it.
 *
 * @example
 * ```ts
 * replayCommand(42, '/repo/test/driver.test.ts', 'binds a lone BLOB');
 * // 'offsync testkit: seed 42; replay with FC_SEED=42 npx vitest run /repo/test/driver.test.ts -t "binds a lone BLOB"'
 * ```
 */
export function replayCommand(seed: number, file: string, name: string): string {
  const pattern = name.replace(/[\\^$.*+?()[\]{}|"]/g, '\\$&');
  return `offsync testkit: seed ${seed}; replay with FC_SEED=${seed} npx vitest run ${file} -t "${pattern}"`;
}
