import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { adminToken, api, basic, editJson, makeOperator, TILL_PASSWORD } from './support.js';

/**
 * The admin API for the whole config: every write is loaded with the rest of the config
 * before it is made; a refusal answers 422 with file/pointer issues and changes no file.
 */
let fixture: ConfigFixture;
let server: RunningServer;
let token: string;

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  const hash = (
    JSON.parse(readFileSync(join(fixture.dir, 'config/directory.json'), 'utf8')).tenants.demo.clients as {
      client_id: string;
      secret_hash: string;
    }[]
  ).find((c) => c.client_id === 'admin-console')?.secret_hash;
  editJson(fixture, 'config/directory.json', (d) => {
    d.tenants.acme.clients = [{ client_id: 'acme-admin', secret_hash: hash, access_group: 'Admin' }];
  });
  editJson(fixture, 'config/authpipe.json', (m) => {
    m.modules[0].config.tenant[1].allowedOperation.push('client-login');
  });
  // These tests change shared pipes and every tenant: the demo's API admin client is made an operator.
  makeOperator(fixture);
  server = await startServer({ configFile: fixture.mainFile });
  token = await adminToken(server);
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

const file = (relative: string) => readFileSync(join(fixture.dir, relative), 'utf8');
const tillLogin = (username: string, password: string) => server.call('till-login', {}, { authorization: basic(username, password) });

describe('who may call it', () => {
  it('401 without a token or with another tenant’s, 403 for a non-Admin token, before any path is matched', async () => {
    for (const path of ['/admin/pipes', '/admin/nothing-here', '/admin/pipes/till-login']) {
      expect((await api(server, 'GET', path)).status).toBe(401);
      expect((await api(server, 'DELETE', path, { token: 'not.a.token' })).status).toBe(401);
    }
    // A public-listener token of tenant acme, sent to the management port as demo.
    const acme = await adminToken(server, 'acme', 'acme-admin');
    const other = await api(server, 'GET', '/admin/pipes', { token: acme });
    expect([other.status, other.body.errorTranslationKeys]).toEqual([401, ['TOKEN_INVALID', 'TOKEN_REJECTED']]);
    // The same token as acme works on acme, and acme's admin cannot change demo.
    expect((await api(server, 'GET', '/admin/tenants', { token: acme, tenant: 'acme' })).status).toBe(200);
    const cross = await api(server, 'PATCH', '/admin/tenants/demo', {
      token: acme,
      tenant: 'acme',
      body: { displayName: 'x' },
      ifMatch: '"x"',
    });
    expect([cross.status, cross.body.errorTranslationKeys[1]]).toEqual([403, 'OTHER_TENANT']);
    // A till's token (group POS) authenticates, but is not an admin.
    const till = (await tillLogin('till-001', TILL_PASSWORD)).body.access_token as string;
    const notAdmin = await api(server, 'GET', '/admin/pipes', { token: till });
    expect([notAdmin.status, notAdmin.body.errorTranslationKeys[1]]).toEqual([403, 'NOT_ADMIN']);
    // Known path, wrong method: 405 with Allow, only after authentication.
    const wrong = await api(server, 'PATCH', '/admin/pipes', { token });
    expect([wrong.status, wrong.headers.get('allow')]).toEqual([405, 'GET, POST']);
    // HEAD is a method like any other (the router must not answer it with the GET handler).
    const head = await api(server, 'HEAD', '/admin/pipes/echo', { token });
    expect([head.status, head.headers.get('allow')]).toEqual([405, 'GET, PUT, DELETE']);
    // Paths are case-sensitive, a parameter that is not valid percent-encoding names nothing, and no path is deeper than its route.
    for (const path of ['/admin/PIPES', '/admin/pipes/%zz', '/admin/pipes/echo/validate/x']) {
      const res = await api(server, 'GET', path, { token });
      expect([path, res.status, res.body.errorTranslationKeys]).toEqual([path, 404, ['INVALID_REQUEST', 'NOT_FOUND']]);
    }
  });

  it('serves the OpenAPI document without a token', async () => {
    const res = await fetch(`${server.managementUrl}/admin/openapi.json`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { openapi: string }).openapi).toBe('3.1.0');
  });
});

