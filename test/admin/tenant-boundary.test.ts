import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config-kit/issues.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { adminToken, api, basic, editJson, makeOperator, TILL_PASSWORD } from './support.js';
import { systemClock } from '../../src/engine/clock.js';
import { silentLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { createRegistry } from '../../src/valves/index.js';

/**
 * The two admin roles over HTTP: an operator (listed in management.operators) changes shared
 * pipes and every tenant; a tenant admin (the Admin group of one tenant) only its own tenant,
 * whose own pipes (pipes/<tenant>/) its calls run before the shared ones.
 */
let fixture: ConfigFixture;
let server: RunningServer;
/** admin-console of demo, listed as an operator. */
let operator: string;
/** demo-admin: in demo's Admin group, not an operator. */
let demoAdmin: string;
/** acme-admin: in acme's Admin group. */
let acmeAdmin: string;

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  const directory = JSON.parse(readFileSync(join(fixture.dir, 'config/directory.json'), 'utf8'));
  const adminHash = directory.tenants.demo.clients.find((c: { client_id: string }) => c.client_id === 'admin-console').secret_hash;
  const tillHash = directory.tenants.demo.tills.find((t: { username: string }) => t.username === 'till-001').password_hash;
  editJson(fixture, 'config/directory.json', (d) => {
    d.tenants.demo.clients.push({ client_id: 'demo-admin', secret_hash: adminHash, access_group: 'Admin' });
    d.tenants.acme.clients = [{ client_id: 'acme-admin', secret_hash: adminHash, access_group: 'Admin' }];
    // acme's till signs in with the demo till's password: one known secret for both tenants.
    d.tenants.acme.tills[0].password_hash = tillHash;
  });
  editJson(fixture, 'config/authpipe.json', (m) => {
    m.modules[0].config.tenant[1].allowedOperation.push('client-login');
  });
  // These tests change shared pipes and every tenant: the demo's API admin client is made an operator.
  makeOperator(fixture);
  server = await startServer({ configFile: fixture.mainFile });
  operator = await adminToken(server);
  demoAdmin = await adminToken(server, 'demo', 'demo-admin');
  acmeAdmin = await adminToken(server, 'acme', 'acme-admin');
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

const file = (relative: string) => join(fixture.dir, relative);
const codeOf = (answer: { body: { errorTranslationKeys?: string[] } }) => answer.body.errorTranslationKeys?.[1];
const tillLogin = (tenant: string, username: string, password: string) =>
  server.call('till-login', {}, { tenant, authorization: basic(username, password) });
/** A till-login that refuses every call: what a hostile edit of the shared pipe would do to another tenant. */
const refusing = {
  id: 'till-login',
  description: 'closed for this tenant',
  valves: [{ name: 'refuse', config: { code: 'ACCESS_DENIED' } }],
  response: [],
};

async function auditOf(token: string, tenant: string): Promise<{ event: string; resource?: string; id?: string; tenant?: string }[]> {
  const answer = await api(server, 'GET', '/admin/audit?event=admin.config_changed', { token, tenant });
  expect(answer.status).toBe(200);
  return answer.body.events;
}

describe('a tenant admin stays inside its tenant', () => {
  it('cannot replace, delete or create a shared pipe, and nothing is written', async () => {
    const before = readFileSync(file('pipes/till-login.json'), 'utf8');
    const shown = await api(server, 'GET', '/admin/pipes/till-login', { token: demoAdmin });
    expect([shown.status, shown.headers.get('x-pipe-owner')]).toEqual([200, 'shared']);
    const etag = shown.headers.get('etag') as string;

    const replaced = await api(server, 'PUT', '/admin/pipes/till-login', { token: demoAdmin, body: refusing, ifMatch: etag });
    expect([replaced.status, codeOf(replaced)]).toEqual([403, 'OPERATOR_ONLY']);
    const deleted = await api(server, 'DELETE', '/admin/pipes/till-login', { token: demoAdmin, ifMatch: etag });
    expect([deleted.status, codeOf(deleted)]).toEqual([403, 'OPERATOR_ONLY']);
    const created = await api(server, 'POST', '/admin/pipes?owner=shared', { token: demoAdmin, body: { ...refusing, id: 'brand-new' } });
    expect([created.status, codeOf(created)]).toEqual([403, 'OPERATOR_ONLY']);
    // The refusal names no other tenant.
    for (const answer of [replaced, deleted, created]) expect(JSON.stringify(answer.body)).not.toContain('acme');

    expect(readFileSync(file('pipes/till-login.json'), 'utf8')).toBe(before);
    expect(existsSync(file('pipes/brand-new.json'))).toBe(false);
    expect((await tillLogin('acme', 'acme-till-1', TILL_PASSWORD)).status).toBe(200);
  });

  it('sees only its own tenant', async () => {
    const list = await api(server, 'GET', '/admin/tenants', { token: demoAdmin });
    expect(list.body.tenants.map((t: { id: string }) => t.id)).toEqual(['demo']);
    const other = await api(server, 'GET', '/admin/tenants/acme', { token: demoAdmin });
    expect([other.status, codeOf(other)]).toEqual([404, 'NOT_FOUND']);
    const overview = await api(server, 'GET', '/admin/overview', { token: demoAdmin });
    expect([overview.body.role, overview.body.tenants.map((t: { id: string }) => t.id), overview.body.ldap]).toEqual([
      'tenant-admin',
      ['demo'],
      [],
    ]);
    const patched = await api(server, 'PATCH', '/admin/tenants/acme', { token: demoAdmin, body: { displayName: 'x' }, ifMatch: '"x"' });
    expect([patched.status, codeOf(patched)]).toEqual([403, 'OTHER_TENANT']);
    // Its token is not accepted as another tenant's.
    const cross = await api(server, 'GET', '/admin/pipes', { token: demoAdmin, tenant: 'acme' });
    expect([cross.status, codeOf(cross)]).toEqual([401, 'TOKEN_REJECTED']);
  });

  it.each([
    ['PUT', '/admin/pipes/..%2Ftill-login'],
    ['PUT', '/admin/pipes/..%2F..%2Fconfig%2Fauthpipe'],
    ['GET', '/admin/pipes/acme%2Ftill-login'],
  ])('%s %s (a path out of the tenant) is 404', async (method, path) => {
    const answer = await api(server, method, path, { token: demoAdmin, ifMatch: '"x"', ...(method === 'GET' ? {} : { body: refusing }) });
    expect([answer.status, codeOf(answer)]).toEqual([404, 'NOT_FOUND']);
  });

  it('a pipe id with ../ in a body is refused', async () => {
    const answer = await api(server, 'POST', '/admin/pipes', {
      token: acmeAdmin,
      tenant: 'acme',
      body: { ...refusing, id: '../till-login' },
    });
    expect([answer.status, codeOf(answer)]).toEqual([400, 'BAD_BODY']);
  });

  it('creates its own pipe of a shared id, which only its tenant runs, audited in its feed only', async () => {
    const created = await api(server, 'POST', '/admin/pipes', { token: acmeAdmin, tenant: 'acme', body: refusing });
    expect([created.status, created.headers.get('x-pipe-owner')]).toEqual([201, 'acme']);
    expect(existsSync(file('pipes/acme/till-login.json'))).toBe(true);

    expect((await tillLogin('acme', 'acme-till-1', TILL_PASSWORD)).status).toBe(403);
    expect((await tillLogin('demo', 'till-001', TILL_PASSWORD)).status).toBe(200);
    // demo's admin sees the shared pipe, not acme's, and nothing of the change in its audit feed.
    const demoView = await api(server, 'GET', '/admin/pipes/till-login', { token: demoAdmin });
    expect([demoView.headers.get('x-pipe-owner'), demoView.body.valves.length > 1]).toEqual(['shared', true]);
    const acmeList = await api(server, 'GET', '/admin/pipes', { token: acmeAdmin, tenant: 'acme' });
    expect(acmeList.body.pipes.find((p: { id: string }) => p.id === 'till-login')).toMatchObject({ owner: 'acme', editable: true });
    expect(acmeList.body.pipes.find((p: { id: string }) => p.id === 'echo')).toMatchObject({ owner: 'shared', editable: false });
    expect((await auditOf(demoAdmin, 'demo')).filter((e) => e.id === 'till-login')).toEqual([]);
    expect((await auditOf(acmeAdmin, 'acme')).filter((e) => e.id === 'till-login')).toHaveLength(1);

    // Deleting its own pipe brings the shared one back.
    const own = await api(server, 'GET', '/admin/pipes/till-login', { token: acmeAdmin, tenant: 'acme' });
    const deleted = await api(server, 'DELETE', '/admin/pipes/till-login', {
      token: acmeAdmin,
      tenant: 'acme',
      ifMatch: own.headers.get('etag') as string,
    });
    expect(deleted.status).toBe(204);
    expect((await tillLogin('acme', 'acme-till-1', TILL_PASSWORD)).status).toBe(200);
  });

  it("another tenant's admin cannot see or change a tenant's own pipe", async () => {
    const created = await api(server, 'POST', '/admin/pipes', { token: acmeAdmin, tenant: 'acme', body: { ...refusing, id: 'acme-only' } });
    expect(created.status).toBe(201);
    const seen = await api(server, 'GET', '/admin/pipes/acme-only', { token: demoAdmin });
    expect([seen.status, codeOf(seen)]).toEqual([404, 'NOT_FOUND']);
    const list = await api(server, 'GET', '/admin/pipes', { token: demoAdmin });
    expect(list.body.pipes.map((p: { id: string }) => p.id)).not.toContain('acme-only');
    const replaced = await api(server, 'PUT', '/admin/pipes/acme-only', { token: demoAdmin, body: refusing, ifMatch: '"x"' });
    expect([replaced.status, codeOf(replaced)]).toEqual([404, 'NOT_FOUND']);
  });

  it("in the operators' home tenant, cannot change an operator's account or write the tenant's own pipes", async () => {
    // demo is where the operator admin-console signs in: its admins could otherwise set its secret, or mint its tokens.
    const secret = await api(server, 'POST', '/admin/directory/clients/admin-console/secret', {
      token: demoAdmin,
      body: { secret: 'taken-over-by-a-tenant-admin' },
      ifMatch: '"x"',
    });
    expect([secret.status, codeOf(secret)]).toEqual([403, 'OPERATOR_ONLY']);
    const disabled = await api(server, 'PATCH', '/admin/directory/users/u-ops', {
      token: demoAdmin,
      body: { status: 'disabled' },
      ifMatch: '"x"',
    });
    expect([disabled.status, codeOf(disabled)]).toEqual([403, 'OPERATOR_ONLY']);
    const mint = {
      id: 'mint-operator',
      valves: [
        { name: 'property-set', config: { properties: { sub: 'admin-console' } } },
        { name: 'token-mint', config: { kind: 'system', sub: '{{item.sub}}' } },
      ],
      response: ['access_token'],
    };
    const created = await api(server, 'POST', '/admin/pipes', { token: demoAdmin, body: mint });
    expect([created.status, codeOf(created)]).toEqual([403, 'OPERATOR_ONLY']);
    expect(existsSync(file('pipes/demo/mint-operator.json'))).toBe(false);
  });
});

describe('an operator runs every tenant', () => {
  it('changes a shared pipe, audited in every tenant that runs it', async () => {
    const shown = await api(server, 'GET', '/admin/pipes/echo', { token: operator });
    const body = { ...shown.body, description: 'changed by the operator' };
    const replaced = await api(server, 'PUT', '/admin/pipes/echo', { token: operator, body, ifMatch: shown.headers.get('etag') as string });
    expect(replaced.status).toBe(200);
    for (const [token, tenant] of [
      [acmeAdmin, 'acme'],
      [demoAdmin, 'demo'],
    ] as const) {
      const events = (await auditOf(token, tenant)).filter((e) => e.id === 'echo');
      expect(events.map((e) => e.tenant)).toEqual([tenant]);
    }
  });

  it("acts on another tenant with its own tenant's token", async () => {
    const list = await api(server, 'GET', '/admin/tenants', { token: operator });
    expect(list.body.tenants.map((t: { id: string }) => t.id)).toEqual(['demo', 'acme']);
    const acme = await api(server, 'GET', '/admin/tenants/acme', { token: operator, tenant: 'acme' });
    expect(acme.status).toBe(200);
    const patched = await api(server, 'PATCH', '/admin/tenants/acme', {
      token: operator,
      tenant: 'acme',
      body: { displayName: 'ACME by the operator' },
      ifMatch: acme.headers.get('etag') as string,
    });
    expect([patched.status, patched.body.displayName]).toEqual([200, 'ACME by the operator']);
    const overview = await api(server, 'GET', '/admin/overview', { token: operator, tenant: 'acme' });
    expect([overview.body.role, overview.body.tenant]).toEqual(['operator', 'acme']);
  });

  it("a tenant admin's token does not become an operator's by naming its tenant", async () => {
    const answer = await api(server, 'GET', '/admin/overview', { token: demoAdmin, tenant: 'demo' });
    expect(answer.body.role).toBe('tenant-admin');
  });
});

describe("a tenant's own pipes on disk", () => {
  const store = new MemoryStore(systemClock);
  const registry = createRegistry();
  const load = (dir: string) =>
    loadConfig(join(dir, 'config/authpipe.json'), {
      registry,
      runtime: () => ({ store, clock: systemClock, logger: silentLogger() }),
      readOnly: true,
    });
  const issuesOf = (dir: string) => {
    try {
      load(dir);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.issues;
      throw err;
    }
  };

  it.each(['${env:PATH}', '${file:/etc/hostname}', '${ FILE:../../config/secrets/x}'])(
    'cannot read secrets: %s in a tenant pipe is a load issue at its pointer',
    (reference) => {
      const copy = ConfigFixture.fromDemo();
      try {
        mkdirSync(join(copy.dir, 'pipes/acme'));
        const echo = JSON.parse(readFileSync(join(copy.dir, 'pipes/echo.json'), 'utf8'));
        echo.valves[2].config.properties.tenant = reference;
        writeFileSync(join(copy.dir, 'pipes/acme/echo.json'), JSON.stringify(echo));
        const issues = issuesOf(copy.dir);
        expect(issues.map((i) => [i.file.endsWith('pipes/acme/echo.json'), i.pointer, i.code])).toEqual([
          [true, '/valves/2/config/properties/tenant', 'CONFIG_SECRET'],
        ]);
        expect(JSON.stringify(issues)).not.toMatch(/usr\/bin|hostname\n/);
      } finally {
        copy.cleanup();
      }
    },
  );

  it('a folder naming no tenant is a load issue; a tenant pipe serves only its tenant', () => {
    const copy = ConfigFixture.fromDemo();
    try {
      mkdirSync(join(copy.dir, 'pipes/nobody'));
      writeFileSync(join(copy.dir, 'pipes/nobody/echo.json'), readFileSync(join(copy.dir, 'pipes/echo.json')));
      expect(issuesOf(copy.dir).map((i) => i.code)).toEqual(['CONFIG_REFERENCE']);
    } finally {
      copy.cleanup();
    }
  });

  it('an operator naming an unknown tenant is a load issue', () => {
    const copy = ConfigFixture.fromDemo();
    try {
      editJson(copy, 'config/authpipe.json', (m) => m.management.operators.push({ tenant: 'nobody', sub: 'x' }));
      expect(issuesOf(copy.dir).map((i) => [i.pointer, i.code])).toEqual([['/management/operators/1/tenant', 'CONFIG_REFERENCE']]);
    } finally {
      copy.cleanup();
    }
  });
});
