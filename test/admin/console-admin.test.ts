import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigFixture } from '../support/fixture.js';
import { freePort } from '../support/net.js';
import { startServer, type RunningServer } from '../support/server.js';
import { CookieJar, authorizationRequest, discover, expectPage, follow, passwordLogin } from '../oidc/support.js';
import { addOperatorAndTenantAdmin, adminToken, api, basic } from './support.js';
import { hotp } from '../../src/otp/hotp.js';

/**
 * The admin API behind the console's everyday work: clients created as sysapps (a secret made
 * and shown once) and userapps, a client locked from one address listed and unlocked, a user's
 * sessions seen and ended, signing keys rotated and activated (with the activation floor),
 * pools created and edited, tenants created by an operator. Each with its refusals: unknown
 * members, no or a stale If-Match, a tenant admin on another tenant or an operator's route.
 */
let fixture: ConfigFixture;
let server: RunningServer;
/** admin-console of demo, listed as an operator. */
let operator: string;
/** demo-admin: in demo's Admin group, not an operator. */
let demoAdmin: string;

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  addOperatorAndTenantAdmin(fixture);
  // A port of its own: the OpenID door's issuers name it.
  const port = await freePort();
  server = await startServer({
    configFile: fixture.mainFile,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', REDIS_URL: undefined },
  });
  operator = await adminToken(server);
  demoAdmin = await adminToken(server, 'demo', 'demo-admin');
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

