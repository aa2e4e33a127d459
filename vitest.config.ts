import { defineConfig } from 'vitest/config';

// Tests read each package's TypeScript source through the `dev-source` export
// condition, so `npm test` needs no build first.
export default defineConfig({
  resolve: { conditions: ['dev-source'] },
  ssr: { resolve: { conditions: ['dev-source'], externalConditions: ['dev-source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    setupFiles: ['./test/setup-fast-check.ts'],
  },
});
