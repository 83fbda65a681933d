import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigError, type ConfigIssue } from '../../src/config-kit/issues.js';
import { loadConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/engine/clock.js';
import { silentLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { createRegistry } from '../../src/valves/index.js';
import { ConfigFixture } from '../support/fixture.js';

/** Load-time checks of LDAP connections and ldap-source valve configs: no server needed. */
const fixtures: ConfigFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});

const VALVE = {
  source: 'ldap',
  connection: 'corp',
  base_dn: 'ou=people,dc=example,dc=org',
  filter: '(uid={{request.username}})',
};

function load(ldap: unknown, valve: Record<string, unknown> = VALVE, env: Record<string, string> = {}) {
  const fixture = ConfigFixture.minimal(
    [{ id: 'demo', allowedOperation: ['login'] }],
    { login: { valves: [{ name: 'idp-lookup', config: valve }] } },
    ldap === undefined ? {} : { ldap },
  );
  fixtures.push(fixture);
  const store = new MemoryStore(systemClock);
  return loadConfig(fixture.mainFile, { registry: createRegistry(), runtime: () => ({ store, clock: systemClock, logger: silentLogger() }), env });
}

function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const CORP = { id: 'corp', url: 'ldap://127.0.0.1:1' };

describe('LDAP configuration', () => {
  it('loads without touching the network (the server need not run)', async () => {
    const loaded = load([{ ...CORP, bind_dn: 'cn=svc,dc=example,dc=org', bind_password: '${env:LDAP_PW}' }], VALVE, { LDAP_PW: 'x' });
    expect(loaded.services.ldap?.ids()).toEqual(['corp']);
    await loaded.services.ldap?.close();
  });

  it('ships a config that validates on a fresh clone: no LDAP server, no environment', async () => {
    const store = new MemoryStore(systemClock);
    const demo = ConfigFixture.fromDemo();
    fixtures.push(demo);
    const loaded = loadConfig(demo.mainFile, {
      registry: createRegistry(),
      runtime: () => ({ store, clock: systemClock, logger: silentLogger() }),
      env: {},
    });
    expect(loaded.pipes.has('ldap-login')).toBe(true);
    expect(loaded.services.ldap?.ids()).toEqual(['corp-ldap']);
    await loaded.services.ldap?.close();
  });

  it('names the pipe file and pointer when a valve references an unknown connection', () => {
    const issues = issuesOf(() => load([CORP], { ...VALVE, connection: 'nope' }));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.file).toMatch(/pipes\/login\.json$/);
    expect(issues[0]?.pointer).toBe('/valves/0/config/connection');
    expect(issues[0]?.message).toContain('"nope"');
    expect(issues[0]?.message).toContain('corp');
  });

  it('says so when the main file defines no connection at all', () => {
    const [issue] = issuesOf(() => load(undefined));
    expect(issue?.pointer).toBe('/valves/0/config/connection');
    expect(issue?.message).toContain('section "ldap"');
  });

  it.each([
    ['an unbalanced filter', '(uid={{request.username}}'],
    ['a filter that is not one', 'uid={{request.username}})('],
    ['a template with an unknown root', '(uid={{form.username}})'],
  ])('refuses %s at /filter', (_label, filter) => {
    const [issue] = issuesOf(() => load([CORP], { ...VALVE, filter }));
    expect(issue?.file).toMatch(/pipes\/login\.json$/);
    expect(issue?.pointer).toBe('/valves/0/config/filter');
  });

  it('refuses duplicate connection ids with the main file and pointer', () => {
    const [issue] = issuesOf(() => load([CORP, { ...CORP }]));
    expect(issue?.file).toMatch(/config\/authpipe\.json$/);
    expect(issue?.pointer).toBe('/ldap/1/id');
  });

  it('fails the load when the service password variable is not set', () => {
    const [issue] = issuesOf(() => load([{ ...CORP, bind_dn: 'cn=svc', bind_password: '${env:LDAP_PW}' }]));
    expect(issue?.pointer).toBe('/ldap/0/bind_password');
    expect(issue?.message).toContain('LDAP_PW');
  });

  it('refuses an empty service password (it would bind anonymously)', () => {
    const [issue] = issuesOf(() => load([{ ...CORP, bind_dn: 'cn=svc', bind_password: '' }]));
    expect(issue?.pointer).toBe('/ldap/0/bind_password');
  });

  it('refuses a bind DN without a password', () => {
    const [issue] = issuesOf(() => load([{ ...CORP, bind_dn: 'cn=svc' }]));
    expect(issue?.pointer).toBe('/ldap/0');
    expect(issue?.message).toContain('bind_password');
  });

  it.each([
    ['a URL that is not LDAP', { ...CORP, url: 'http://127.0.0.1' }, '/ldap/0/url'],
    ['TLS options on plain ldap://', { ...CORP, tls: { ca_file: 'ca.pem' } }, '/ldap/0/tls'],
    ['StartTLS on ldaps://', { ...CORP, url: 'ldaps://127.0.0.1', tls: { start_tls: true } }, '/ldap/0/tls/start_tls'],
    ['an unreadable CA file', { ...CORP, url: 'ldaps://127.0.0.1', tls: { ca_file: 'missing-ca.pem' } }, '/ldap/0/tls/ca_file'],
    ['a zero timeout', { ...CORP, timeout_ms: 0 }, '/ldap/0/timeout_ms'],
  ])('refuses %s', (_label, entry, at) => {
    const issues = issuesOf(() => load([entry]));
    expect(issues.map((i) => i.pointer)).toContain(at);
  });
});
