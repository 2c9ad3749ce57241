import { defineConfig } from 'vitest/config';

// One root config: unit tests live next to the code (src/**/*.test.ts), cross-process suites under test/.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    allowOnly: false,
    reporters: ['default'],
    pool: 'forks',
  },
});
