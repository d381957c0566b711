import { defineConfig } from 'vitest/config';

// A soak run (`FC_RUNS=100000 npm test`) runs 100 times the properties: give each test the time.
const soak = Number(process.env.FC_RUNS ?? 1000) > 1000;

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'bench/src/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    pool: 'forks',
    testTimeout: soak ? 6 * 60 * 60 * 1000 : 120_000,
    hookTimeout: 120_000,
  },
});
