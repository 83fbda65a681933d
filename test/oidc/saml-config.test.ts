/** Load refusals of SAML identity providers (upstream-check.ts): each names the file and the JSON pointer. */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.js';
import { ConfigError, type ConfigIssue } from '../../src/config-kit/issues.js';
import { silentLogger } from '../../src/logger.js';
import { ConfigFixture } from '../support/fixture.js';
import { makeKeyPair, type TestKeyPair } from '../support/simplesamlphp.js';

let keys: string;
let sp: TestKeyPair;
let other: TestKeyPair;
const fixtures: ConfigFixture[] = [];
beforeAll(() => {
  keys = mkdtempSync(join(tmpdir(), 'authpipe-saml-config-'));
  sp = makeKeyPair(keys, 'sp');
  other = makeKeyPair(keys, 'other');
});
afterAll(() => rmSync(keys, { recursive: true, force: true }));
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});

const AT = '/oidc/tenants/demo/saml_upstreams';

async function issuesWith(idp: Record<string, unknown>, extra: (main: any) => void = () => undefined): Promise<ConfigIssue[]> {
  const f = ConfigFixture.fromDemo();
  fixtures.push(f);
  mkdirSync(join(f.dir, 'config', 'saml'));
  for (const [name, text] of [
    ['sp.key', sp.key],
    ['sp.crt', sp.cert],
    ['other.crt', other.cert],
  ] as const)
    writeFileSync(join(f.dir, 'config', 'saml', name), text, { mode: 0o600 });
  const main = JSON.parse(readFileSync(f.mainFile, 'utf8'));
  main.oidc.tenants.demo.saml_upstreams = {
    corp: {
      entity_id: 'urn:test:corp',
      sso_url: 'https://idp.example/sso',
      idp_cert: '${file:saml/other.crt}',
      sp_key: '${file:saml/sp.key}',
      sp_cert: '${file:saml/sp.crt}',
      ...idp,
    },
  };
  main.oidc.tenants.demo.pools.shoppers.steps = [{ operation: 'login-password', upstream: 'corp' }];
  extra(main);
  f.writeMain(main);
  try {
    const app = createApp({ configFile: f.mainFile, logger: silentLogger(), auditStream: { write() {} } });
    await app.close();
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
}

it('loads a SAML identity provider named by a pool step', async () => {
  expect(await issuesWith({})).toEqual([]);
});

it.each<[string, Record<string, unknown>, string]>([
  ['an http SSO URL off loopback', { sso_url: 'http://idp.example/sso' }, `${AT}/corp/sso_url`],
  ['an IdP certificate that is not PEM', { idp_cert: 'not a certificate' }, `${AT}/corp/idp_cert`],
  ['an SP certificate of another key', { sp_cert: '${file:saml/other.crt}' }, `${AT}/corp/sp_cert`],
  ['an SP key that is not a key', { sp_key: 'not a key' }, `${AT}/corp/sp_key`],
  ['an attribute mapped onto upstream_sub', { attributes: { upstream_sub: 'uid' } }, `${AT}/corp/attributes`],
  ['an attribute mapped onto email_verified', { attributes: { email_verified: 'verified' } }, `${AT}/corp/attributes`],
])('refuses %s with CONFIG_INVALID at its pointer', async (_what, idp, pointer) => {
  expect(await issuesWith(idp)).toEqual([
    expect.objectContaining({ code: 'CONFIG_INVALID', pointer, file: expect.stringContaining('authpipe.json') }),
  ]);
});

it('refuses an id that is also an OpenID upstream, and a step naming neither kind', async () => {
  const issues = await issuesWith({}, (main) => {
    main.oidc.tenants.demo.upstreams = { corp: { issuer: 'http://127.0.0.1:4000', client_id: 'x' } };
    main.oidc.tenants.demo.pools.partners.steps[0] = { operation: 'login-password', upstream: 'nobody' };
  });
  expect(issues).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ code: 'CONFIG_INVALID', pointer: `${AT}/corp` }),
      expect.objectContaining({ code: 'CONFIG_REFERENCE', pointer: '/oidc/tenants/demo/pools/partners/steps/0/upstream' }),
    ]),
  );
});
