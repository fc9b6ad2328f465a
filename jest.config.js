/** Jest runs the TypeScript sources as native ES modules (NestJS 12 ships ESM only). */
const tsJest = ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }];

/** What every tier shares: how TypeScript is loaded and how `@hive/*` and `./x.js` imports resolve. */
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': tsJest },
  moduleNameMapper: {
    '^@hive/(.*)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  setupFiles: ['<rootDir>/test/support/preload-esm.ts'],
};

/**
 * The database the integration and e2e tiers share: set up once per run (Jest runs a project's globalSetup only when
 * that project has tests selected, and the same module once), from the build (`npm test` builds first).
 */
const database = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

/** The test pyramid: `npm test` runs every tier, `npm run test:<tier>` one of them. */
export default {
  testTimeout: 60_000,
  projects: [
    {
      ...common,
      // Pure decisions beside the code: no database, no build.
      displayName: 'unit',
      roots: ['<rootDir>/apps', '<rootDir>/libs'],
      testMatch: ['<rootDir>/apps/**/src/**/*.spec.ts', '<rootDir>/libs/**/src/**/*.spec.ts'],
    },
    {
      ...common,
      ...database,
      // Stores against a real PostgreSQL.
      displayName: 'integration',
      roots: ['<rootDir>/libs'],
      testMatch: ['<rootDir>/libs/**/*.int-spec.ts'],
    },
    {
      ...common,
      ...database,
      // The REST contract, the process, the docs and manifests.
      displayName: 'e2e',
      roots: ['<rootDir>/test'],
      testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
    },
  ],
};
