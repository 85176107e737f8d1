/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Two cores: the Temporal servers are the bottleneck, so files run one at a time.
  maxWorkers: 1,
  testTimeout: 120_000,
  forceExit: false,
};
