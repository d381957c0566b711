import { defineConfig } from 'vitest/config';

// Runs only the fixture bindings, on their own, for test/testkit-binding-authors.test.ts.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['test/testkit-fixtures/*.kit.ts'],
    pool: 'forks',
    testTimeout: 120_000,
  },
});
