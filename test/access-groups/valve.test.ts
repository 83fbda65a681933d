import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { ConfigError } from '../../src/config-kit/issues.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { ADMIN_SECRET, allow, basic, editJson, readJson, TILL_PASSWORD } from './support.js';
import { createApp } from '../../src/app.js';
import { silentLogger } from '../../src/logger.js';

/**
 * The access-group valve through real HTTP on the demo config plus a few subjects: how a
 * till (through its store), a client and a user (by their own) get their group, the tenant
 * default, inactive groups, and check mode with every access value and every bad input.
 */

const POS_SCOPE =
  'data:customer:write data:customer:read data:transaction:write data:transaction:read data:points:write data:points:read data:coupon:read';
let fixture: ConfigFixture;
let server: RunningServer;

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  const dir = readJson(fixture, 'config/directory.json');
  const tillHash = dir.tenants.demo.tills[0].password_hash;
  const clientHash = dir.tenants.demo.clients.find((c: { client_id: string }) => c.client_id === 'admin-console').secret_hash;
  editJson(fixture, 'config/directory.json', (d) => {
    d.tenants.demo.stores.push({ id: 'store-03', name: 'Closed kiosk corner', access_group: 'kiosk-off' });
    d.tenants.demo.tills.push(
      { username: 'till-101', password_hash: tillHash, store: 'store-02' },
      { username: 'till-301', password_hash: tillHash, store: 'store-03' },
    );
    d.tenants.demo.clients.push(
      { client_id: 'wechat-bridge', secret_hash: clientHash, access_group: 'wechat' },
      { client_id: 'no-group', secret_hash: clientHash },
    );
    d.tenants.demo.users[1].access_group = 'wechat';
  });
  editJson(fixture, 'config/access-groups.json', (g) => {
    g.tenants.demo.groups.push({
      id: 'kiosk-off',
      name: 'Kiosk (retired)',
      status: 'inactive',
      permissions: { data: { customer: 'write' } },
    });
    delete g.tenants.acme; // no default: its store without a group gives nothing
  });
  const check = (kind: string) => [{ name: 'access-group', config: { mode: 'check', kind } }];
  fixture.writePipe('client-authorize', {
    valves: [{ name: 'basic-auth', config: { kind: 'client', from: ['header'] } }, ...check('{{item.kind}}')],
    response: ['sub', 'access_group', 'scope'],
  });
  fixture.writePipe('user-authorize', {
    valves: [
      { name: 'property-set', config: { properties: { sub: '{{request.user}}' } } },
      { name: 'access-group', config: { mode: 'check', kind: 'user', user_key: 'username' } },
    ],
    response: ['sub', 'access_group', 'scope'],
  });
  fixture.writePipe('who', {
    valves: [
      { name: 'property-set', config: { properties: { sub: '{{request.sub}}', kind: '{{request.kind}}' } } },
      { name: 'access-group' },
    ],
    response: ['access_group', 'scope'],
  });
  fixture.writePipe('authorize-renamed', {
    valves: [
      { name: 'basic-auth', config: { kind: 'till', from: ['header'] } },
      { name: 'access-group', config: { mode: 'check', request_properties: { api: 'x_api', resource: 'x_resource', access: 'x_method' } } },
    ],
    response: ['access_group'],
  });
  allow(fixture, 'demo', ['client-authorize', 'user-authorize', 'who', 'authorize-renamed', 'introspect']);
  server = await startServer({ configFile: fixture.mainFile });
});

afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

const asTill = (body: Record<string, string>, till = 'till-001', tenant = 'demo', password = TILL_PASSWORD) =>
  server.call('authorize', body, { tenant, authorization: basic(till, password) });

