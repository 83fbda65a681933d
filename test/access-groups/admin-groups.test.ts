import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../support/clock.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { ADMIN_SECRET, adminCall, adminToken, allow, basic, editJson, readJson } from './support.js';

/**
 * The admin API on groups: list, search, get, create, edit, with ETag and If-Match so that
 * concurrent edits cannot lose an update, and every change in effect without a restart.
 */

const clock = new ManualClock(Date.UTC(2026, 2, 9, 9, 0, 0));
let fixture: ConfigFixture;
let server: RunningServer;
let token: string;

const call = (method: string, path: string, options: Parameters<typeof adminCall>[3] = {}) =>
  adminCall(server, method, path, { token, ...options });
const etagOf = async (id: string) => (await call('GET', `/${id}`)).headers.get('etag') as string;

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  const hash = readJson(fixture, 'config/directory.json').tenants.demo.clients.find(
    (c: { client_id: string }) => c.client_id === 'admin-console',
  ).secret_hash;
  editJson(fixture, 'config/directory.json', (d) => {
    d.tenants.demo.clients.push({ client_id: 'wechat-bridge', secret_hash: hash, access_group: 'wechat' });
  });
  fixture.writePipe('client-authorize', {
    valves: [
      { name: 'basic-auth', config: { kind: 'client', from: ['header'] } },
      { name: 'access-group', config: { mode: 'check' } },
    ],
    response: ['access_group', 'scope'],
  });
  allow(fixture, 'demo', ['client-authorize']);
  server = await startServer({ configFile: fixture.mainFile, clock });
  token = await adminToken(server);
});

afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

// Time moves between tests (timestamps differ), well within the admin token's 10 minutes.
beforeEach(() => clock.advance(1_000));

const bridge = (api: string, resource: string, access: string) =>
  server.call('client-authorize', { api, resource, access }, { authorization: basic('wechat-bridge', ADMIN_SECRET) });

describe('reading', () => {
  it("lists every group with the seed's columns and the number of allocated stores", async () => {
    const res = await call('GET', '');
    expect(res.status).toBe(200);
    expect(res.body.default).toBe('Instore');
    expect(res.body.groups.map((g: { id: string }) => g.id)).toEqual(['POS', 'Instore', 'Admin', 'wechat']);
    const pos = res.body.groups[0];
    expect(Object.keys(pos).sort()).toEqual(
      [
        'allocatedStores',
        'builtIn',
        'createdBy',
        'createdOn',
        'description',
        'id',
        'isDefault',
        'lastUpdatedBy',
        'lastUpdatedOn',
        'name',
        'status',
      ].sort(),
    );
    expect(pos).toMatchObject({ name: 'POS', status: 'active', builtIn: true, isDefault: false, allocatedStores: 1 });
    expect(res.body.groups[1]).toMatchObject({ id: 'Instore', isDefault: true, allocatedStores: 0 });
    expect(res.body.groups[3]).toMatchObject({
      name: 'WeChat',
      builtIn: false,
      createdBy: 'admin-console',
      createdOn: '2026-01-05T09:00:00.000Z',
      lastUpdatedBy: 'admin-console',
    });
  });

  it('searches by part of the name, ignoring case', async () => {
    const names = async (q: string) =>
      (await call('GET', `?name=${encodeURIComponent(q)}`)).body.groups.map((g: { name: string }) => g.name);
    expect(await names('CHA')).toEqual(['WeChat']);
    expect(await names('s')).toEqual(['POS', 'Instore']);
    expect(await names('nothing like it')).toEqual([]);
  });

  it('refuses unknown or repeated query parameters', async () => {
    const res = await call('GET', '?status=active');
    expect(res.status).toBe(400);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'BAD_QUERY']);
    expect((await call('GET', '?name=a&name=b')).status).toBe(400);
  });

  it('gets one group with its full permission table, scope, stores and ETag', async () => {
    const res = await call('GET', '/POS');
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(res.body.stores).toEqual([{ id: 'store-01', name: 'Demo flagship store' }]);
    expect(res.body.permissions.data).toEqual({
      customer: 'write',
      transaction: 'write',
      points: 'write',
      coupon: 'read',
      card: 'none',
      product: 'none',
      request: 'none',
    });
    expect(res.body.permissions.config.store).toBe('none');
    expect(res.body.scope).toMatch(/^data:customer:write data:customer:read /);
  });

  it('an unknown group is a 404, also in a tenant where it does not exist', async () => {
    const res = await call('GET', '/nope');
    expect(res.status).toBe(404);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'NOT_FOUND']);
    expect((await call('GET', '/%E0%A4%A')).status).toBe(404);
  });
});

