/** Jest runs TypeScript through SWC (fast, no type-check; `npm run typecheck` does that). */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest'],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 120_000,
  // Integration suites start their own Temporal dev server and simulator; two at once fit this machine.
  maxWorkers: 2,
};
