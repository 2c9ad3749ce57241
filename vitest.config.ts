import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// One root config: unit tests live next to the code (src/**/*.test.ts), cross-process suites under test/.
// In-process imports of our workspaces resolve to their sources; spawned services run from dist (built by pretest).
export default defineConfig({
  resolve: {
    alias: {
      '@authmesh/interceptor': src('./packages/interceptor/src/index.ts'),
      '@authmesh/proto': src('./packages/proto/src/index.ts'),
      '@authmesh/testing': src('./packages/testing/src/index.ts'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    allowOnly: false,
    pool: 'forks',
  },
});
