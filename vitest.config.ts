import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// One root config: unit tests live next to the code (src/**/*.test.ts), cross-process suites under test/.
// In-process imports of our workspaces resolve to their sources; spawned services run from dist (built by pretest).
export default defineConfig({
  resolve: {
    // Exact-match patterns, so '@authmesh/interceptor' does not also capture its subpaths.
    alias: [
      { find: /^@authmesh\/interceptor$/, replacement: src('./packages/interceptor/src/index.ts') },
      {
        find: /^@authmesh\/interceptor\/client$/,
        replacement: src('./packages/interceptor/src/client/index.ts'),
      },
      {
        find: /^@authmesh\/interceptor\/proto$/,
        replacement: src('./packages/interceptor/src/proto/index.ts'),
      },
      { find: /^@authmesh\/client$/, replacement: src('./packages/client/src/index.ts') },
      { find: /^@authmesh\/client\/proto$/, replacement: src('./packages/client/src/proto/index.ts') },
      {
        find: /^@authmesh\/client\/auth-client$/,
        replacement: src('./packages/client/src/auth-client.ts'),
      },
      { find: /^@authmesh\/echo\/proto$/, replacement: src('./services/echo/src/proto.ts') },
      { find: /^@authmesh\/proto$/, replacement: src('./packages/proto/src/index.ts') },
      { find: /^@authmesh\/testing$/, replacement: src('./packages/testing/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    allowOnly: false,
    pool: 'forks',
    // Two files at a time: most suites wait on real processes (nats-server, the auth service, echoes)
    // rather than use a core, and vitest's default on 2 cores is one file at a time (~11 min in all).
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