describe('pipes', () => {
  it('reads a pipe with an ETag; a refused write answers 422 with issues at their pointers and changes nothing', async () => {
    const got = await api(server, 'GET', '/admin/pipes/till-login', { token });
    expect(got.status).toBe(200);
    expect(got.body.valves.map((v: { name: string }) => v.name)).toEqual(['rate-limit', 'basic-auth', 'access-group', 'token-mint']);
    const etag = got.headers.get('etag') as string;
    const before = file('pipes/till-login.json');
    const broken = [
      [{ ...got.body, valves: [{ name: 'no-such-valve' }, ...got.body.valves] }, '/valves/0/name'],
      [
        {
          ...got.body,
          valves: [...got.body.valves.slice(0, 3), { name: 'token-mint', config: { kind: 'system', claims: { x: '{{nowhere.x}}' } } }],
        },
        '/valves/3/config/claims/x',
      ],
      [{ ...got.body, valves: [{ name: 'pipe-call', config: { pipe: 'till-login' } }] }, '/valves/0'],
    ] as const;
    for (const [pipe, pointer] of broken) {
      const res = await api(server, 'PUT', '/admin/pipes/till-login', { token, body: pipe, ifMatch: etag });
      expect([res.status, res.body.errorTranslationKeys]).toEqual([422, ['INVALID_REQUEST', 'CONFIG_REFUSED']]);
      expect(res.body.issues).toContainEqual(
        expect.objectContaining({ file: expect.stringMatching(/pipes\/till-login\.json$/), pointer: expect.stringContaining(pointer) }),
      );
      expect(file('pipes/till-login.json')).toBe(before);
    }
    expect((await tillLogin('till-001', TILL_PASSWORD)).status).toBe(200);
  });

  it('needs the ETag of the version on disk: 428 without, 412 when stale; of two admins saving at once, one wins', async () => {
    const got = await api(server, 'GET', '/admin/pipes/echo', { token });
    const etag = got.headers.get('etag') as string;
    const body = { ...got.body, description: 'edited' };
    expect((await api(server, 'PUT', '/admin/pipes/echo', { token, body })).status).toBe(428);
    expect((await api(server, 'PUT', '/admin/pipes/echo', { token, body, ifMatch: '*' })).status).toBe(428);
    expect((await api(server, 'PUT', '/admin/pipes/echo', { token, body, ifMatch: '"stale"' })).status).toBe(412);
    const second = await adminToken(server);
    const both = await Promise.all([
      api(server, 'PUT', '/admin/pipes/echo', { token, body: { ...body, description: 'first' }, ifMatch: etag }),
      api(server, 'PUT', '/admin/pipes/echo', { token: second, body: { ...body, description: 'second' }, ifMatch: etag }),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 412]);
    const winner = both.find((r) => r.status === 200)?.body.description;
    expect(JSON.parse(file('pipes/echo.json')).description).toBe(winner);
  });

  it('a saved pipe is in effect for the next PUT call', async () => {
    const got = await api(server, 'GET', '/admin/pipes/echo', { token });
    const valves = got.body.valves.map((v: any) =>
      v.name === 'property-set' ? { ...v, config: { properties: { tenant: 'changed-{{tenant.id}}' } } } : v,
    );
    const saved = await api(server, 'PUT', '/admin/pipes/echo', {
      token,
      body: { ...got.body, valves },
      ifMatch: got.headers.get('etag') as string,
    });
    expect(saved.status).toBe(200);
    expect((await server.call('echo', { username: 'a' })).body.tenant).toBe('changed-demo');
  });

  it('creates and deletes a pipe; refuses to delete one a tenant allows', async () => {
    const created = await api(server, 'POST', '/admin/pipes', {
      token,
      body: { id: 'spare', valves: [{ name: 'property-set', config: { properties: { a: 'b' } } }], response: ['a'] },
    });
    expect([created.status, created.headers.get('location')]).toEqual([201, '/admin/pipes/spare']);
    expect((await api(server, 'POST', '/admin/pipes', { token, body: { id: 'spare', valves: [] } })).status).toBe(409);
    const inUse = await api(server, 'DELETE', '/admin/pipes/echo', {
      token,
      ifMatch: (await api(server, 'GET', '/admin/pipes/echo', { token })).headers.get('etag') as string,
    });
    expect([inUse.status, inUse.body.errorTranslationKeys[1]]).toEqual([409, 'PIPE_IN_USE']);
    expect(inUse.body.issues).toContainEqual(
      expect.objectContaining({ pointer: expect.stringMatching(/^\/modules\/0\/config\/tenant\/\d\/allowedOperation\/\d+$/) }),
    );
    const gone = await api(server, 'DELETE', '/admin/pipes/spare', { token, ifMatch: created.headers.get('etag') as string });
    expect(gone.status).toBe(204);
    expect((await api(server, 'GET', '/admin/pipes/spare', { token })).status).toBe(404);
  });

  it('refuses path ids with "..", an encoded slash or look-alike letters, touching no file', async () => {
    for (const id of [
      '..',
      '%2e%2e',
      '..%2f..%2fconfig%2fauthpipe',
      'till%2flogin',
      encodeURIComponent('tіll-login'),
      encodeURIComponent('ｅcho'),
    ]) {
      const got = await api(server, 'GET', `/admin/pipes/${id}`, { token });
      expect([id, got.status]).toEqual([id, 404]);
      const put = await api(server, 'PUT', `/admin/pipes/${id}`, { token, body: { id: 'x', valves: [] }, ifMatch: '"x"' });
      expect([id, put.status]).toEqual([id, 404]);
    }
    expect((await api(server, 'GET', `/admin/directory/tills/${encodeURIComponent('tіll-001')}`, { token })).status).toBe(404);
  });
});

