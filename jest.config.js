/** @type {import('jest').Config} */
module.exports = {
  // Node's environment, failing a file that leaves a Temporal worker running (a leak would
  // otherwise keep Jest from exiting): test/helpers/leak-environment.js.
  testEnvironment: '<rootDir>/test/helpers/leak-environment.js',
  setupFilesAfterEnv: ['<rootDir>/test/helpers/worker-registry.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' } }],
    // openid-client and its dependencies ship ES modules only; Jest on Node 20 loads CommonJS.
    '/node_modules/(openid-client|oauth4webapi|jose)/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(openid-client|oauth4webapi|jose)/)'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // The fault-injection suite runs a whole cluster for minutes: `npm run test:cluster`.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/'],
  // Two cores: the Temporal servers are the bottleneck, so files run one at a time.
  maxWorkers: 1,
  testTimeout: 120_000,
  // A leaked worker fails its file (above); forceExit then keeps what is left of it (a native
  // handle still closing) from holding the run open past its results.
  forceExit: true,
  // Under npm test (HAZARD_CHECK=1), fails the run if a test the hazard log names did not pass.
  reporters: ['default', '<rootDir>/test/safety/hazard-reporter.js'],
};
