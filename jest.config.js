/**
 * Jest runs the TypeScript sources as native ESM (jose 6 ships ESM only), in three tiers:
 * - unit: no servers (no Redis, slapd, browser, child process or listening port; one
 *   hash-thread test's `chrt` aside), under 60 s:
 *   `npm run test:unit`, two files at a time (`--maxWorkers=2`; jest's default on 2 cores is
 *   one): what a unit file compares it measures in CPU time, which a neighbour does not move;
 * - integration: real servers on free ports (Redis, slapd, Chromium, HTTP listeners), two files
 *   at a time (`--maxWorkers=2` in package.json: jest's default on 2 cores is one worker, and
 *   these files spend much of their time waiting on sockets, timers and child processes);
 * - serial: timing and cluster tests, one file at a time so they do not disturb each other.
 * `npm test` runs typecheck, build and all three. A new test file is integration unless it is
 * listed here as unit or serial.
 */
const UNIT = [
  'access-groups/load',
  'access-groups/persist',
  'cli/hash-password',
  'cli/validate',
  'cli/run',
  'cli/serve',
  'cli/totp',
  'config/.*',
  'credentials/basic-header',
  'credentials/hash',
  'credentials/hash-threads',
  'credentials/lockout',
  'credentials/presented',
  'credentials/verified-cache',
  'directory/.*',
  'docs/error-codes',
  'docs/links',
  'docs/src-map',
  'engine/condition',
  'engine/json-text',
  'engine/template',
  'http/flat-json',
  'idp/ldap-config',
  'idp/ldap-filter',
  'observe/aggregate-metrics',
  'observe/fixed-line',
  'observe/hot-metrics',
  'observe/log-destination',
  'observe/pretty-lines',
  'admin/console-api-types',
  'otp/delivery',
  'otp/hotp',
  'store/memory',
  'store/settings',
  'tokens/low-s',
  'unit/.*',
  'valves/risk',
];
const SERIAL = [
  'valves/basic-auth-timing',
  'valves/basic-auth-calibration',
  'valves/check-budget',
  'valves/otp-timing',
  'cli/workers',
  'store/fail-closed',
  'oidc/pool-timing',
  'oidc/client-auth-timing',
];

const pattern = (names) => `/test/(${names.join('|')})\\.test\\.ts$`;

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  // Worker threads a test file started go with it (see the file).
  setupFilesAfterEnv: ['<rootDir>/test/support/thread-teardown.ts'],
};

export default {
  testTimeout: 20000,
  // Node keeps every vm.SourceTextModule, and so every test file's copy of every module, for
  // the life of the process (nodejs/node#59118): a heap snapshot after four files showed each
  // copy's module-level objects held from Node's global handles through ModuleWrap, not by any
  // code of ours. The jest workers reached 2.5 GB by the end of the integration tier, and one
  // CI run stalled there. A worker whose heap passes this after a file is replaced.
  workerIdleMemoryLimit: '1GB',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testRegex: [pattern(UNIT)] },
    { ...common, displayName: 'serial', testRegex: [pattern(SERIAL)] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: [pattern(UNIT), pattern(SERIAL)],
    },
  ],
};
