/** Jest runs TypeScript through SWC (fast, no type-check; `npm run typecheck` does that). */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest'],
    // ESM-only dependencies (plain Node 20 loads them with require(esm); Jest's module loader cannot).
    'node_modules/(content-disposition|cookie)/.+\\.js$': ['@swc/jest'],
  },
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition|cookie)/)'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 120_000,
  // Integration suites start their own Temporal dev server and simulator; two at once fit this machine.
  maxWorkers: 2,
};
