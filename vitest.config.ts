import { createRequire } from 'node:module';
import solid from 'vite-plugin-solid';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS build for Pothos and Yoga; Vite would give
    // our source the .mjs build. Two copies of graphql break instanceof checks
    // ("Cannot use GraphQLObjectType from another module"), so ours gets the same file Node uses.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    // Process-tier tests run real ffmpeg and real agents; two cores in CI.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      // Agent, API, process and browser (e2e) tests, in Node.
      { extends: true, test: { name: 'node', exclude: ['dist/**', 'node_modules/**', 'test/console/**'] } },
      // The console's components, rendered by Solid into happy-dom (a DOM without layout, quick to start).
      {
        plugins: [solid()],
        test: { name: 'console', include: ['test/console/**/*.test.{ts,tsx}'], environment: 'happy-dom', setupFiles: ['test/console/setup.ts'] },
      },
    ],
  },
});
