/**
 * Load-time checks of the passkey and account-page settings: each pipe they name must exist,
 * and the issue names the file and the JSON pointer.
 */
import { afterEach, expect, it } from '@jest/globals';
import { createApp } from '../../src/app.js';
import { ConfigError, type ConfigIssue } from '../../src/config-kit/issues.js';
import { silentLogger } from '../../src/logger.js';
import { ConfigFixture } from '../support/fixture.js';

const fixtures: ConfigFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});

function issuesOf(edit: (main: any) => void): ConfigIssue[] {
  const f = ConfigFixture.fromDemo();
  fixtures.push(f);
  const main = f.readJson('config/authpipe.json') as any;
  edit(main);
  f.writeMain(main);
  try {
    createApp({ configFile: f.mainFile, logger: silentLogger(), auditStream: { write() {} } });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  throw new Error('the config loaded');
}

it('refuses passkey and account-page pipes that do not exist, naming each pointer', () => {
  const issues = issuesOf((main) => {
    main.oidc.tenants.demo.pools.shoppers.passkeys = {
      sign_in_options: 'passkey-sign-in-options',
      sign_in: 'no-such-sign-in',
      enrol_options: 'passkey-enrol-options',
      enrol: 'passkey-enrol',
    };
    main.oidc.tenants.demo.account.change_password = 'no-such-change';
  });
  expect(issues.map((i) => [i.code, i.pointer, i.file.endsWith('authpipe.json')])).toEqual([
    ['CONFIG_REFERENCE', '/oidc/tenants/demo/account/change_password', true],
    ['CONFIG_REFERENCE', '/oidc/tenants/demo/pools/shoppers/passkeys/sign_in', true],
  ]);
});

it('refuses a passkeys setting without its pipes (schema)', () => {
  const issues = issuesOf((main) => {
    main.oidc.tenants.demo.pools.shoppers.passkeys = { sign_in: 'passkey-sign-in' };
  });
  expect(issues.some((i) => i.pointer.startsWith('/oidc/tenants/demo/pools/shoppers/passkeys'))).toBe(true);
});