describe('tenants', () => {
  it('refuses an operation with no pipe (422 at its pointer), then changes the display name in place', async () => {
    const got = await api(server, 'GET', '/admin/tenants/demo', { token });
    const etag = got.headers.get('etag') as string;
    const before = file('config/authpipe.json');
    const res = await api(server, 'PATCH', '/admin/tenants/demo', {
      token,
      ifMatch: etag,
      body: { allowedOperation: [...got.body.allowedOperation, 'no-such-pipe'] },
    });
    expect(res.status).toBe(422);
    expect(res.body.issues).toContainEqual(
      expect.objectContaining({ pointer: `/modules/0/config/tenant/0/allowedOperation/${got.body.allowedOperation.length}` }),
    );
    expect(file('config/authpipe.json')).toBe(before);
    const ok = await api(server, 'PATCH', '/admin/tenants/demo', { token, ifMatch: etag, body: { displayName: 'Demo renamed' } });
    expect([ok.status, ok.body.displayName]).toEqual([200, 'Demo renamed']);
    expect(file('config/authpipe.json')).toBe(before.replace('"displayName": "Demo brand"', '"displayName": "Demo renamed"'));
  });
});

describe('directory', () => {
  it('creates a till with a password hashed on the server, which then logs in; refuses empty and too long passwords', async () => {
    for (const password of ['', 'x'.repeat(257), 'short']) {
      const res = await api(server, 'POST', '/admin/directory/tills', {
        token,
        body: { username: 'till-100', store: 'store-01', password },
      });
      expect([res.status, res.body.erroneousProperties]).toEqual([400, ['/password']]);
    }
    const created = await api(server, 'POST', '/admin/directory/tills', {
      token,
      body: { username: 'till-100', store: 'store-01', password: 'till-100-pass' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ username: 'till-100', store: 'store-01', status: 'active', has_password: true, locked: false });
    expect(file('config/directory.json')).toMatch(
      /\{ "username": "till-100", "password_hash": "\$scrypt\$[^"]+", "store": "store-01", "status": "active" \}/,
    );
    expect(file('config/directory.json')).not.toContain('till-100-pass');
    expect((await tillLogin('till-100', 'till-100-pass')).status).toBe(200);
    // A till in a store that does not exist is refused by the load, at its pointer.
    const bad = await api(server, 'POST', '/admin/directory/tills', {
      token,
      body: { username: 'till-101', store: 'nowhere', password: 'till-101-pass' },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.issues[0].pointer).toMatch(/^\/tenants\/demo\/tills\/\d+\/store$/);
  });

  it('disables and enables a till, sets its password, unlocks it', async () => {
    let got = await api(server, 'GET', '/admin/directory/tills/till-002', { token });
    const disabled = await api(server, 'PATCH', '/admin/directory/tills/till-002', {
      token,
      ifMatch: got.headers.get('etag') as string,
      body: { status: 'disabled' },
    });
    expect(disabled.body.status).toBe('disabled');
    expect((await tillLogin('till-002', 'till-002-pass')).status).toBe(403);
    const stale = await api(server, 'PATCH', '/admin/directory/tills/till-002', {
      token,
      ifMatch: got.headers.get('etag') as string,
      body: { status: 'active' },
    });
    expect(stale.status).toBe(412);
    await api(server, 'PATCH', '/admin/directory/tills/till-002', {
      token,
      ifMatch: disabled.headers.get('etag') as string,
      body: { status: 'active' },
    });
    got = await api(server, 'GET', '/admin/directory/tills/till-002', { token });
    expect(
      (
        await api(server, 'POST', '/admin/directory/tills/till-002/password', {
          token,
          ifMatch: got.headers.get('etag') as string,
          body: { password: 'new-pass-002' },
        })
      ).status,
    ).toBe(200);
    expect((await tillLogin('till-002', 'new-pass-002')).status).toBe(200);

    for (let i = 0; i < 5; i++) await tillLogin('till-002', `wrong-${i}`);
    expect((await tillLogin('till-002', 'new-pass-002')).status).toBe(403);
    const locked = await api(server, 'GET', '/admin/locked', { token });
    expect(locked.body.accounts).toContainEqual(expect.objectContaining({ kind: 'till', id: 'till-002' }));
    expect((await api(server, 'GET', '/admin/directory/tills?q=till-002', { token })).body.tills[0]).toMatchObject({
      username: 'till-002',
      locked: true,
    });
    expect((await api(server, 'POST', '/admin/directory/tills/till-002/unlock', { token })).body.locked).toBe(false);
    expect((await tillLogin('till-002', 'new-pass-002')).status).toBe(200);
    expect((await api(server, 'GET', '/admin/locked', { token })).body.accounts).toEqual([]);
  }, 60_000); // refusals take the failure floor (a scrypt at N=2^15, calibrated at start)

  it('moves a client between access groups and lists users without their secrets', async () => {
    const got = await api(server, 'GET', '/admin/directory/clients/pos-server-1', { token });
    expect(got.body).not.toHaveProperty('secret_hash');
    const moved = await api(server, 'PATCH', '/admin/directory/clients/pos-server-1', {
      token,
      ifMatch: got.headers.get('etag') as string,
      body: { access_group: 'POS' },
    });
    expect(moved.body.access_group).toBe('POS');
    const unknown = await api(server, 'PATCH', '/admin/directory/clients/pos-server-1', {
      token,
      ifMatch: moved.headers.get('etag') as string,
      body: { access_group: 'nope' },
    });
    expect(unknown.status).toBe(422);
    const users = await api(server, 'GET', '/admin/directory/users?q=alice', { token });
    expect(users.body.users).toHaveLength(1);
    expect(users.body.users[0]).not.toHaveProperty('totp_secret');
  });
});

describe('dry run, overview and audit', () => {
  it('runs an operation with a masked trace', async () => {
    const res = await api(server, 'POST', '/admin/dry-run', {
      token,
      body: { operation: 'till-login', body: { username: 'till-001', password: TILL_PASSWORD } },
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe(200);
    expect(res.body.body.access_token).toBe('***');
    expect(res.body.trace.steps.map((s: { valve: string }) => s.valve)).toEqual(['rate-limit', 'basic-auth', 'access-group', 'token-mint']);
    expect(JSON.stringify(res.body)).not.toContain(TILL_PASSWORD);
    const refused = await api(server, 'POST', '/admin/dry-run', {
      token,
      body: { operation: 'till-login', body: { username: 'till-001', password: 'wrong' } },
    });
    expect([refused.body.status, refused.body.error.code]).toEqual([403, 'INVALID_CREDENTIALS']);
  });

  it('shows the overview and the audit events of the tenant', async () => {
    const res = await api(server, 'GET', '/admin/overview', { token });
    expect(res.body).toMatchObject({ tenant: 'demo', store: 'up', lastReloadError: null, ldap: [{ id: 'corp-ldap' }] });
    expect(res.body.calls).toContainEqual(
      expect.objectContaining({ operation: 'till-login', outcome: 'refused', code: 'INVALID_CREDENTIALS' }),
    );
    const audit = await api(server, 'GET', '/admin/audit?event=admin.config_changed', { token });
    expect(audit.body.events.length).toBeGreaterThan(0);
    expect(
      audit.body.events.every((e: { event: string; tenant?: string }) => e.event === 'admin.config_changed' && e.tenant === 'demo'),
    ).toBe(true);
    expect((await api(server, 'GET', '/admin/audit?bogus=1', { token })).status).toBe(400);
  });
});