describe('authorize (forward auth for gateways)', () => {
  it('till-001 (store-01, POS) may write customers: 200 with sub, store and group only', async () => {
    const res = await asTill({ api: 'data', resource: 'customer', access: 'POST' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'till-001', store: 'store-01', access_group: 'POS' });
  });

  it('till-001 may not write stores: 403 ACCESS_DENIED', async () => {
    const res = await asTill({ api: 'config', resource: 'store', access: 'write' });
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['ACCESS_DENIED']);
    expect(res.body.erroneousProperties).toBeUndefined();
  });

  const methods: [string, string, string, number][] = [
    ...['read', 'write', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map(
      (a) => ['data', 'customer', a, 200] as [string, string, string, number],
    ),
    ['data', 'coupon', 'read', 200],
    ['data', 'coupon', 'GET', 200],
    ...['write', 'POST', 'PUT', 'PATCH', 'DELETE'].map((a) => ['data', 'coupon', a, 403] as [string, string, string, number]),
    ['data', 'card', 'GET', 403],
    ['config', 'store', 'GET', 403],
    ['config', 'till', 'read', 403],
  ];
  it.each(methods)(
    'POS: %s %s %s -> %i (GET reads; POST, PUT, PATCH, DELETE write; write implies read)',
    async (api, resource, access, status) => {
      const res = await asTill({ api, resource, access });
      expect(res.status).toBe(status);
      if (status === 403) expect(res.body.errorTranslationKeys).toEqual(['ACCESS_DENIED']);
    },
  );

  const bad: [string, Record<string, string>, string[]][] = [
    ['unknown api', { api: 'graph', resource: 'customer', access: 'read' }, ['api', 'resource']],
    ['api in another case', { api: 'Data', resource: 'customer', access: 'read' }, ['api', 'resource']],
    ['empty api', { api: '', resource: 'customer', access: 'read' }, ['api', 'resource']],
    ['unknown resource', { api: 'data', resource: 'customers', access: 'read' }, ['resource']],
    ['resource of the other API', { api: 'data', resource: 'store', access: 'read' }, ['resource']],
    ['resource in another case', { api: 'data', resource: 'Customer', access: 'read' }, ['resource']],
    ['prototype name as resource', { api: 'data', resource: 'toString', access: 'read' }, ['resource']],
    ['lower-case method', { api: 'data', resource: 'customer', access: 'get' }, ['access']],
    ['HEAD', { api: 'data', resource: 'customer', access: 'HEAD' }, ['access']],
    ['OPTIONS', { api: 'data', resource: 'customer', access: 'OPTIONS' }, ['access']],
    ['READ', { api: 'data', resource: 'customer', access: 'READ' }, ['access']],
    ['padded access', { api: 'data', resource: 'customer', access: ' read' }, ['access']],
    ['admin as access', { api: 'data', resource: 'customer', access: 'admin' }, ['access']],
    ['missing access', { api: 'data', resource: 'customer' }, ['access']],
    ['nothing asked', {}, ['api', 'resource', 'access']],
  ];
  it.each(bad)('%s: 403 INVALID_REQUEST naming the property', async (_label, body, properties) => {
    const res = await asTill(body);
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_REQUEST']);
    expect(res.body.erroneousProperties).toEqual(properties);
  });

  it('bad credentials are refused before the access check', async () => {
    const res = await server.call(
      'authorize',
      { api: 'data', resource: 'customer', access: 'read' },
      { authorization: basic('till-001', 'wrong') },
    );
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
  });

  it('a store with no group gives its tills the tenant default (demo: Instore)', async () => {
    expect((await asTill({ api: 'data', resource: 'customer', access: 'POST' }, 'till-101')).body).toEqual({
      sub: 'till-101',
      store: 'store-02',
      access_group: 'Instore',
    });
    expect((await asTill({ api: 'data', resource: 'transaction', access: 'POST' }, 'till-101')).body.errorTranslationKeys).toEqual([
      'ACCESS_DENIED',
    ]);
  });

  it('a store allocated to an inactive group grants nothing, not even what the group lists', async () => {
    const res = await asTill({ api: 'data', resource: 'customer', access: 'GET' }, 'till-301');
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['ACCESS_DENIED']);
  });

  it('a store with no group in a tenant with no default: ACCESS_DENIED (acme)', async () => {
    const res = await asTill({ api: 'data', resource: 'customer', access: 'GET' }, 'acme-till-1', 'acme', 'acme-till-1-pass');
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['ACCESS_DENIED']);
  });

  it('request property names are configurable and named in refusals', async () => {
    const ok = await server.call(
      'authorize-renamed',
      { x_api: 'data', x_resource: 'points', x_method: 'PUT' },
      { authorization: basic('till-001', TILL_PASSWORD) },
    );
    expect(ok.body).toEqual({ access_group: 'POS' });
    const bad = await server.call(
      'authorize-renamed',
      { x_api: 'data', x_resource: 'points', access: 'PUT' },
      { authorization: basic('till-001', TILL_PASSWORD) },
    );
    expect(bad.body.erroneousProperties).toEqual(['x_method']);
  });
});

