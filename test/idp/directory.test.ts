import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../src/config/issues.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import type { Directory, DirectoryUser, UserKey } from '../../src/directory/directory.js';
import { systemClock } from '../../src/engine/clock.js';
import { createCallContext } from '../../src/engine/context.js';
import { propsFrom } from '../../src/engine/props.js';
import { pickResponse, runSteps, StepFailure } from '../../src/engine/runner.js';
import type { Services } from '../../src/engine/services.js';
import { silentLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { createRegistry } from '../../src/valves/index.js';
import { ConfigFixture } from '../support/fixture.js';

/**
 * idp-lookup with source "directory", through the real loader, compiler and runner. The
 * Directory is a small one built here against the contract in src/directory/directory.ts,
 * handed in as a service, as the composition root will once the directory loader lands.
 */
class ListDirectory implements Directory {
  constructor(private readonly users: Record<string, DirectoryUser[]>) {}
  user(tenant: string, by: UserKey, value: string): DirectoryUser | undefined {
    return this.users[tenant]?.find((u) => u[by] === value);
  }
  till() {
    return undefined;
  }
  client() {
    return undefined;
  }
  store() {
    return undefined;
  }
  stores() {
    return [];
  }
}

const NACKASTRAND: DirectoryUser = {
  id: 'u-1001',
  username: 'nackastrand',
  mobile: '+46701234567',
  email: 'nackastrand@example.org',
  status: 'active',
  attributes: { givenName: 'Nacka', sn: 'Strand', id: 'not-the-id' },
  totp_secret: 'JBSWY3DPEHPK3PXP',
  access_group: 'store-staff',
};
const directory = new ListDirectory({
  demo: [NACKASTRAND, { id: 'u-1002', username: 'gone', status: 'disabled', attributes: { givenName: 'Gone' } }],
  acme: [{ id: 'u-2001', username: 'acme-only', status: 'active' }],
});

const PIPES = {
  'verify-user': {
    valves: [{ name: 'idp-lookup', config: { source: 'directory', by: 'username', value: '{{request.username}}', erroneous_properties: ['username'] } }],
    response: ['id', 'username', 'mobile', 'email', 'givenName', 'sn', 'totp_secret', 'access_group'],
  },
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
  'by-id': { valves: [{ name: 'idp-lookup', config: { source: 'directory', by: 'id', value: '{{request.id}}' } }], response: ['username'] },
};

let fixture: ConfigFixture;
let loaded: LoadedConfig;

function load(fx: ConfigFixture, withDirectory: boolean): LoadedConfig {
  const store = new MemoryStore(systemClock);
  const runtime = () => ({ store, clock: systemClock, logger: silentLogger(), ...(withDirectory ? { directory } : {}) }) as Omit<Services, 'configDir' | 'env'>;
  return loadConfig(fx.mainFile, { registry: createRegistry(), runtime, env: {} });
}

async function call(operation: string, body: Record<string, string>, tenant = 'demo'): Promise<{ status: number; body: Record<string, string> | { code: string; erroneousProperties: readonly string[] } }> {
  const pipe = loaded.pipes.get(operation);
  if (!pipe) throw new Error(`no pipe ${operation}`);
  const ctx = createCallContext(
    { requestId: 'r-1', tenant: { id: tenant, displayName: tenant }, operation, body: propsFrom(body), clientIp: '127.0.0.1', headers: {} },
    loaded.services,
    silentLogger(),
  );
  try {
    await runSteps(pipe, ctx);
    return { status: 200, body: pickResponse(pipe, ctx) };
  } catch (err) {
    if (!(err instanceof StepFailure)) throw err;
    return { status: err.error.status, body: { code: err.error.code, erroneousProperties: err.error.erroneousProperties } };
  }
}

beforeAll(() => {
  const operations = Object.keys(PIPES);
  fixture = ConfigFixture.minimal(
    [
      { id: 'demo', allowedOperation: operations },
      { id: 'acme', allowedOperation: operations },
    ],
    PIPES,
  );
  loaded = load(fixture, true);
});
afterAll(() => fixture.cleanup());

describe('idp-lookup source "directory"', () => {
  it('answers verify-user {username} with the user attributes (seed 004 example)', async () => {
    expect(await call('verify-user', { username: 'nackastrand' })).toEqual({
      status: 200,
      body: { id: 'u-1001', username: 'nackastrand', mobile: '+46701234567', email: 'nackastrand@example.org', givenName: 'Nacka', sn: 'Strand' },
    });
  });

  it('never copies the TOTP secret, and the access group only when mapped', async () => {
    const res = await call('verify-user', { username: 'nackastrand' });
    expect(res.body).not.toHaveProperty('totp_secret');
    expect(res.body).not.toHaveProperty('access_group');
    expect((await call('by-email-mapped', { email: 'nackastrand@example.org' })).body).toEqual({ sub: 'u-1001', name: 'Nacka', group: 'store-staff' });
  });

  it('looks users up by mobile and by id', async () => {
    expect((await call('by-mobile', { mobile: '+46701234567' })).body).toEqual({ id: 'u-1001', username: 'nackastrand' });
    expect((await call('by-id', { id: 'u-1001' })).body).toEqual({ username: 'nackastrand' });
  });

  it('gives one refusal for unknown, disabled, empty and other-tenant users', async () => {
    const expected = { status: 403, body: { code: 'INVALID_CREDENTIALS', erroneousProperties: ['username'] } };
    expect(await call('verify-user', { username: 'nobody' })).toEqual(expected);
    expect(await call('verify-user', { username: 'gone' })).toEqual(expected);
    expect(await call('verify-user', { username: '' })).toEqual(expected);
    expect(await call('verify-user', {})).toEqual(expected);
    expect(await call('verify-user', { username: 'acme-only' })).toEqual(expected);
    expect((await call('verify-user', { username: 'acme-only' }, 'acme')).status).toBe(200);
    expect(await call('verify-user', { username: 'nackastrand' }, 'acme')).toEqual(expected);
  });

  it('uses the configured refusal code', async () => {
    expect(await call('by-mobile', { mobile: '+0' })).toEqual({ status: 403, body: { code: 'ACCESS_DENIED', erroneousProperties: [] } });
  });

  it('fails the load, naming the pointer, when no directory is configured', () => {
    try {
      load(fixture, false);
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const issue = (err as ConfigError).issues.find((i) => i.file.endsWith('verify-user.json'));
      expect(issue?.pointer).toBe('/valves/0/config/source');
    }
  });

  it('refuses an unknown user field in the mapping at load', () => {
    const fx = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['x'] }], {
      x: { valves: [{ name: 'idp-lookup', config: { source: 'directory', value: '{{request.username}}', attributes: { secret: 'totp_secret' } } }] },
    });
    try {
      expect(() => load(fx, true)).toThrow(ConfigError);
      try {
        load(fx, true);
      } catch (err) {
        expect((err as ConfigError).issues[0]?.pointer).toBe('/valves/0/config/attributes/secret');
      }
    } finally {
      fx.cleanup();
    }
  });
});
