import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { ManualClock } from '../support/clock.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { b64, es256, fixtureKey } from '../tokens/support.js';
import { ADMIN_SECRET, adminCall, adminToken, allow, basic, editJson, readJson, TILL_PASSWORD } from './support.js';

/**
 * Who may use the admin API: only a bearer token this engine minted, for this tenant, for a
 * subject that is in the built-in Admin group at the time of the call. 401 when there is no
 * token or it does not authenticate anyone here (alg none, forged, expired, another tenant);
 * 403 when it does but the subject is not in Admin.
 */

const clock = new ManualClock(Date.UTC(2026, 2, 9, 9, 0, 0));
let fixture: ConfigFixture;
let server: RunningServer;
let ours: { kid: string; key: KeyObject };

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  const hash = readJson(fixture, 'config/directory.json').tenants.demo.clients.find(
    (c: { client_id: string }) => c.client_id === 'admin-console',
  ).secret_hash;
  editJson(fixture, 'config/directory.json', (d) => {
    d.tenants.demo.clients.push(
      { client_id: 'store-manager', secret_hash: hash, access_group: 'POS' },
      { client_id: 'second-admin', secret_hash: hash, access_group: 'Admin' },
    );
    d.tenants.acme.clients = [{ client_id: 'acme-admin', secret_hash: hash, access_group: 'Admin' }];
  });
  // acme without a default: its store without a group gives its tills nothing.
  editJson(fixture, 'config/access-groups.json', (g) => {
    delete g.tenants.acme;
  });
  // A login that mints without the kind claim: its subject cannot be looked up.
  fixture.writePipe('client-login-bare', {
    valves: [
      { name: 'basic-auth', config: { kind: 'client' } },
      { name: 'token-mint', config: { kind: 'system' } },
    ],
    response: ['access_token'],
  });
  allow(fixture, 'demo', ['client-login-bare']);
  allow(fixture, 'acme', ['client-login']);
  server = await startServer({ configFile: fixture.mainFile, clock });
  ours = fixtureKey(fixture);
});

afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

const list = (token?: string, tenant?: string) =>
  adminCall(server, 'GET', '', { ...(token !== undefined ? { token } : {}), ...(tenant !== undefined ? { tenant } : {}) });

function expectUnauthorized(res: Awaited<ReturnType<typeof list>>, reason: string): void {
  expect(res.status).toBe(401);
  expect(res.body.errorTranslationKeys).toEqual(['TOKEN_INVALID', reason]);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="authpipe-admin"/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.body.requestId).toBe(res.headers.get('x-request-id'));
}

describe('401: no token, or one that authenticates nobody here', () => {
  it('no Authorization header', async () => {
    expectUnauthorized(await list(), 'TOKEN_MISSING');
  });

  it('Basic credentials instead of a bearer token, or two Authorization headers', async () => {
    expectUnauthorized(
      await adminCall(server, 'GET', '', { headers: { authorization: basic('admin-console', ADMIN_SECRET) } }),
      'TOKEN_MISSING',
    );
    const token = await adminToken(server);
    const res = await fetch(`${server.managementUrl}/admin/access-groups`, {
      headers: [
        ['tenant', 'demo'],
        ['authorization', `Bearer ${token}`],
        ['authorization', `Bearer ${token}`],
      ],
    });
    expect(res.status).toBe(401);
  });

  it('a token that is not a JWT', async () => {
    expectUnauthorized(await list('not.a.jwt'), 'TOKEN_REJECTED');
    expectUnauthorized(await list('x'.repeat(9000)), 'TOKEN_REJECTED');
  });

  it('alg none, with claims copied from a real admin token', async () => {
    const real = await adminToken(server);
    const claims = decodeJwt(real);
    const header = decodeProtectedHeader(real);
    expectUnauthorized(await list(`${b64({ ...header, alg: 'none' })}.${b64(claims)}.`), 'TOKEN_REJECTED');
    expectUnauthorized(await list(`${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.`), 'TOKEN_REJECTED');
  });

  it('the same claims signed with a key that is not ours', async () => {
    const claims = decodeJwt(await adminToken(server));
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expectUnauthorized(await list(es256({ alg: 'ES256', typ: 'at+jwt', kid: ours.kid }, claims, attacker.privateKey)), 'TOKEN_REJECTED');
    // Our own key signs it: accepted, so the forgery above failed on the signature alone.
    expect((await list(es256({ alg: 'ES256', typ: 'at+jwt', kid: ours.kid }, claims, ours.key))).status).toBe(200);
  });

  it('an expired token (10 minutes), while a fresh one works', async () => {
    const token = await adminToken(server);
    expect((await list(token)).status).toBe(200);
    clock.advance(606_000); // 10 minutes and the 5 s of clock skew forgiven
    expectUnauthorized(await list(token), 'TOKEN_REJECTED');
    expect((await list(await adminToken(server))).status).toBe(200);
  });

  it('a token of another tenant, real or re-signed by us with only the tenant changed', async () => {
    const acme = await adminToken(server, 'acme', 'acme-admin');
    expect((await list(acme, 'acme')).status).toBe(200);
    expectUnauthorized(await list(acme, 'demo'), 'TOKEN_REJECTED');
    const demo = await adminToken(server);
    expectUnauthorized(await list(demo, 'acme'), 'TOKEN_REJECTED');
    const moved = es256({ alg: 'ES256', typ: 'at+jwt', kid: ours.kid }, { ...decodeJwt(demo), tenant: 'acme' }, ours.key);
    expectUnauthorized(await list(moved, 'demo'), 'TOKEN_REJECTED');
  });

  it('an unknown tenant answers like a wrong tenant (no tenant enumeration); a missing one is a 400', async () => {
    const token = await adminToken(server);
    expectUnauthorized(await list(token, 'nobody'), 'TOKEN_REJECTED');
    const missing = await list(token, '');
    expect(missing.status).toBe(400);
    expect(missing.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'BAD_TENANT']);
    expect((await list(token, 'bad tenant!')).status).toBe(400);
  });

  it('a refresh-type or wrong-audience token', async () => {
    const claims = decodeJwt(await adminToken(server));
    expectUnauthorized(await list(es256({ alg: 'ES256', typ: 'refresh+jwt', kid: ours.kid }, claims, ours.key)), 'TOKEN_REJECTED');
    expectUnauthorized(
      await list(es256({ alg: 'ES256', typ: 'at+jwt', kid: ours.kid }, { ...claims, aud: 'https://elsewhere.example' }, ours.key)),
      'TOKEN_REJECTED',
    );
  });
});

