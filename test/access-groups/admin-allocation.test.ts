import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { adminCall, adminToken, readJson, TILL_PASSWORD, basic } from './support.js';

/**
 * Allocating stores, deactivating groups, the tenant default, and a restart that keeps every
 * change. Allocation lives in one place, the store's access_group in the directory; the
 * admin API edits that member in place and reloads, so a till feels it on its next call.
 */

let fixture: ConfigFixture;
let server: RunningServer;
let token: string;

const call = (method: string, path: string, options: Parameters<typeof adminCall>[3] = {}) =>
  adminCall(server, method, path, { token, ...options });
const etagOf = async (id: string) => (await call('GET', `/${id}`)).headers.get('etag') as string;
const directoryText = () => readFileSync(join(fixture.dir, 'config', 'directory.json'), 'utf8');
/** What till-101 (store-02) may do right now, through the authorize pipe. */
const till101 = async (api: string, resource: string, access: string) => {
  const res = await server.call('authorize', { api, resource, access }, { authorization: basic('till-101', TILL_PASSWORD) });
  return res.status === 200 ? res.body.access_group : res.body.errorTranslationKeys[0];
};

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  const tillHash = readJson(fixture, 'config/directory.json').tenants.demo.tills[0].password_hash;
  // Hand-formatted like the shipped file (one entry per line), with the new till and store added in place.
  const text = directoryText()
    .replace(
      '{ "id": "store-02", "name": "Demo pop-up store", "manager": "u-2002" }',
      '{ "id": "store-02", "name": "Demo pop-up store", "manager": "u-2002" },\n        { "id": "store-03", "name": "Demo outlet" }',
    )
    // A function, not a replacement string: a PHC hash is full of `$`, and one followed by a
    // digit (a fresh salt starting with 1) would read as a group reference.
    .replace(
      /("tills": \[\n)/,
      (tills) => `${tills}        { "username": "till-101", "password_hash": "${tillHash}", "store": "store-02" },\n`,
    );
  writeFileSync(join(fixture.dir, 'config', 'directory.json'), text);
  server = await startServer({ configFile: fixture.mainFile });
  token = await adminToken(server);
});

afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

describe('allocating stores', () => {
  it('a store with no group follows the default; allocated, its tills get the group at once', async () => {
    expect(await till101('data', 'customer', 'POST')).toBe('Instore');
    expect(await till101('data', 'coupon', 'POST')).toBe('ACCESS_DENIED');
    const before = directoryText();
    const res = await call('POST', '/wechat/stores', { ifMatch: await etagOf('wechat'), body: { add: ['store-02'] } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ allocatedStores: 1, stores: [{ id: 'store-02', name: 'Demo pop-up store' }] });
    expect(await till101('data', 'coupon', 'POST')).toBe('wechat');
    expect(await till101('data', 'customer', 'POST')).toBe('ACCESS_DENIED');
    // One line of the hand-formatted directory changed, nothing else.
    const changed = directoryText()
      .split('\n')
      .filter((line, i) => line !== before.split('\n')[i]);
    expect(changed).toEqual(['        { "id": "store-02", "name": "Demo pop-up store", "manager": "u-2002", "access_group": "wechat" },']);
    expect(directoryText().split('\n')).toHaveLength(before.split('\n').length);
  });

  it("adding a store allocated elsewhere, naming where it is, moves it: the old group's count drops", async () => {
    expect((await call('GET', '/POS')).body.allocatedStores).toBe(1);
    const res = await call('POST', '/wechat/stores', {
      ifMatch: await etagOf('wechat'),
      body: { add: [{ store: 'store-01', from: 'POS' }, 'store-03'] },
    });
    expect(res.body.stores.map((s: { id: string }) => s.id)).toEqual(['store-01', 'store-02', 'store-03']);
    expect((await call('GET', '/POS')).body.allocatedStores).toBe(0);
    const listed = (await call('GET', '')).body.groups;
    expect(listed.find((g: { id: string }) => g.id === 'wechat').allocatedStores).toBe(3);
  });

  it('built-in groups take stores too', async () => {
    const res = await call('POST', '/POS/stores', { ifMatch: await etagOf('POS'), body: { add: [{ store: 'store-01', from: 'wechat' }] } });
    expect(res.status).toBe(200);
    expect(res.body.stores).toEqual([{ id: 'store-01', name: 'Demo flagship store' }]);
  });

  it("an allocation changes the group's ETag: a stale one is 412", async () => {
    const stale = await etagOf('wechat');
    await call('POST', '/wechat/stores', { ifMatch: stale, body: { remove: ['store-03'] } });
    const res = await call('POST', '/wechat/stores', { ifMatch: stale, body: { add: ['store-03'] } });
    expect(res.status).toBe(412);
    expect((await call('POST', '/wechat/stores', { body: { add: ['store-03'] } })).status).toBe(428);
  });

  it.each([
    ['an unknown store', { add: ['store-99'] }, 400, 'UNKNOWN_STORE', ['/add/0']],
    ["another tenant's store", { add: ['acme-store-1'] }, 400, 'UNKNOWN_STORE', ['/add/0']],
    ['removing a store of another group', { remove: ['store-01'] }, 409, 'STORE_NOT_IN_GROUP', ['/remove/0']],
    ['adding and removing one store', { add: ['store-02'], remove: ['store-02'] }, 400, 'BAD_BODY', ['/add', '/remove']],
    ['an empty body', {}, 400, 'BAD_BODY', ['/']],
    ['a store id that is not a string', { add: [7] }, 400, 'BAD_BODY', ['/add/0']],
  ])('%s: %i %s', async (_label, body, status, reason, pointers) => {
    const before = directoryText();
    const res = await call('POST', '/wechat/stores', { ifMatch: await etagOf('wechat'), body });
    expect(res.status).toBe(status);
    expect(res.body.errorTranslationKeys[1]).toBe(reason);
    expect(res.body.erroneousProperties).toEqual(pointers);
    expect(directoryText()).toBe(before);
  });
});

