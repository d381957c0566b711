/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` until it holds; fails after `timeoutMs` with `message()` (the state that did not
 * converge), so a stuck wait names what it waited for instead of hitting the test timeout.
 *
 * @example
 * ```ts
 * await waitUntil(() => client.status.state === 'synced', { timeoutMs: 5_000, message: () => 'not synced' });
 * ```
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  options: {
    readonly timeoutMs: number;
    readonly intervalMs?: number;
    readonly message: () => string;
  },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${options.timeoutMs} ms: ${options.message()}`);
    await sleep(options.intervalMs ?? 20);
  }
}