describe('creating a custom group', () => {
  it('201 with Location and ETag; the id comes from the name; createdBy is the admin', async () => {
    const res = await call('POST', '', {
      body: {
        name: 'Kiosk self-service',
        description: 'Self-service kiosks',
        permissions: { data: { customer: 'read', points: 'write' } },
      },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/admin/access-groups/kiosk-self-service');
    expect(res.headers.get('etag')).toBe(await etagOf('kiosk-self-service'));
    const now = new Date(clock.now()).toISOString();
    expect(res.body).toMatchObject({
      id: 'kiosk-self-service',
      status: 'active',
      builtIn: false,
      createdBy: 'admin-console',
      createdOn: now,
      lastUpdatedOn: now,
      allocatedStores: 0,
      scope: 'data:customer:read data:points:write data:points:read',
    });
    const onDisk = readJson(fixture, 'config/access-groups.json').tenants.demo.groups.find(
      (g: { id: string }) => g.id === 'kiosk-self-service',
    );
    expect(onDisk).toMatchObject({ name: 'Kiosk self-service', status: 'active', createdBy: 'admin-console' });
  });

  it('a name taken, by a custom or a built-in group, ignoring case: 409 NAME_TAKEN', async () => {
    for (const name of ['wechat', 'KIOSK SELF-SERVICE', 'pos', 'Admin']) {
      const res = await call('POST', '', { body: { name } });
      expect(res.status).toBe(409);
      expect(res.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'NAME_TAKEN']);
      expect(res.body.erroneousProperties).toEqual(['/name']);
    }
  });

  it('an id taken or reserved: 409 ID_TAKEN; a name whose id is taken gets a suffix', async () => {
    for (const id of ['wechat', 'pos', 'default']) {
      const res = await call('POST', '', { body: { id, name: `Fresh ${id}` } });
      expect(res.status).toBe(409);
      expect(res.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'ID_TAKEN']);
    }
    expect((await call('POST', '', { body: { name: 'Default' } })).body.id).toBe('default-2');
    expect((await call('POST', '', { body: { name: '¿¿' } })).body.id).toBe('group');
  });

  it('permissions on resources or APIs that do not exist: 400 UNKNOWN_RESOURCE naming each', async () => {
    const res = await call('POST', '', {
      body: { name: 'Typo', permissions: { data: { customers: 'write', coupon: 'read' }, graph: {} } },
    });
    expect(res.status).toBe(400);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'UNKNOWN_RESOURCE']);
    expect(res.body.erroneousProperties.sort()).toEqual(['/permissions/data/customers', '/permissions/graph']);
    expect(res.body.message).toMatch(/unknown resource "customers" in the Data API; expected one of: customer, /);
    expect((await call('GET', '?name=typo')).body.groups).toEqual([]);
  });

  it.each([
    [
      'a level that is not none, read or write',
      { name: 'X1', permissions: { data: { customer: 'admin' } } },
      ['/permissions/data/customer'],
    ],
    ['no name', { description: 'x' }, ['/name']],
    ['an empty name', { name: '' }, ['/name']],
    ['a name with surrounding blanks', { name: ' Padded ' }, ['/name']],
    ['a name with a control character', { name: 'Bad\u0007name' }, ['/name']],
    ['a name over 64 characters', { name: 'n'.repeat(65) }, ['/name']],
    ['a name that is not a string', { name: 42 }, ['/name']],
    ['an unknown property', { name: 'X2', status: 'inactive' }, ['/status']],
    ['a malformed id', { name: 'X3', id: '-bad id' }, ['/id']],
  ])('%s: 400 BAD_BODY', async (_label, body, pointers) => {
    const res = await call('POST', '', { body });
    expect(res.status).toBe(400);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'BAD_BODY']);
    expect(res.body.erroneousProperties).toEqual(pointers);
  });

  it.each([
    ['not JSON', '{"name": "x"', 400, 'BAD_BODY'],
    ['a JSON array', '[{"name": "x"}]', 400, 'BAD_BODY'],
    ['JSON null', 'null', 400, 'BAD_BODY'],
    ['no body', '', 400, 'BAD_BODY'],
    ['over 64 KiB', JSON.stringify({ name: 'big', description: 'x'.repeat(70_000) }), 413, 'PAYLOAD_TOO_LARGE'],
  ])('%s: %i %s', async (_label, body, status, reason) => {
    const res = await fetch(`${server.managementUrl}/admin/access-groups`, {
      method: 'POST',
      headers: { tenant: 'demo', authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { errorTranslationKeys: string[] }).errorTranslationKeys[1]).toBe(reason);
  });

  it('a body that is not declared as JSON: 415', async () => {
    const res = await call('POST', '', { body: '{"name":"x"}', headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(415);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'UNSUPPORTED_MEDIA_TYPE']);
  });
});

