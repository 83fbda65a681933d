import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigFixture } from '../support/fixture.js';
import { rawRequest } from '../support/raw-http.js';
import { startServer, type RunningServer } from '../support/server.js';
import { adminCall, adminToken, editJson, readJson } from './support.js';

/**
 * The edges of the admin API a hostile review found: odd request targets, what a caller
 * learns before authentication, what a refusal tells, the body parser's strictness,
 * look-alike group names, two admins racing for one store, and stores in the Admin group.
 */

let fixture: ConfigFixture;
let server: RunningServer;
let token: string;
let port: number;

const call = (method: string, path: string, options: Parameters<typeof adminCall>[3] = {}) =>
  adminCall(server, method, path, { token, ...options });
const etagOf = async (id: string) => (await call('GET', `/${id}`)).headers.get('etag') as string;
const directoryText = () => readFileSync(join(fixture.dir, 'config', 'directory.json'), 'utf8');
const reasonOf = (res: { body: any }) => res.body.errorTranslationKeys?.[1];

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  const hash = readJson(fixture, 'config/directory.json').tenants.demo.clients.find(
    (c: { client_id: string }) => c.client_id === 'admin-console',
  ).secret_hash;
  editJson(fixture, 'config/directory.json', (d) => {
    d.tenants.demo.clients.push({ client_id: 'store-manager', secret_hash: hash, access_group: 'POS' });
  });
  server = await startServer({ configFile: fixture.mainFile });
  port = Number(new URL(server.managementUrl).port);
  token = await adminToken(server);
});

afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

describe('request targets', () => {
  it('an absolute-form target with a bad port is a coded refusal, not a 500', async () => {
    for (const target of [
      'http://127.0.0.1:99999/admin/access-groups',
      'http://127.0.0.1:99999/admin/access-groups?name=x',
      'http://[::1/admin/access-groups',
    ]) {
      const res = await rawRequest(
        port,
        `GET ${target} HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\nAuthorization: Bearer ${token}\r\ntenant: demo\r\n\r\n`,
      );
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body).errorTranslationKeys[0]).toBe('INVALID_REQUEST');
      expect(res.headers).toMatch(/x-request-id: /i);
      expect(res.headers).toMatch(/cache-control: no-store/i);
    }
  });

  it('a well-formed absolute-form target is served like its path', async () => {
    const res = await rawRequest(
      port,
      `GET http://localhost/admin/access-groups HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\nAuthorization: Bearer ${token}\r\ntenant: demo\r\n\r\n`,
    );
    expect(res.status).toBe(200);
  });
});

describe('authentication comes first', () => {
  it('an unknown path or a wrong method without a token is a 401, not a 404 or 405', async () => {
    for (const [method, path] of [
      ['GET', '/a/b/c'],
      ['DELETE', ''],
      ['POST', '/default'],
      ['GET', '/%zz'],
    ] as const) {
      const res = await adminCall(server, method, path);
      expect(res.status).toBe(401);
      expect(reasonOf(res)).toBe('TOKEN_MISSING');
      expect(res.headers.get('allow')).toBeNull();
    }
  });

  it('with a token, they are 404 and 405', async () => {
    expect(reasonOf(await call('GET', '/a/b/c'))).toBe('NOT_FOUND');
    const res = await call('DELETE', '');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST');
  });

  it('HEAD is a 405 like any method a path does not serve (the router must not answer it with GET)', async () => {
    for (const [path, allow] of [
      ['', 'GET, POST'],
      ['/default', 'GET, PUT'],
      ['/POS', 'GET, PATCH'],
      ['/POS/stores', 'POST'],
    ] as const) {
      const res = await call('HEAD', path);
      expect([path, res.status, res.headers.get('allow')]).toEqual([path, 405, allow]);
    }
  });

  it('/default is the default group, never a group id; a wrong method there names its own methods', async () => {
    const res = await call('PATCH', '/default', { body: {} });
    expect([res.status, res.headers.get('allow')]).toEqual([405, 'GET, PUT']);
  });

  it('an id that is not valid percent-encoding, a path one level too deep and a wrong-case path are 404', async () => {
    for (const path of ['/%zz', '/%zz/stores', '/POS/stores/extra', '/DEFAULT/x']) {
      const res = await call('GET', path);
      expect([path, res.status, reasonOf(res)]).toEqual([path, 404, 'NOT_FOUND']);
    }
  });

  it('NOT_ADMIN does not tell the caller their group', async () => {
    const manager = await adminToken(server, 'demo', 'store-manager');
    const res = await adminCall(server, 'GET', '', { token: manager });
    expect(res.status).toBe(403);
    expect(reasonOf(res)).toBe('NOT_ADMIN');
    expect(JSON.stringify(res.body)).not.toMatch(/POS/);
  });
});

describe("the body parser is as strict as the API's", () => {
  it.each([
    ['a duplicate key', '{"name":"Twice","name":"Other"}'],
    ['a duplicate key one level down', '{"name":"Deep","permissions":{"data":{"customer":"read","customer":"write"}}}'],
    ['a byte order mark', '\ufeff{"name":"Bommed"}'],
    ['a __proto__ key', '{"name":"Proto","__proto__":{"x":1}}'],
    ['trailing garbage', '{"name":"Trailing"} x'],
  ])('%s is BAD_BODY', async (_label, body) => {
    const res = await call('POST', '', { body });
    expect(res.status).toBe(400);
    expect(reasonOf(res)).toBe('BAD_BODY');
    expect((await call('GET', '')).body.groups.map((g: { name: string }) => g.name)).not.toContain('Twice');
  });
});

