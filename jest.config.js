/** Every test talks to the real Postgres, Redis and RabbitMQ; run in band on a 2-core machine. */
const swc = ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }];

module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@ticketing/platform$': '<rootDir>/services/platform/src/index.ts',
    '^@ticketing/platform/(.*)$': '<rootDir>/services/platform/src/$1',
  },
  roots: ['<rootDir>/services', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
