/**
 * `npm run test:cluster`: the native production-shaped cluster, with faults injected for real.
 * Long-running by design (minutes per file); CI runs it after `npm test`.
 * @type {import('jest').Config}
 */
// Jest loads CommonJS config files; the base config is one, so it is required, not imported.
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 30 * 60_000,
};