describe('deactivating', () => {
  it('refused with a clear message while stores are allocated; allowed once they are removed', async () => {
    const refused = await call('POST', '/wechat/deactivate', { ifMatch: await etagOf('wechat') });
    expect(refused.status).toBe(409);
    expect(refused.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'STORES_ALLOCATED']);
    expect(refused.body.message).toBe(
      'group "wechat" still has 1 store(s) allocated (store-02); remove them from the group before deactivating it',
    );
    expect((await call('GET', '/wechat')).body.status).toBe('active');

    await call('POST', '/wechat/stores', { ifMatch: await etagOf('wechat'), body: { remove: ['store-02'] } });
    expect(await till101('data', 'customer', 'POST')).toBe('Instore');
    const done = await call('POST', '/wechat/deactivate', { ifMatch: await etagOf('wechat') });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'inactive', scope: '', allocatedStores: 0 });
  });

  it('an inactive group takes no stores and cannot become the default; it can be activated again', async () => {
    const add = await call('POST', '/wechat/stores', { ifMatch: await etagOf('wechat'), body: { add: ['store-02'] } });
    expect(add.status).toBe(409);
    expect(add.body.errorTranslationKeys[1]).toBe('GROUP_INACTIVE');
    const def = await call('PUT', '/default', {
      ifMatch: (await call('GET', '/default')).headers.get('etag') as string,
      body: { group: 'wechat' },
    });
    expect(def.status).toBe(409);
    expect(def.body.errorTranslationKeys[1]).toBe('GROUP_INACTIVE');
    const again = await call('POST', '/wechat/activate', { ifMatch: await etagOf('wechat') });
    expect(again.body.status).toBe('active');
  });

  it('built-in groups cannot be deactivated', async () => {
    const res = await call('POST', '/Instore/deactivate', { ifMatch: await etagOf('Instore') });
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['ACCESS_DENIED', 'BUILT_IN_READ_ONLY']);
  });

  it('the tenant default cannot be deactivated', async () => {
    const created = await call('POST', '', { body: { name: 'Fallback', permissions: { data: { customer: 'read' } } } });
    await call('PUT', '/default', { ifMatch: (await call('GET', '/default')).headers.get('etag') as string, body: { group: 'fallback' } });
    const res = await call('POST', '/fallback/deactivate', { ifMatch: created.headers.get('etag') as string });
    expect(res.status).toBe(412); // the default changed since creation: isDefault is part of the group's view
    const refused = await call('POST', '/fallback/deactivate', { ifMatch: await etagOf('fallback') });
    expect(refused.status).toBe(409);
    expect(refused.body.errorTranslationKeys[1]).toBe('DEFAULT_GROUP');
  });
});