describe('403: authenticated, but not in the Admin group', () => {
  function expectForbidden(res: Awaited<ReturnType<typeof list>>): void {
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['ACCESS_DENIED', 'NOT_ADMIN']);
  }

  it('a client in POS', async () => {
    expectForbidden(await list(await adminToken(server, 'demo', 'store-manager')));
  });

  it("a till, through its store's group", async () => {
    const till = await server.call('till-login', {}, { authorization: basic('till-001', TILL_PASSWORD) });
    expectForbidden(await list(till.body.access_token));
  });

  it('a token without the kind claim: its subject cannot be looked up', async () => {
    const res = await server.call('client-login-bare', {}, { authorization: basic('admin-console', ADMIN_SECRET) });
    expect(res.status).toBe(200);
    expectForbidden(await list(res.body.access_token));
  });

  it('a till whose store has no group, in a tenant with no default (a token we signed: till-login would refuse it)', async () => {
    const claims = {
      ...decodeJwt(await adminToken(server, 'acme', 'acme-admin')),
      sub: 'acme-till-1',
      client_id: 'acme-till-1',
      kind: 'till',
    };
    // Signed with acme's own key: each tenant signs with keys of its own.
    const acmeKey = fixtureKey(fixture, 'acme');
    const res = await list(es256({ alg: 'ES256', typ: 'at+jwt', kid: acmeKey.kid }, claims, acmeKey.key), 'acme');
    expectForbidden(res);
    const login = await server.call('till-login', {}, { tenant: 'acme', authorization: basic('acme-till-1', 'acme-till-1-pass') });
    expect(login.body.errorTranslationKeys).toEqual(['ACCESS_DENIED']);
  });

  it('membership is checked at each call: a client moved out of Admin loses access with its token still valid', async () => {
    const token = await adminToken(server, 'demo', 'second-admin');
    expect((await list(token)).status).toBe(200);
    editJson(fixture, 'config/directory.json', (d) => {
      d.tenants.demo.clients.find((c: { client_id: string }) => c.client_id === 'second-admin').access_group = 'Instore';
    });
    expect(server.app.reload().ok).toBe(true);
    expectForbidden(await list(token));
  });
});

describe('routing', () => {
  it('unknown paths are 404 and wrong methods 405 with Allow, once authenticated (before: 401 for all)', async () => {
    expect((await adminCall(server, 'GET', '/POS/nothing-here')).status).toBe(401);
    const token = await adminToken(server);
    const missing = await adminCall(server, 'GET', '/POS/nothing-here', { token });
    expect(missing.status).toBe(404);
    expect(missing.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'NOT_FOUND']);
    const wrong = await adminCall(server, 'DELETE', '/POS', { token });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, PATCH');
    expect((await adminCall(server, 'PUT', '', { token })).headers.get('allow')).toBe('GET, POST');
  });
});
