/**
 * The part of a vitest config that {@link offsyncTestkitConfig} fills in: structurally a vitest
 * `UserConfig`, so it passes to `mergeConfig` without this package importing `vitest/config`.
 *
 * @example
 * ```ts
 * const { resolve } = offsyncTestkitConfig();
 * resolve.dedupe; // ['vitest', '@fast-check/vitest', 'fast-check']
 * ```
 */
export interface TestkitVitestConfig {
  readonly resolve: { readonly dedupe: string[] };
  readonly test: { readonly server: { readonly deps: { readonly inline: string[] } } };
}

/**
 * Vitest settings for running `@offsync/testkit` from a linked checkout (`npm link`, `file:`,
 * a workspace outside the project). A linked kit resolves `vitest` from ITS OWN `node_modules`,
 * so the test file and the kit talk to two vitests and every `describe` fails with "failed to
 * find the current suite". The fix: vite processes the kit (`server.deps.inline`) and resolves
 * `vitest`, `@fast-check/vitest` and `fast-check` once, from the project (`resolve.dedupe`).
 *
 * @example
 * ```ts
 * // vitest.config.ts of the binding
 * import { offsyncTestkitConfig } from '@offsync/testkit/vitest-config';
 * import { defineConfig, mergeConfig } from 'vitest/config';
 *
 * export default mergeConfig(offsyncTestkitConfig(), defineConfig({ test: { testTimeout: 60_000 } }));
 * ```
 */
export function offsyncTestkitConfig(): TestkitVitestConfig {
  return {
    resolve: { dedupe: ['vitest', '@fast-check/vitest', 'fast-check'] },
    test: { server: { deps: { inline: ['@offsync/testkit'] } } },
  };
}
