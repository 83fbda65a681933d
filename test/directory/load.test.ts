import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigError, type ConfigIssue } from '../../src/config-kit/issues.js';
import { loadConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/engine/clock.js';
import { silentLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { createRegistry } from '../../src/valves/index.js';
import { buildDirectory, EmbeddedDirectory } from '../../src/directory/load.js';
import { costProfile } from '../../src/credentials/phc.js';
import { ConfigFixture } from '../support/fixture.js';

const SCRYPT = '$scrypt$ln=15,r=8,p=1$m5MNta6pbYubY/L+n8a5QA$oFlieKJVewTYvpEdKItZQ8pFt+4Fefw7qeqJJCYYixw';
const BCRYPT = '$2b$10$5fSXIDedAv.UJ2RznUVBlONhHKOsCRH5bh5ZoRyRp1YwxzAP98UYS';

const fixtures: ConfigFixture[] = [];
const stores: MemoryStore[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
  for (const s of stores.splice(0)) void s.close();
});

function load(fixture: ConfigFixture) {
  fixtures.push(fixture);
  const store = new MemoryStore(systemClock);
  stores.push(store);
  return loadConfig(fixture.mainFile, {
    registry: createRegistry(),
    runtime: () => ({ store, clock: systemClock, logger: silentLogger() }),
    env: {},
  });
}

function issuesOf(fixture: ConfigFixture): readonly ConfigIssue[] {
  try {
    load(fixture);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected the load to fail');
}

function build(tenants: unknown): { issues: ConfigIssue[]; directory: EmbeddedDirectory } {
  const issues: ConfigIssue[] = [];
  return { issues, directory: buildDirectory({ tenants }, 'directory.json', issues) };
}

describe('the shipped directory', () => {
  it('loads with the demo tills, client, users and stores, each tenant apart', () => {
    const { directory } = load(ConfigFixture.fromDemo()).services;
    expect(directory.till('demo', 'till-001')).toMatchObject({ username: 'till-001', store: 'store-01', status: 'active' });
    expect(directory.till('demo', 'till-009')?.status).toBe('disabled');
    expect(directory.client('demo', 'pos-server-1')).toMatchObject({ client_id: 'pos-server-1', status: 'active' });
    expect(directory.store('demo', 'store-01')?.access_group).toBe('POS');
    expect(directory.stores('demo').map((s) => s.id)).toEqual(['store-01', 'store-02']);
    expect(directory.user('demo', 'username', 'alice')).toMatchObject({
      id: 'u-1001',
      mobile: '+15550000001',
      attributes: { givenName: 'Alice' },
    });
    expect(directory.user('demo', 'mobile', '+15550000002')?.id).toBe('u-1002');
    expect(directory.user('demo', 'email', 'Bob@Example.com')?.id).toBe('u-1002');
    expect(directory.user('demo', 'id', 'u-1001')?.username).toBe('alice');
    // Tenants are apart.
    expect(directory.till('acme', 'till-001')).toBeUndefined();
    expect(directory.till('demo', 'acme-till-1')).toBeUndefined();
    expect(directory.till('acme', 'acme-till-1')?.store).toBe('acme-store-1');
    expect(directory.till('nobody', 'till-001')).toBeUndefined();
    expect(directory.stores('nobody')).toEqual([]);
  });

  it('hands out frozen entries', () => {
    const { directory } = load(ConfigFixture.fromDemo()).services;
    const till = directory.till('demo', 'till-001') as { status: string };
    expect(() => {
      till.status = 'disabled';
    }).toThrow(TypeError);
    expect(directory.till('demo', 'till-001')?.status).toBe('active');
  });

  it('does not fall through to Object.prototype', () => {
    const { directory } = load(ConfigFixture.fromDemo()).services;
    expect(directory.till('demo', '__proto__')).toBeUndefined();
    expect(directory.till('__proto__', 'toString')).toBeUndefined();
    expect(directory.user('demo', 'id', 'constructor')).toBeUndefined();
    expect(directory.user('demo', 'constructor' as 'id', 'alice')).toBeUndefined();
  });

  it('is empty when the main file names none', () => {
    const fixture = ConfigFixture.fromDemo();
    const main = JSON.parse(JSON.stringify(load(fixture).main)) as Record<string, unknown>;
    delete main.directory;
    fixture.writeMain(main);
    expect(load(fixture).services.directory.till('demo', 'till-001')).toBeUndefined();
  });
});

describe('directory errors name the file and the pointer', () => {
  it('a till whose store does not exist', () => {
    const { issues } = build({
      demo: { stores: [{ id: 's1', name: 'S' }], tills: [{ username: 't', password_hash: SCRYPT, store: 's2' }] },
    });
    expect(issues).toEqual([
      {
        file: 'directory.json',
        pointer: '/tenants/demo/tills/0/store',
        code: 'CONFIG_REFERENCE',
        message: expect.stringMatching(/store "s2" does not exist.*s1/),
      },
    ]);
  });

  it("a store manager who is not a user of the store's tenant", () => {
    const { issues, directory } = build({
      demo: {
        stores: [
          { id: 's1', name: 'S', manager: 'u-1' },
          { id: 's2', name: 'T', manager: 'u-9' },
        ],
        users: [{ id: 'u-1', mobile: '+15550000001' }],
      },
      acme: { users: [{ id: 'u-9' }] },
    });
    expect(issues).toEqual([
      {
        file: 'directory.json',
        pointer: '/tenants/demo/stores/1/manager',
        code: 'CONFIG_REFERENCE',
        message: expect.stringContaining('user "u-9" does not exist in tenant "demo"'),
      },
    ]);
    expect(directory.store('demo', 's1')?.manager).toBe('u-1');
  });

  it('a bad PHC hash, a plain password and argon2i', () => {
    const { issues } = build({
      demo: {
        stores: [{ id: 's', name: 'S' }],
        tills: [
          { username: 'a', password_hash: '$scrypt$ln=15,r=8,p=1$bad', store: 's' },
          { username: 'b', password_hash: '$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', store: 's' },
        ],
        clients: [{ client_id: 'c', secret_hash: 'plain-secret' }],
      },
    });
    expect(issues.map((i) => i.pointer)).toEqual([
      '/tenants/demo/tills/0/password_hash',
      '/tenants/demo/tills/1/password_hash',
      '/tenants/demo/clients/0/secret_hash',
    ]);
    expect(issues[0]?.message).toMatch(/malformed scrypt/);
    expect(issues[1]?.message).toMatch(/argon2id/);
  });

  it('duplicate keys', () => {
    const { issues } = build({
      demo: {
        stores: [
          { id: 's', name: 'S' },
          { id: 's', name: 'T' },
        ],
        tills: [
          { username: 't', password_hash: SCRYPT, store: 's' },
          { username: 't', password_hash: SCRYPT, store: 's' },
        ],
        users: [
          { id: 'u1', email: 'A@x.org' },
          { id: 'u2', email: 'a@x.org' },
        ],
      },
    });
    expect(issues.map((i) => i.pointer)).toEqual([
      '/tenants/demo/stores/1/id',
      '/tenants/demo/tills/1/username',
      '/tenants/demo/users/1/email',
    ]);
  });

  it('schema violations: unknown field, bad status, colon in a till code, bad mobile, bad tenant id', () => {
    const { issues } = build({
      demo: {
        stores: [{ id: 's', name: 'S', colour: 'red' }],
        tills: [{ username: 'a:b', password_hash: SCRYPT, store: 's', status: 'paused' }],
        users: [{ id: 'u', mobile: '555-1234' }],
      },
      'bad tenant': {},
    });
    const pointers = issues.map((i) => i.pointer);
    expect(pointers).toEqual(
      expect.arrayContaining([
        '/tenants/demo/stores/0',
        '/tenants/demo/tills/0/username',
        '/tenants/demo/tills/0/status',
        '/tenants/demo/users/0/mobile',
        '/tenants',
      ]),
    );
  });

  it('through loadConfig: the directory file by name, and a JSON syntax error', () => {
    const fixture = ConfigFixture.fromDemo();
    fixture.write('config/directory.json', '{"tenants": {"demo": {"stores": [}}}');
    const issues = issuesOf(fixture);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.file).toMatch(/config\/directory\.json$/);
    expect(issues[0]?.message).toMatch(/invalid JSON/);
  });

  it('through loadConfig: a missing directory file', () => {
    const fixture = ConfigFixture.fromDemo();
    fixture.write('config/authpipe.json', {
      ...JSON.parse(JSON.stringify(load(ConfigFixture.fromDemo()).main)),
      directory: 'nowhere.json',
    });
    const issues = issuesOf(fixture);
    expect(issues[0]?.file).toMatch(/config\/nowhere\.json$/);
    expect(issues[0]?.message).toMatch(/cannot read the file \(ENOENT\)/);
  });

  it('through loadConfig: a bad entry, with its pointer', () => {
    const fixture = ConfigFixture.fromDemo();
    fixture.write('config/directory.json', {
      tenants: { demo: { stores: [], tills: [{ username: 'x', password_hash: SCRYPT, store: 'store-99' }] } },
    });
    expect(issuesOf(fixture)).toEqual([
      {
        file: expect.stringMatching(/config\/directory\.json$/),
        pointer: '/tenants/demo/tills/0/store',
        code: 'CONFIG_REFERENCE',
        message: expect.stringContaining('store-99'),
      },
    ]);
  });

  it('resolves ${env:NAME} for secrets such as TOTP seeds, and names a missing variable', () => {
    const fixture = ConfigFixture.fromDemo();
    fixture.write('config/directory.json', { tenants: { demo: { users: [{ id: 'u', totp_secret: '${env:ALICE_TOTP}' }] } } });
    expect(issuesOf(fixture)[0]).toMatchObject({
      pointer: '/tenants/demo/users/0/totp_secret',
      message: expect.stringContaining('ALICE_TOTP'),
    });
    const store = new MemoryStore(systemClock);
    stores.push(store);
    const loaded = loadConfig(fixture.mainFile, {
      registry: createRegistry(),
      runtime: () => ({ store, clock: systemClock, logger: silentLogger() }),
      env: { ALICE_TOTP: 'JBSWY3DPEHPK3PXPJBSWY3DP' },
    });
    expect(loaded.services.directory.user('demo', 'id', 'u')?.totp_secret).toBe('JBSWY3DPEHPK3PXPJBSWY3DP');
  });
});

describe('dummy hashes', () => {
  it('follow the most common algorithm and cost of each tenant and kind', () => {
    const { directory, issues } = build({
      demo: {
        stores: [{ id: 's', name: 'S' }],
        tills: [
          { username: 'a', password_hash: BCRYPT, store: 's' },
          { username: 'b', password_hash: BCRYPT.replace('5fSX', '6fSX'), store: 's' },
          { username: 'c', password_hash: SCRYPT, store: 's' },
        ],
      },
    });
    expect(issues).toEqual([]);
    expect(costProfile(directory.dummyHash('demo', 'till'))).toBe('bcrypt:10');
    // No clients in demo, no tenant at all: the directory's most common profile (one the
    // process calibrated at start), not a default nobody uses.
    expect(costProfile(directory.dummyHash('demo', 'client'))).toBe('bcrypt:10');
    expect(costProfile(directory.dummyHash('nobody', 'till'))).toBe('bcrypt:10');
    // An empty directory: the default scrypt cost.
    expect(costProfile(build({}).directory.dummyHash('nobody', 'till'))).toBe('scrypt:15:8:1:32');
  });
});
