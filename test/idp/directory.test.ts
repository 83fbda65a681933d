import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../src/config-kit/issues.js';
import { loadConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/engine/clock.js';
import { silentLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { createRegistry } from '../../src/valves/index.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';

/**
 * idp-lookup with source "directory", end to end: the shipped verify-user pipe and a few
 * more, over real HTTP, against a directory file loaded by the real loader.
 */
const TOTP = 'JBSWY3DPEHPK3PXPJBSWY3DP';
const DIRECTORY = {
  tenants: {
    demo: {
      stores: [{ id: 's1', name: 'Store', access_group: 'POS' }],
      users: [
        {
          id: 'u-1001',
          username: 'nackastrand',
          mobile: '+46701234567',
          email: 'Nackastrand@Example.org',
          attributes: { givenName: 'Nacka', sn: 'Strand', id: 'not-the-id' },
          totp_secret: '${env:TEST_TOTP}',
          access_group: 'POS',
        },
        { id: 'u-1002', username: 'gone', status: 'disabled', attributes: { givenName: 'Gone' } },
      ],
    },
    acme: { users: [{ id: 'u-2001', username: 'acme-only' }] },
  },
};

const PIPES = {
  // The lookup of the shipped verify-user pipe, without its caller authentication (tested below).
  'lookup-user': {
    valves: [
      { name: 'input-validate', config: { properties: { username: { required: true, max_length: 128 } } } },
      {
        name: 'idp-lookup',
        config: { source: 'directory', by: 'username', value: '{{request.username}}', erroneous_properties: ['username'] },
      },
    ],
    response: ['id', 'username', 'mobile', 'email', 'givenName', 'sn', 'displayName'],
  },
  'by-mobile': {
    valves: [
      { name: 'idp-lookup', config: { source: 'directory', by: 'mobile', value: '{{request.mobile}}', not_found_code: 'ACCESS_DENIED' } },
    ],
    response: ['id', 'username'],
  },
  'by-email-mapped': {
    valves: [
      {
        name: 'idp-lookup',
        config: {
          source: 'directory',
          by: 'email',
          value: '{{request.email}}',
          attributes: { sub: 'id', name: 'attributes.givenName', group: 'access_group', missing: 'attributes.nope' },
        },
      },
    ],
    response: ['sub', 'name', 'group', 'missing'],
  },
  'by-id': {
    valves: [{ name: 'idp-lookup', config: { source: 'directory', by: 'id', value: '{{request.id}}' } }],
    response: ['username', 'totp_secret'],
  },
};

let fixture: ConfigFixture;
let server: RunningServer;

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  fixture.write('config/directory.json', DIRECTORY);
  for (const [id, pipe] of Object.entries(PIPES)) fixture.writePipe(id, pipe);
  const operations = Object.keys(PIPES);
  // The demo main file, with this suite's operations allowed for both tenants.
  const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
  for (const tenant of main.modules[0].config.tenant) tenant.allowedOperation = operations;
  main.log = { level: 'silent' };
  fixture.writeMain(main);
  server = await startServer({ configFile: fixture.mainFile, env: { ...process.env, PORT: '0', HOST: '127.0.0.1', TEST_TOTP: TOTP } });
});
afterAll(async () => {
  await server?.close();
  fixture?.cleanup();
});