describe('clients and users name their own group', () => {
  const asClient = (id: string, body: Record<string, string>) =>
    server.call('client-authorize', body, { authorization: basic(id, ADMIN_SECRET) });

  it("a client in a custom group gets that group's scope", async () => {
    const res = await asClient('wechat-bridge', { api: 'data', resource: 'coupon', access: 'POST' });
    expect(res.body).toEqual({
      sub: 'wechat-bridge',
      access_group: 'wechat',
      scope: 'data:customer:read data:points:read data:coupon:write data:coupon:read',
    });
    expect((await asClient('wechat-bridge', { api: 'data', resource: 'customer', access: 'POST' })).body.errorTranslationKeys).toEqual([
      'ACCESS_DENIED',
    ]);
  });

  it("a client with no group gets the default, its directory scopes replaced by the group's", async () => {
    const res = await asClient('no-group', { api: 'data', resource: 'customer', access: 'write' });
    expect(res.body).toEqual({ sub: 'no-group', access_group: 'Instore', scope: 'data:customer:write data:customer:read' });
  });

  it('the Admin client may do everything', async () => {
    expect((await asClient('admin-console', { api: 'config', resource: 'coupon_series', access: 'DELETE' })).body.access_group).toBe(
      'Admin',
    );
  });

  it('a user by its own group, else the default; a user unknown to the directory gets the default', async () => {
    expect((await server.call('user-authorize', { user: 'bob', api: 'data', resource: 'points', access: 'GET' })).body.access_group).toBe(
      'wechat',
    );
    expect(
      (await server.call('user-authorize', { user: 'alice', api: 'data', resource: 'customer', access: 'PUT' })).body.access_group,
    ).toBe('Instore');
    expect((await server.call('user-authorize', { user: 'zed', api: 'data', resource: 'customer', access: 'PUT' })).body.access_group).toBe(
      'Instore',
    );
    expect(
      (await server.call('user-authorize', { user: 'bob', api: 'data', resource: 'points', access: 'POST' })).body.errorTranslationKeys,
    ).toEqual(['ACCESS_DENIED']);
  });
});

describe('resolve mode', () => {
  const who = (sub: string, kind: string) => server.call('who', { sub, kind });

  it('puts the group and its scope on the item', async () => {
    expect((await who('till-001', 'till')).body).toEqual({ access_group: 'POS', scope: POS_SCOPE });
  });

  it('an inactive group resolves with an empty scope (it grants nothing)', async () => {
    expect((await who('till-301', 'till')).body).toEqual({ access_group: 'kiosk-off', scope: '' });
  });

  it.each([
    ['a till the directory does not know', 'till-999', 'till'],
    ['a client the directory does not know', 'ghost', 'client'],
    ['an unknown kind', 'till-001', 'robot'],
    ['no kind', 'till-001', ''],
    ['no subject', '', 'till'],
  ])('%s: ACCESS_DENIED', async (_label, sub, kind) => {
    const res = await who(sub, kind);
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['ACCESS_DENIED']);
  });

  it("a till-login token carries the store group's scope", async () => {
    const res = await server.call('till-login', {}, { authorization: basic('till-001', TILL_PASSWORD) });
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe(POS_SCOPE);
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({
      sub: 'till-001',
      tenant: 'demo',
      scope: POS_SCOPE,
      access_group: 'POS',
      kind: 'till',
      store: 'store-01',
    });
    const introspected = await server.call('introspect', {}, { authorization: `Bearer ${res.body.access_token}` });
    expect(introspected.body).toMatchObject({ active: 'true', sub: 'till-001', scope: POS_SCOPE });
  });

  it('till-login refuses a till that has no group at all (acme has no default)', async () => {
    const res = await server.call('till-login', {}, { tenant: 'acme', authorization: basic('acme-till-1', 'acme-till-1-pass') });
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['ACCESS_DENIED']);
  });
});

describe('valve config', () => {
  it('refuses request_properties that name one property twice, with its pointer', () => {
    const bad = ConfigFixture.fromDemo();
    try {
      bad.writePipe('authorize', {
        valves: [{ name: 'access-group', config: { mode: 'check', request_properties: { api: 'x', resource: 'x' } } }],
      });
      let error: unknown;
      try {
        createApp({ configFile: bad.mainFile, logger: silentLogger() });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues.map((i) => [i.file.endsWith('pipes/authorize.json'), i.pointer])).toEqual([
        [true, '/valves/0/config/request_properties'],
      ]);
    } finally {
      bad.cleanup();
    }
  });
});