describe('the default group', () => {
  it('GET shows it with an ETag; PUT needs If-Match and changes what unallocated stores get, at once', async () => {
    const current = await call('GET', '/default');
    expect(current.body).toEqual({ group: 'fallback' });
    expect(await till101('data', 'customer', 'GET')).toBe('fallback');
    expect((await call('PUT', '/default', { body: { group: 'POS' } })).status).toBe(428);
    const res = await call('PUT', '/default', { ifMatch: current.headers.get('etag') as string, body: { group: 'POS' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ group: 'POS' });
    expect(await till101('data', 'transaction', 'POST')).toBe('POS');
    expect((await call('PUT', '/default', { ifMatch: current.headers.get('etag') as string, body: { group: 'Instore' } })).status).toBe(
      412,
    );
  });

  it('an unknown group is a 400; null clears the default, and then a store without a group gives nothing', async () => {
    const etag = async () => (await call('GET', '/default')).headers.get('etag') as string;
    const unknown = await call('PUT', '/default', { ifMatch: await etag(), body: { group: 'ghost' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'UNKNOWN_GROUP']);
    expect((await call('PUT', '/default', { ifMatch: await etag(), body: {} })).status).toBe(400);
    expect((await call('PUT', '/default', { ifMatch: await etag(), body: { group: null } })).body).toEqual({ group: null });
    expect(await till101('data', 'customer', 'GET')).toBe('ACCESS_DENIED');
    const login = await server.call('till-login', {}, { authorization: basic('till-101', TILL_PASSWORD) });
    expect(login.body.errorTranslationKeys).toEqual(['ACCESS_DENIED']);
    await call('PUT', '/default', { ifMatch: await etag(), body: { group: 'Instore' } });
  });
});

describe('persistence', () => {
  it('a restart keeps every admin change', async () => {
    const created = await call('POST', '', {
      body: { name: 'Restart proof', description: 'made before the restart', permissions: { config: { store: 'read' } } },
    });
    await call('PATCH', '/restart-proof', { ifMatch: created.headers.get('etag') as string, body: { name: 'Restart proof (edited)' } });
    await call('POST', '/restart-proof/stores', { ifMatch: await etagOf('restart-proof'), body: { add: ['store-02'] } });
    await call('POST', '/fallback/deactivate', { ifMatch: await etagOf('fallback') });
    const beforeList = (await call('GET', '')).body;
    const beforeDetail = await call('GET', '/restart-proof');
    expect(await till101('config', 'store', 'GET')).toBe('restart-proof');

    await server.close();
    server = await startServer({ configFile: fixture.mainFile });
    token = await adminToken(server);

    expect((await call('GET', '')).body).toEqual(beforeList);
    const afterDetail = await call('GET', '/restart-proof');
    expect(afterDetail.body).toEqual(beforeDetail.body);
    expect(afterDetail.headers.get('etag')).toBe(beforeDetail.headers.get('etag'));
    expect(beforeList.groups.find((g: { id: string }) => g.id === 'fallback').status).toBe('inactive');
    expect(beforeList.default).toBe('Instore');
    expect(await till101('config', 'store', 'GET')).toBe('restart-proof');
    expect(await till101('config', 'store', 'POST')).toBe('ACCESS_DENIED');
  });

  it('when the config with the change does not load, the file is put back and the answer is 500', async () => {
    const groupsFile = join(fixture.dir, 'config', 'access-groups.json');
    const before = readFileSync(groupsFile, 'utf8');
    const version = server.app.holder.current.version;
    fixture.writePipe('echo', '{ "id": "echo", "valves": [ { "name": "no-such-valve" } ] }');
    const res = await call('PATCH', '/restart-proof', { ifMatch: await etagOf('restart-proof'), body: { description: 'never applied' } });
    expect(res.status).toBe(500);
    expect(res.body.errorTranslationKeys).toEqual(['INTERNAL_ERROR', 'RELOAD_FAILED']);
    expect(res.body.message).toMatch(/pipes\/echo\.json: \/valves\/0\/name: unknown valve "no-such-valve"/);
    expect(readFileSync(groupsFile, 'utf8')).toBe(before);
    expect(server.app.holder.current.version).toBe(version);
    expect((await call('GET', '/restart-proof')).body.description).toBe('made before the restart');
    // Nothing left behind: no temp file and no lock.
    expect(readdirSync(join(fixture.dir, 'config')).filter((name) => /\.(tmp|lock)$|^\./.test(name))).toEqual([]);
  });
});