const codeOf = (answer: { body: { errorTranslationKeys?: string[] } }) => answer.body.errorTranslationKeys?.[1];
const etag = (answer: { headers: Headers }) => answer.headers.get('etag') as string;
const mainFile = () => JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
const clientCredentials = (clientId: string, secret: string) =>
  fetch(`${server.url}/oidc/demo/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret) },
    body: 'grant_type=client_credentials',
  });

describe('clients', () => {
  it('creates a sysapp with a secret made on the server, shown once, which the token endpoint takes', async () => {
    const created = await api(server, 'POST', '/admin/directory/clients', {
      token: demoAdmin,
      body: { client_id: 'report-job', scopes: ['data:read'] },
    });
    expect([created.status, created.body.has_secret, created.body.secret]).toEqual([201, true, expect.stringMatching(/^[\w-]{43}$/)]);
    expect(readFileSync(join(fixture.dir, 'config/directory.json'), 'utf8')).not.toContain(created.body.secret);
    expect((await clientCredentials('report-job', created.body.secret)).status).toBe(200);
    const again = await api(server, 'GET', '/admin/directory/clients/report-job', { token: demoAdmin });
    expect([again.status, again.body.secret]).toEqual([200, undefined]);
  });

  it('creates a public userapp of a pool with its redirect URIs; refuses unknown members and a bad type', async () => {
    const created = await api(server, 'POST', '/admin/directory/clients', {
      token: demoAdmin,
      body: { client_id: 'kiosk-web', type: 'userapp', pool: 'shoppers', redirect_uris: ['http://localhost:3009/callback'] },
    });
    expect([created.status, created.body]).toEqual([
      201,
      {
        client_id: 'kiosk-web',
        type: 'userapp',
        pool: 'shoppers',
        redirect_uris: ['http://localhost:3009/callback'],
        status: 'active',
        has_secret: false,
        locked: false,
      },
    ]);
    const config = await discover(`${server.url}/oidc/demo`, 'kiosk-web');
    const page = expectPage(
      await follow(
        new CookieJar(),
        (await authorizationRequest(config, 'http://localhost:3009/callback')).url,
        'http://localhost:3009/callback',
      ),
    );
    expect(page.status).toBe(200);
    for (const body of [
      { client_id: 'x1', secret_hash: '$scrypt$' },
      { client_id: 'x2', type: 'robot' },
    ]) {
      const bad = await api(server, 'POST', '/admin/directory/clients', { token: demoAdmin, body });
      expect([bad.status, codeOf(bad)]).toEqual([400, 'BAD_BODY']);
    }
    const badUri = await api(server, 'POST', '/admin/directory/clients', {
      token: demoAdmin,
      body: { client_id: 'x3', type: 'userapp', pool: 'shoppers', redirect_uris: ['not a uri'] },
    });
    expect([badUri.status, codeOf(badUri)]).toEqual([422, 'CONFIG_REFUSED']);
  });

  it("is the console's client an operator's to change in an operator's home tenant", async () => {
    const read = await api(server, 'GET', '/admin/directory/clients/authpipe-console', { token: demoAdmin });
    const body = { redirect_uris: ['https://attacker.example/console/callback'] };
    const byAdmin = await api(server, 'PATCH', '/admin/directory/clients/authpipe-console', {
      token: demoAdmin,
      ifMatch: etag(read),
      body,
    });
    expect([byAdmin.status, codeOf(byAdmin)]).toEqual([403, 'OPERATOR_ONLY']);
    expect(readFileSync(join(fixture.dir, 'config/directory.json'), 'utf8')).not.toContain('attacker.example');
    const post = { post_logout_redirect_uris: ['http://127.0.0.1:9090/console', 'http://localhost:9090/console'] };
    const byOperator = await api(server, 'PATCH', '/admin/directory/clients/authpipe-console', {
      token: operator,
      ifMatch: etag(read),
      body: post,
    });
    expect(byOperator.status).toBe(200);
  });

  it('lists a client locked from one address by wrong secrets at the token endpoint, and unlocks it', async () => {
    for (let i = 0; i < 5; i++) expect((await clientCredentials('pos-server-1', `wrong-${i}`)).status).toBe(401);
    expect((await clientCredentials('pos-server-1', 'pos-server-1-secret')).status).toBe(401);
    const locked = await api(server, 'GET', '/admin/locked', { token: demoAdmin });
    expect(locked.body.accounts).toContainEqual({ kind: 'client', id: 'pos-server-1', lockedForSeconds: expect.any(Number) });
    const unlocked = await api(server, 'POST', '/admin/directory/clients/pos-server-1/unlock', { token: demoAdmin });
    expect([unlocked.status, unlocked.body.locked]).toEqual([200, false]);
    expect((await clientCredentials('pos-server-1', 'pos-server-1-secret')).status).toBe(200);
  });
});

describe("a user's sessions", () => {
  it('are listed by the apps they signed in to, and one ended asks for the password again', async () => {
    const jar = new CookieJar();
    const shopWeb = 'http://localhost:3000/callback';
    const config = await discover(`${server.url}/oidc/demo`, 'shop-web');
    await passwordLogin(jar, (await authorizationRequest(config, shopWeb)).url, shopWeb, 'alice', 'alice-pass-1');
    const listed = await api(server, 'GET', '/admin/directory/users/u-1001/sessions', { token: demoAdmin });
    expect([listed.status, listed.body.sessions]).toEqual([
      200,
      [
        {
          handle: expect.stringMatching(/^[\w-]{22}$/),
          door: 'hosted',
          signedIn: expect.any(String),
          expires: expect.any(String),
          clients: ['shop-web'],
        },
      ],
    ]);
    // Single sign-on: a second authorization needs no password while the session lives.
    expect(await follow(jar, (await authorizationRequest(config, shopWeb)).url, shopWeb)).toHaveProperty('callback');
    const handle = listed.body.sessions[0].handle;
    const ended = await api(server, 'DELETE', `/admin/directory/users/u-1001/sessions/${handle}`, { token: demoAdmin });
    expect(ended.status).toBe(204);
    expectPage(await follow(jar, (await authorizationRequest(config, shopWeb)).url, shopWeb));
    expect((await api(server, 'GET', '/admin/directory/users/u-1001/sessions', { token: demoAdmin })).body.sessions).toEqual([]);
    const again = await api(server, 'DELETE', `/admin/directory/users/u-1001/sessions/${handle}`, { token: demoAdmin });
    expect([again.status, codeOf(again)]).toEqual([404, 'NOT_FOUND']);
    const unknown = await api(server, 'GET', '/admin/directory/users/nobody/sessions', { token: demoAdmin });
    expect([unknown.status, codeOf(unknown)]).toEqual([404, 'NOT_FOUND']);
    const operators = await api(server, 'DELETE', `/admin/directory/users/u-ops/sessions/${handle}`, { token: demoAdmin });
    expect([operators.status, codeOf(operators)]).toEqual([403, 'OPERATOR_ONLY']);
  });

  it('include logins over PUT that hold a refresh token; ending one refuses its tokens', async () => {
    const code = hotp(Buffer.from('12345678901234567890'), Math.floor(Date.now() / 30_000), 6, 'SHA1');
    const login = await server.call('totp-login', { username: 'alice', otp: code });
    expect([login.status, typeof login.body.refresh_token]).toEqual([200, 'string']);
    const verify = () =>
      server
        .call('introspect', {}, { authorization: `Bearer ${login.body.access_token}` })
        .then((r) => [r.status, r.body.errorTranslationKeys?.[0]]);
    expect(await verify()).toEqual([200, undefined]);
    const listed = await api(server, 'GET', '/admin/directory/users/u-1001/sessions', { token: demoAdmin });
    const put = listed.body.sessions.filter((s: { door: string }) => s.door === 'put');
    expect(put).toEqual([{ handle: expect.any(String), door: 'put', expires: expect.any(String), clients: expect.any(Array) }]);
    const ended = await api(server, 'DELETE', `/admin/directory/users/u-1001/sessions/${put[0].handle}`, { token: demoAdmin });
    expect(ended.status).toBe(204);
    expect(await verify()).toEqual([403, 'TOKEN_INVALID']);
    const refreshed = await server.call('token-refresh', { refresh_token: login.body.refresh_token });
    expect([refreshed.status, refreshed.body.errorTranslationKeys?.[0]]).toEqual([403, 'TOKEN_INVALID']);
    const after = await api(server, 'GET', '/admin/directory/users/u-1001/sessions', { token: demoAdmin });
    expect(after.body.sessions.filter((s: { door: string }) => s.door === 'put')).toEqual([]);
  });
});

describe('signing keys', () => {
  it('shows states, rotates under If-Match, activates after the floor (an operator may force it)', async () => {
    const listed = await api(server, 'GET', '/admin/keys', { token: demoAdmin });
    expect(listed.status).toBe(200);
    expect(listed.body.issuer).toBe(`${server.url}/oidc/demo`);
    expect(new Set(listed.body.keys.map((k: { state: string }) => k.state))).toEqual(new Set(['active']));
    expect(JSON.stringify(listed.body)).not.toMatch(/"d"|"p"|"q"/);

    const none = await api(server, 'POST', '/admin/keys/rotate', { token: demoAdmin, body: {} });
    expect([none.status, codeOf(none)]).toEqual([428, 'PRECONDITION_REQUIRED']);
    const unknown = await api(server, 'POST', '/admin/keys/rotate', { token: demoAdmin, ifMatch: etag(listed), body: { size: 4096 } });
    expect([unknown.status, codeOf(unknown), unknown.body.erroneousProperties]).toEqual([400, 'BAD_BODY', ['/size']]);
    const rotated = await api(server, 'POST', '/admin/keys/rotate', {
      token: demoAdmin,
      ifMatch: etag(listed),
      body: { algorithm: 'ES256' },
    });
    expect(rotated.status).toBe(201);
    const fresh = rotated.body.keys.find((k: { kid: string }) => k.kid === rotated.body.kid);
    expect([fresh.alg, fresh.state]).toEqual(['ES256', 'published']);
    const stale = await api(server, 'POST', '/admin/keys/rotate', { token: demoAdmin, ifMatch: etag(listed), body: {} });
    expect([stale.status, codeOf(stale)]).toEqual([412, 'PRECONDITION_FAILED']);

    const path = `/admin/keys/${rotated.body.kid}/activate`;
    const early = await api(server, 'POST', path, { token: demoAdmin, ifMatch: etag(rotated), body: {} });
    expect([early.status, codeOf(early)]).toEqual([409, 'KEY_TOO_NEW']);
    const forcedByAdmin = await api(server, 'POST', path, { token: demoAdmin, ifMatch: etag(rotated), body: { force: true } });
    expect([forcedByAdmin.status, codeOf(forcedByAdmin)]).toEqual([403, 'OPERATOR_ONLY']);
    const forced = await api(server, 'POST', path, { token: operator, ifMatch: etag(rotated), body: { force: true } });
    expect(forced.status).toBe(200);
    const states = Object.fromEntries(forced.body.keys.map((k: { kid: string; alg: string; state: string }) => [k.kid, [k.alg, k.state]]));
    expect(states[rotated.body.kid]).toEqual(['ES256', 'active']);
    expect(Object.values(states).filter(([alg, state]) => alg === 'ES256' && state === 'retired')).toHaveLength(1);
    // Tokens minted from now on carry the new key's kid.
    const token = await adminToken(server, 'demo', 'demo-admin');
    expect(JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid).toBe(rotated.body.kid);
    // Two rotations naming one version: one is written, the other is told it is stale.
    const current = await api(server, 'GET', '/admin/keys', { token: operator });
    const both = await Promise.all(
      [0, 1].map(() => api(server, 'POST', '/admin/keys/rotate', { token: operator, ifMatch: etag(current), body: {} })),
    );
    expect(both.map((a) => a.status).sort()).toEqual([201, 412]);
    const missing = await api(server, 'POST', '/admin/keys/nope/activate', {
      token: operator,
      ifMatch: etag(both.find((a) => a.status === 201) as any),
      body: {},
    });
    expect([missing.status, codeOf(missing)]).toEqual([404, 'NOT_FOUND']);
  });

  it("are a tenant's own: a demo admin's token does not reach acme's", async () => {
    const other = await api(server, 'GET', '/admin/keys', { token: demoAdmin, tenant: 'acme' });
    expect([other.status, codeOf(other)]).toEqual([401, 'TOKEN_REJECTED']);
    const theirs = await api(server, 'GET', '/admin/keys', { token: operator, tenant: 'acme' });
    expect([theirs.status, theirs.body.issuer]).toEqual([200, `${server.url}/oidc/acme`]);
  });
});

describe('pools', () => {
  it('creates a pool and reorders its steps under If-Match; refuses unknown members and unknown pipes', async () => {
    const step = (operation: string) => ({ operation, fields: [{ name: 'username' }, { name: 'password' }] });
    const created = await api(server, 'POST', '/admin/pools', {
      token: operator,
      body: { id: 'kiosk', title: 'Kiosk', steps: [step('login-password')] },
    });
    expect([created.status, created.body]).toEqual([201, { id: 'kiosk', title: 'Kiosk', steps: [step('login-password')] }]);
    expect(mainFile().oidc.tenants.demo.pools.kiosk.steps).toEqual([step('login-password')]);
    const taken = await api(server, 'POST', '/admin/pools', { token: operator, body: { id: 'kiosk', steps: [step('login-password')] } });
    expect([taken.status, codeOf(taken)]).toEqual([409, 'ID_TAKEN']);
    const unknown = await api(server, 'POST', '/admin/pools', {
      token: operator,
      body: { id: 'k2', steps: [step('login-password')], colour: 'red' },
    });
    expect([unknown.status, codeOf(unknown), unknown.body.erroneousProperties]).toEqual([400, 'BAD_BODY', ['/colour']]);
    const noPipe = await api(server, 'POST', '/admin/pools', { token: operator, body: { id: 'k3', steps: [step('no-such-pipe')] } });
    expect([noPipe.status, codeOf(noPipe)]).toEqual([422, 'CONFIG_REFUSED']);

    const steps = [step('login-password-risk'), { operation: 'login-sms-verify', start: 'login-sms-send', fields: [{ name: 'otp' }] }];
    const edited = await api(server, 'PUT', '/admin/pools/kiosk', {
      token: operator,
      ifMatch: etag(created),
      body: { title: 'Kiosk', steps },
    });
    expect([edited.status, edited.body.steps.map((s: { operation: string }) => s.operation)]).toEqual([
      200,
      ['login-password-risk', 'login-sms-verify'],
    ]);
    const stale = await api(server, 'PUT', '/admin/pools/kiosk', { token: operator, ifMatch: etag(created), body: { steps } });
    expect([stale.status, codeOf(stale)]).toEqual([412, 'PRECONDITION_FAILED']);
    const listed = await api(server, 'GET', '/admin/pools', { token: demoAdmin });
    expect(listed.body.etags.kiosk).toBe(etag(edited));
    const acme = await api(server, 'GET', '/admin/pools/kiosk', { token: operator, tenant: 'acme' });
    expect([acme.status, codeOf(acme)]).toEqual([404, 'NOT_FOUND']);
    // The console signs in through a pool of an operator's home tenant: its tenant admins may read, not change, the pools.
    const read = await api(server, 'GET', '/admin/pools/kiosk', { token: demoAdmin });
    expect(read.status).toBe(200);
    const byAdmin = await api(server, 'PUT', '/admin/pools/kiosk', { token: demoAdmin, ifMatch: etag(read), body: { steps } });
    expect([byAdmin.status, codeOf(byAdmin)]).toEqual([403, 'OPERATOR_ONLY']);
    const staff = await api(server, 'POST', '/admin/pools', { token: demoAdmin, body: { id: 'k9', steps: [step('login-password')] } });
    expect([staff.status, codeOf(staff)]).toEqual([403, 'OPERATOR_ONLY']);
    // Another tenant's pools are its own admins' (here the operator acting on acme, whose door has no pools yet).
    const acmePool = await api(server, 'POST', '/admin/pools', {
      token: operator,
      tenant: 'acme',
      body: { id: 'acme-shop', steps: [step('login-password')] },
    });
    expect([acmePool.status, mainFile().oidc.tenants.acme.pools['acme-shop'].steps.length]).toEqual([201, 1]);
  });
});

describe('tenants', () => {
  it('are created by an operator only, each with its issuer', async () => {
    const byAdmin = await api(server, 'POST', '/admin/tenants', { token: demoAdmin, body: { id: 'globex' } });
    expect([byAdmin.status, codeOf(byAdmin)]).toEqual([403, 'OPERATOR_ONLY']);
    const bad = await api(server, 'POST', '/admin/tenants', { token: operator, body: { id: 'Globex Corp' } });
    expect([bad.status, codeOf(bad)]).toEqual([400, 'BAD_BODY']);
    const created = await api(server, 'POST', '/admin/tenants', {
      token: operator,
      body: { id: 'globex', displayName: 'Globex', allowedOperation: ['echo'] },
    });
    expect([created.status, created.body]).toEqual([
      201,
      { id: 'globex', displayName: 'Globex', allowedOperation: ['echo'], issuer: `${server.url}/oidc/globex` },
    ]);
    expect(mainFile().modules[0].config.tenant.map((t: { id: string }) => t.id)).toEqual(['demo', 'acme', 'globex']);
    expect((await fetch(`${server.url}/oidc/globex/.well-known/openid-configuration`)).status).toBe(200);
    const keys = await api(server, 'GET', '/admin/keys', { token: operator, tenant: 'globex' });
    expect([keys.status, keys.body.issuer, keys.body.keys.length > 0]).toEqual([200, `${server.url}/oidc/globex`, true]);
    const again = await api(server, 'POST', '/admin/tenants', { token: operator, body: { id: 'globex' } });
    expect([again.status, codeOf(again)]).toEqual([409, 'ID_TAKEN']);
    const other = await api(server, 'PATCH', '/admin/tenants/globex', {
      token: demoAdmin,
      ifMatch: etag(created),
      body: { displayName: 'G' },
    });
    expect([other.status, codeOf(other)]).toEqual([403, 'OTHER_TENANT']);
  });
});

describe('the audit of these changes', () => {
  it('has each with a diff, and no secret', async () => {
    const audit = await api(server, 'GET', '/admin/audit?event=admin.&limit=200', { token: operator });
    const events = audit.body.events as { resource?: string; action?: string; id?: string; diff?: string }[];
    const seen = events.map((e) => `${e.resource ?? ''}:${e.action ?? ''}:${e.id ?? ''}`);
    for (const change of ['client:create:report-job', 'key:rotate:', 'key:activate:', 'pool:create:kiosk', 'pool:edit:kiosk'])
      expect(seen.some((s) => s.startsWith(change))).toBe(true);
    const text = JSON.stringify(events);
    expect(text).not.toMatch(/\$scrypt\$|alice-pass-1|pos-server-1-secret/);
    const pool = events.find((e) => e.resource === 'pool' && e.action === 'edit');
    expect(JSON.parse(pool?.diff ?? '[]')).toContainEqual(
      expect.objectContaining({
        pointer: '/oidc/tenants/demo/pools/kiosk/steps',
        before: [expect.objectContaining({ operation: 'login-password' })],
      }),
    );
  });
});
