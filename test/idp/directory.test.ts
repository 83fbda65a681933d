import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../src/config/issues.js';
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
  'by-mobile': {
    valves: [{ name: 'idp-lookup', config: { source: 'directory', by: 'mobile', value: '{{request.mobile}}', not_found_code: 'ACCESS_DENIED' } }],
    response: ['id', 'username'],
  },
  'by-email-mapped': {
    valves: [
      {
        name: 'idp-lookup',
        config: { source: 'directory', by: 'email', value: '{{request.email}}', attributes: { sub: 'id', name: 'attributes.givenName', group: 'access_group', missing: 'attributes.nope' } },
      },
    ],
    response: ['sub', 'name', 'group', 'missing', 'username'],
  },
  'by-id': { valves: [{ name: 'idp-lookup', config: { source: 'directory', by: 'id', value: '{{request.id}}' } }], response: ['username', 'totp_secret'] },
};

let fixture: ConfigFixture;
let server: RunningServer;

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  fixture.write('config/directory.json', DIRECTORY);
  for (const [id, pipe] of Object.entries(PIPES)) fixture.writePipe(id, pipe);
  const operations = ['verify-user', ...Object.keys(PIPES)];
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
  it('answers verify-user {"username": "nackastrand"} with the user attributes (seed 004)', async () => {
    const res = await server.call('verify-user', { username: 'nackastrand' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'u-1001', username: 'nackastrand', mobile: '+46701234567', email: 'Nackastrand@Example.org', givenName: 'Nacka', sn: 'Strand' });
  });

  it('never copies the TOTP secret, and the access group only when mapped', async () => {
    expect((await server.call('by-id', { id: 'u-1001' })).body).toEqual({ username: 'nackastrand' });
    expect((await server.call('by-email-mapped', { email: 'nackastrand@example.org' })).body).toEqual({ sub: 'u-1001', name: 'Nacka', group: 'POS' });
  });

  it('looks users up by mobile', async () => {
    expect((await server.call('by-mobile', { mobile: '+46701234567' })).body).toEqual({ id: 'u-1001', username: 'nackastrand' });
  });

  it('gives one refusal for unknown, disabled, empty, hostile and other-tenant users', async () => {
    const refused = async (body: Record<string, string>, tenant = 'demo') => {
      const res = await server.call('verify-user', body, { tenant });
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
    expect((await server.call('verify-user', { username: 'acme-only' }, { tenant: 'acme' })).status).toBe(200);
  });

  it('refuses a missing username before the lookup (input-validate)', async () => {
    const res = await server.call('verify-user', {});
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
      x: { valves: [{ name: 'idp-lookup', config: { source: 'directory', value: '{{request.username}}', attributes: { secret: 'totp_secret' } } }] },
    });
    const store = new MemoryStore(systemClock);
    try {
      loadConfig(fx.mainFile, { registry: createRegistry(), runtime: () => ({ store, clock: systemClock, logger: silentLogger() }), env: {} });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues.map((i) => i.pointer)).toEqual(['/valves/0/config/attributes/secret']);
    } finally {
      fx.cleanup();
    }
  });
});

describe('the shipped verify-user pipe on the demo directory', () => {
  it('answers the seed 004 example body', async () => {
    const demo = ConfigFixture.fromDemo();
    const app = await startServer({ configFile: demo.mainFile });
    try {
      const res = await app.call('verify-user', { username: 'nackastrand' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: 'u-1003',
        username: 'nackastrand',
        mobile: '+15550000003',
        email: 'nackastrand@example.com',
        givenName: 'Nacka',
        sn: 'Strand',
        displayName: 'Nacka Strand',
      });
    } finally {
      await app.close();
      demo.cleanup();
    }
  });
});