describe('look-alike group names', () => {
  it.each([
    ['Cyrillic А in Admin', 'Аdmin'],
    ['Greek ο and Cyrillic е in POS-like WeChat', 'WеChаt'],
    ['full-width letters', 'ＷｅＣｈａｔ'],
    ['a different case and a Cyrillic letter', 'pоs'],
  ])('%s is NAME_TAKEN', async (_label, name) => {
    const res = await call('POST', '', { body: { name } });
    expect(res.status).toBe(409);
    expect(reasonOf(res)).toBe('NAME_TAKEN');
  });

  it.each([
    ['a right-to-left override', 'Team\u202eevil'],
    ['a zero-width space', 'Ad\u200bmin'],
    ['a soft hyphen', 'Ad\u00admin'],
    ['a bidi isolate', '\u2066Sales\u2069'],
  ])('%s is refused as BAD_BODY', async (_label, name) => {
    const res = await call('POST', '', { body: { name } });
    expect(res.status).toBe(400);
    expect(reasonOf(res)).toBe('BAD_BODY');
    expect(res.body.erroneousProperties).toEqual(['/name']);
  });

  it('a name is stored NFKC-normalised', async () => {
    const res = await call('POST', '', { body: { name: 'Ｂａｃｋ office ﬁle' } });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('Back office file');
    const again = await call('POST', '', { body: { name: 'back office file' } });
    expect(reasonOf(again)).toBe('NAME_TAKEN');
  });
});

describe('two admins allocating one store', () => {
  beforeAll(async () => {
    await call('POST', '', { body: { id: 'east', name: 'East' } });
    await call('POST', '', { body: { id: 'west', name: 'West' } });
  });

  it('moving a store from another group must name that group; a wrong one is 409 STORE_MOVED', async () => {
    const plain = await call('POST', '/east/stores', { ifMatch: await etagOf('east'), body: { add: ['store-01'] } });
    expect(plain.status).toBe(409);
    expect(reasonOf(plain)).toBe('STORE_MOVED');
    expect(plain.body.erroneousProperties).toEqual(['/add/0']);
    const wrong = await call('POST', '/east/stores', {
      ifMatch: await etagOf('east'),
      body: { add: [{ store: 'store-01', from: 'Instore' }] },
    });
    expect(reasonOf(wrong)).toBe('STORE_MOVED');
  });

  it('both sent at once with valid ETags: one wins, the other is 409 and nothing is lost silently', async () => {
    const [east, west] = await Promise.all([etagOf('east'), etagOf('west')]);
    const answers = await Promise.all([
      call('POST', '/east/stores', { ifMatch: east, body: { add: [{ store: 'store-01', from: 'POS' }] } }),
      call('POST', '/west/stores', { ifMatch: west, body: { add: [{ store: 'store-01', from: 'POS' }] } }),
    ]);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 409]);
    const loser = answers.find((a) => a.status === 409) as { body: any };
    expect(reasonOf(loser)).toBe('STORE_MOVED');
    const winner = answers[0]?.status === 200 ? 'east' : 'west';
    expect(readJson(fixture, 'config/directory.json').tenants.demo.stores[0].access_group).toBe(winner);
  });

  it('a store with no group is added as a plain id; once allocated, a plain add elsewhere is 409', async () => {
    expect((await call('POST', '/east/stores', { ifMatch: await etagOf('east'), body: { add: ['store-02'] } })).status).toBe(200);
    expect(reasonOf(await call('POST', '/west/stores', { ifMatch: await etagOf('west'), body: { add: ['store-02'] } }))).toBe(
      'STORE_MOVED',
    );
    expect(
      (await call('POST', '/west/stores', { ifMatch: await etagOf('west'), body: { add: [{ store: 'store-02', from: 'east' }] } })).status,
    ).toBe(200);
  });
});

describe('stores in the built-in Admin group', () => {
  it('are refused unless admin_api.allow_admin_stores is true', async () => {
    const before = directoryText();
    const res = await call('POST', '/Admin/stores', {
      ifMatch: await etagOf('Admin'),
      body: { add: [{ store: 'store-02', from: 'west' }] },
    });
    expect(res.status).toBe(403);
    expect(reasonOf(res)).toBe('ADMIN_STORES_REFUSED');
    expect(directoryText()).toBe(before);

    editJson(fixture, 'config/authpipe.json', (main) => {
      main.admin_api = { allow_admin_stores: true };
    });
    expect(server.app.reload().ok).toBe(true);
    const allowed = await call('POST', '/Admin/stores', {
      ifMatch: await etagOf('Admin'),
      body: { add: [{ store: 'store-02', from: 'west' }] },
    });
    expect(allowed.status).toBe(200);
  });
});

describe('RELOAD_FAILED', () => {
  it('names the broken files only to readyz.clients', async () => {
    editJson(fixture, 'config/authpipe.json', (main) => {
      main.readyz = { clients: ['10.9.9.9'] };
    });
    expect(server.app.reload().ok).toBe(true);
    fixture.writePipe('echo', '{ "id": "echo", "valves": [ { "name": "no-such-valve" } ] }');
    const res = await call('PATCH', '/east', { ifMatch: await etagOf('east'), body: { description: 'never applied' } });
    expect(res.status).toBe(500);
    expect(reasonOf(res)).toBe('RELOAD_FAILED');
    expect(JSON.stringify(res.body)).not.toMatch(/echo|no-such-valve|valves/);
  });
});