describe('idp-lookup source "directory"', () => {
  it('answers {"username": "nackastrand"} with the user attributes', async () => {
    const res = await server.call('lookup-user', { username: 'nackastrand' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: 'u-1001',
      username: 'nackastrand',
      mobile: '+46701234567',
      email: 'Nackastrand@Example.org',
      givenName: 'Nacka',
      sn: 'Strand',
    });
  });

  it('never copies the TOTP secret, and the access group only when mapped', async () => {
    expect((await server.call('by-id', { id: 'u-1001' })).body).toEqual({ username: 'nackastrand' });
    expect((await server.call('by-email-mapped', { email: 'nackastrand@example.org' })).body).toEqual({
      sub: 'u-1001',
      name: 'Nacka',
      group: 'POS',
    });
  });

  it('looks users up by mobile', async () => {
    expect((await server.call('by-mobile', { mobile: '+46701234567' })).body).toEqual({ id: 'u-1001', username: 'nackastrand' });
  });

  it('gives one refusal for unknown, disabled, empty, hostile and other-tenant users', async () => {
    const refused = async (body: Record<string, string>, tenant = 'demo') => {
      const res = await server.call('lookup-user', body, { tenant });
      expect(res.status).toBe(403);
      expect(res.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
      expect(res.body.erroneousProperties).toEqual(['username']);
    };
    await refused({ username: 'nobody' });
    await refused({ username: 'gone' });
    await refused({ username: 'acme-only' });
    await refused({ username: 'nackastrand' }, 'acme');
    await refused({ username: '__proto__' });
    await refused({ username: 'constructor' });
    await refused({ username: '*' });
    expect((await server.call('lookup-user', { username: 'acme-only' }, { tenant: 'acme' })).status).toBe(200);
  });

  it('refuses a missing username before the lookup (input-validate)', async () => {
    const res = await server.call('lookup-user', {});
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_REQUEST']);
  });

  it('uses the configured refusal code', async () => {
    const res = await server.call('by-mobile', { mobile: '+0' });
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['ACCESS_DENIED']);
  });

  it('refuses an unknown user field (the TOTP secret) in the mapping at load', () => {
    const fx = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['x'] }], {
      x: {
        valves: [
          { name: 'idp-lookup', config: { source: 'directory', value: '{{request.username}}', attributes: { secret: 'totp_secret' } } },
        ],
      },
    });
    const store = new MemoryStore(systemClock);
    try {
      loadConfig(fx.mainFile, {
        registry: createRegistry(),
        runtime: () => ({ store, clock: systemClock, logger: silentLogger() }),
        env: {},
      });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues.map((i) => i.pointer)).toEqual(['/valves/0/config/attributes/secret']);
    } finally {
      fx.cleanup();
    }
  });
});

describe('the shipped verify-user pipe on the demo directory: personal data for authenticated API clients only', () => {
  let demo: ConfigFixture;
  let app: RunningServer;
  const SEED_004 = {
    id: 'u-1003',
    username: 'nackastrand',
    mobile: '+15550000003',
    email: 'nackastrand@example.com',
    givenName: 'Nacka',
    sn: 'Strand',
    displayName: 'Nacka Strand',
  };
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const CLIENT = basic('pos-server-1', 'pos-server-1-secret');
  beforeAll(async () => {
    demo = ConfigFixture.fromDemo();
    app = await startServer({ configFile: demo.mainFile });
  });
  afterAll(async () => {
    await app?.close();
    demo?.cleanup();
  });

  it("refuses an anonymous caller, a wrong secret, a till and a till's token", async () => {
    const refused = async (headers: Record<string, string>, code: string) => {
      const res = await app.call('verify-user', { username: 'nackastrand' }, headers);
      expect(res.status).toBe(403);
      expect(res.body.errorTranslationKeys).toEqual([code]);
      expect(JSON.stringify(res.body)).not.toMatch(/u-1003|5550000003/);
    };
    await refused({}, 'INVALID_CREDENTIALS');
    await refused({ authorization: basic('pos-server-1', 'wrong') }, 'INVALID_CREDENTIALS');
    await refused({ authorization: basic('till-001', 'till-001-pass') }, 'INVALID_CREDENTIALS');
    await refused({ authorization: 'Bearer not-a-token' }, 'INVALID_REQUEST'); // then read as a malformed Basic header
    const till = await app.call('till-login', {}, { authorization: basic('till-001', 'till-001-pass') });
    await refused({ authorization: `Bearer ${till.body.access_token}` }, 'ACCESS_DENIED');
  });

  it('answers the user attributes body to an API client, by Basic or by its bearer token', async () => {
    expect((await app.call('verify-user', { username: 'nackastrand' }, { authorization: CLIENT })).body).toEqual(SEED_004);
    const login = await app.call('client-login', {}, { authorization: basic('admin-console', 'admin-console-secret') });
    const res = await app.call('verify-user', { username: 'nackastrand' }, { authorization: `Bearer ${login.body.access_token}` });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(SEED_004);
  });

  it('is rate-limited per client: 30 lookups a minute', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++)
      statuses.push((await app.call('verify-user', { username: 'nackastrand' }, { authorization: CLIENT })).status);
    // One lookup was made by the test above.
    expect(statuses.filter((s) => s === 200)).toHaveLength(29);
    const limited = await app.call('verify-user', { username: 'nackastrand' }, { authorization: CLIENT });
    expect(limited.body.errorTranslationKeys).toEqual(['RATE_LIMITED']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