describe('editing a group', () => {
  it('name, description and permissions with If-Match; the change is in effect at once', async () => {
    expect((await bridge('data', 'transaction', 'POST')).status).toBe(403);
    const before = await etagOf('wechat');
    const res = await call('PATCH', '/wechat', {
      ifMatch: before,
      body: {
        name: 'WeChat bridge',
        description: 'now adds transactions',
        permissions: { data: { customer: 'read', transaction: 'write' } },
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).not.toBe(before);
    expect(res.body).toMatchObject({
      name: 'WeChat bridge',
      description: 'now adds transactions',
      lastUpdatedBy: 'admin-console',
      lastUpdatedOn: new Date(clock.now()).toISOString(),
      createdOn: '2026-01-05T09:00:00.000Z',
    });
    // Permissions are replaced as a whole: coupon, left out, is now none.
    expect(res.body.permissions.data.coupon).toBe('none');
    expect((await bridge('data', 'transaction', 'POST')).body).toEqual({
      access_group: 'wechat',
      scope: 'data:customer:read data:transaction:write data:transaction:read',
    });
    expect((await bridge('data', 'coupon', 'GET')).status).toBe(403);
  });

  it('without If-Match: 428; with *: 428; with a stale ETag: 412, and nothing changes', async () => {
    const stale = await etagOf('wechat');
    await call('PATCH', '/wechat', { ifMatch: stale, body: { description: 'first' } });
    const missing = await call('PATCH', '/wechat', { body: { description: 'blind' } });
    expect(missing.status).toBe(428);
    expect(missing.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'PRECONDITION_REQUIRED']);
    expect((await call('PATCH', '/wechat', { ifMatch: '*', body: { description: 'blind' } })).status).toBe(428);
    const late = await call('PATCH', '/wechat', { ifMatch: stale, body: { description: 'lost update' } });
    expect(late.status).toBe(412);
    expect(late.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'PRECONDITION_FAILED']);
    expect((await call('GET', '/wechat')).body.description).toBe('first');
    // A weak tag never matches (strong comparison); a list holding the current tag does.
    const current = await etagOf('wechat');
    expect((await call('PATCH', '/wechat', { ifMatch: `W/${current}`, body: { description: 'weak' } })).status).toBe(412);
    expect((await call('PATCH', '/wechat', { ifMatch: `"old", ${current}`, body: { description: 'listed' } })).status).toBe(200);
  });

  it('concurrent edits from one ETag: exactly one wins, the others get 412', async () => {
    const tag = await etagOf('wechat');
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => call('PATCH', '/wechat', { ifMatch: tag, body: { description: `writer ${i}` } })),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 412, 412, 412, 412, 412]);
    const winner = answers.find((a) => a.status === 200)?.body.description;
    expect((await call('GET', '/wechat')).body.description).toBe(winner);
    expect(readJson(fixture, 'config/access-groups.json').tenants.demo.groups[0].description).toBe(winner);
  });

  it('the ETag is checked against the file on disk: a hand edit not yet reloaded also fails the precondition', async () => {
    const tag = await etagOf('wechat');
    editJson(fixture, 'config/access-groups.json', (g) => {
      g.tenants.demo.groups[0].description = 'edited by hand';
    });
    expect((await call('PATCH', '/wechat', { ifMatch: tag, body: { description: 'from the console' } })).status).toBe(412);
    expect(server.app.reload().ok).toBe(true);
    const fresh = await call('GET', '/wechat');
    expect(fresh.body.description).toBe('edited by hand');
    expect(
      (await call('PATCH', '/wechat', { ifMatch: fresh.headers.get('etag') as string, body: { description: 'from the console' } })).status,
    ).toBe(200);
  });

  it('built-in groups cannot be edited: 403 BUILT_IN_READ_ONLY, even with a valid ETag', async () => {
    for (const id of ['POS', 'Instore', 'Admin']) {
      const res = await call('PATCH', `/${id}`, { ifMatch: await etagOf(id), body: { description: 'mine now' } });
      expect(res.status).toBe(403);
      expect(res.body.errorTranslationKeys).toEqual(['ACCESS_DENIED', 'BUILT_IN_READ_ONLY']);
    }
    expect((await call('GET', '/POS')).body.description).toMatch(/^Point-of-sale/);
  });

  it('renaming onto a taken name: 409; to its own name in another case: fine', async () => {
    const tag = await etagOf('wechat');
    expect((await call('PATCH', '/wechat', { ifMatch: tag, body: { name: 'instore' } })).status).toBe(409);
    expect((await call('PATCH', '/wechat', { ifMatch: tag, body: { name: 'WECHAT BRIDGE' } })).status).toBe(200);
  });

  it('an empty edit, an unknown resource, an unknown group', async () => {
    const tag = await etagOf('wechat');
    expect((await call('PATCH', '/wechat', { ifMatch: tag, body: {} })).body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'BAD_BODY']);
    const typo = await call('PATCH', '/wechat', { ifMatch: tag, body: { permissions: { config: { stores: 'read' } } } });
    expect(typo.status).toBe(400);
    expect(typo.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'UNKNOWN_RESOURCE']);
    expect((await call('PATCH', '/ghost', { ifMatch: tag, body: { description: 'x' } })).status).toBe(404);
  });

  it('leaves no temp or lock files behind', () => {
    expect(readdirSync(join(fixture.dir, 'config')).filter((name) => /\.(tmp|lock)$|^\./.test(name))).toEqual([]);
    expect(() => JSON.parse(readFileSync(join(fixture.dir, 'config', 'access-groups.json'), 'utf8'))).not.toThrow();
  });
});
