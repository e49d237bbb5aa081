/** Native-ESM Jest with swc (see docs/testing.md). */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const CJS_FROM_ESM = ['hexy', 'cookie'];

export default {
  rootDir: '.',
  testEnvironment: '<rootDir>/test/harness/jest-environment.cjs',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': swc,
    // CommonJS packages that `require()` an ESM-only dependency: compile those to CommonJS.
    [`^.+/node_modules/(${CJS_FROM_ESM.join('|')})/.+\\.js$`]: ['@swc/jest', { module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${CJS_FROM_ESM.join('|')})/)`],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^content-disposition$': '<rootDir>/test/harness/content-disposition.cjs',
    // Plugins and their tests use the SDK from source (no build needed to run them).
    '^@switchboard/plugin-sdk$': '<rootDir>/../plugins/sdk/src/index.ts',
    '^@switchboard/plugin-sdk/testing$': '<rootDir>/../plugins/sdk/src/testing.ts',
  },
  roots: ['<rootDir>', '<rootDir>/../plugins'],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts', '<rootDir>/../plugins/*/test/**/*.spec.ts'],
  globalSetup: '<rootDir>/test/harness/global-setup.mjs',
  globalTeardown: '<rootDir>/test/harness/global-teardown.mjs',
  testTimeout: 60_000,
  maxWorkers: 2,
};
