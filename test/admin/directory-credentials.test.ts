import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigFixture, DEMO_SECRETS } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { addOperatorAndTenantAdmin, adminToken, api, basic } from './support.js';

/**
 * The credentials an admin sets through the API: a user's password (hashed on the server,
 * the rules of a till's), a client's secret rotated on the server and shown once, and the
 * refusals around them: bad input, no If-Match, a stale ETag, a tenant admin on an operator's
 * account, a public client.
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
  server = await startServer({ configFile: fixture.mainFile });
  operator = await adminToken(server);
  demoAdmin = await adminToken(server, 'demo', 'demo-admin');
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

const file = () => readFileSync(join(fixture.dir, 'config/directory.json'), 'utf8');
const codeOf = (answer: { body: { errorTranslationKeys?: string[] } }) => answer.body.errorTranslationKeys?.[1];
const etag = (answer: { headers: Headers }) => answer.headers.get('etag') as string;
const clientCredentials = (clientId: string, secret: string) =>
  fetch(`${server.url}/oidc/demo/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret) },
    body: 'grant_type=client_credentials',
  });

describe("a user's password", () => {
  it('is set with the If-Match of the read, hashed on the server; short, empty or stale is refused', async () => {
    const created = await api(server, 'POST', '/admin/directory/users', { token: demoAdmin, body: { id: 'u-3001', username: 'carol' } });
    expect([created.status, created.body]).toEqual([
      201,
      { id: 'u-3001', username: 'carol', status: 'active', has_password: false, locked: false },
    ]);
    const path = '/admin/directory/users/u-3001/password';
    for (const password of ['', 'short', 'x'.repeat(257), 'tab\there-long']) {
      const bad = await api(server, 'POST', path, { token: demoAdmin, ifMatch: etag(created), body: { password } });
      expect([password, bad.status, bad.body.erroneousProperties]).toEqual([password, 400, ['/password']]);
    }
    const without = await api(server, 'POST', path, { token: demoAdmin, body: { password: 'carol-pass-1' } });
    expect([without.status, codeOf(without)]).toEqual([428, 'PRECONDITION_REQUIRED']);
    const set = await api(server, 'POST', path, { token: demoAdmin, ifMatch: etag(created), body: { password: 'carol-pass-1' } });
    expect([set.status, set.body.has_password]).toEqual([200, true]);
    expect(file()).toMatch(/"id": "u-3001"[^\n]*"password_hash": "\$scrypt\$/);
    expect(file()).not.toContain('carol-pass-1');
    // The ETag of the read before the first change is stale now.
    const stale = await api(server, 'POST', path, { token: demoAdmin, ifMatch: etag(created), body: { password: 'carol-pass-2' } });
    expect([stale.status, codeOf(stale)]).toEqual([412, 'PRECONDITION_FAILED']);
    const listed = await api(server, 'GET', '/admin/directory/users?q=carol', { token: demoAdmin });
    expect(listed.body.etags).toEqual({ 'u-3001': etag(set) });
  });

  it("is an operator's to set on an operator's account, and to unlock", async () => {
    const ops = await api(server, 'GET', '/admin/directory/users/u-ops', { token: demoAdmin });
    const set = await api(server, 'POST', '/admin/directory/users/u-ops/password', {
      token: demoAdmin,
      ifMatch: etag(ops),
      body: { password: 'taken-over-by-a-tenant-admin' },
    });
    expect([set.status, codeOf(set)]).toEqual([403, 'OPERATOR_ONLY']);
    const unlock = await api(server, 'POST', '/admin/directory/users/u-ops/unlock', { token: demoAdmin });
    expect([unlock.status, codeOf(unlock)]).toEqual([403, 'OPERATOR_ONLY']);
    expect((await api(server, 'POST', '/admin/directory/users/u-ops/unlock', { token: operator })).status).toBe(200);
  });
});

describe("a client's secret", () => {
  it('rotates to one made on the server, shown once; the old one stops working', async () => {
    const path = '/admin/directory/clients/pos-server-1/secret/rotate';
    const old = DEMO_SECRETS['pos-server-1'] as string;
    expect((await clientCredentials('pos-server-1', old)).status).toBe(200);
    const got = await api(server, 'GET', '/admin/directory/clients/pos-server-1', { token: demoAdmin });
    const without = await api(server, 'POST', path, { token: demoAdmin });
    expect([without.status, codeOf(without)]).toEqual([428, 'PRECONDITION_REQUIRED']);
    const rotated = await api(server, 'POST', path, { token: demoAdmin, ifMatch: etag(got) });
    expect(rotated.status).toBe(200);
    const secret = rotated.body.secret as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    expect(file()).not.toContain(secret);
    expect((await api(server, 'GET', '/admin/directory/clients/pos-server-1', { token: demoAdmin })).body).not.toHaveProperty('secret');
    const stale = await api(server, 'POST', path, { token: demoAdmin, ifMatch: etag(got) });
    expect([stale.status, codeOf(stale)]).toEqual([412, 'PRECONDITION_FAILED']);
    expect((await clientCredentials('pos-server-1', secret)).status).toBe(200);
    expect((await clientCredentials('pos-server-1', old)).status).toBe(401);
    // Audited as rotated, without the secret.
    const audit = await api(server, 'GET', '/admin/audit?event=admin.config_changed', { token: demoAdmin });
    const event = audit.body.events.find((e: { action?: string }) => e.action === 'rotate-secret');
    expect(event).toMatchObject({ resource: 'client', id: 'pos-server-1' });
    expect(JSON.stringify(audit.body)).not.toContain(secret);
  });

  it("refuses a public client's, and an operator's for a tenant admin", async () => {
    const web = await api(server, 'GET', '/admin/directory/clients/shop-web', { token: demoAdmin });
    const pub = await api(server, 'POST', '/admin/directory/clients/shop-web/secret/rotate', { token: demoAdmin, ifMatch: etag(web) });
    expect([pub.status, codeOf(pub)]).toEqual([409, 'PUBLIC_CLIENT']);
    const console = await api(server, 'GET', '/admin/directory/clients/admin-console', { token: demoAdmin });
    const op = await api(server, 'POST', '/admin/directory/clients/admin-console/secret/rotate', {
      token: demoAdmin,
      ifMatch: etag(console),
    });
    expect([op.status, codeOf(op)]).toEqual([403, 'OPERATOR_ONLY']);
  });

  it("edits a userapp's redirect URIs; one that is no URI is refused at its pointer", async () => {
    const web = await api(server, 'GET', '/admin/directory/clients/shop-web', { token: demoAdmin });
    const bad = await api(server, 'PATCH', '/admin/directory/clients/shop-web', {
      token: demoAdmin,
      ifMatch: etag(web),
      body: { redirect_uris: ['not a uri'] },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.issues[0].pointer).toMatch(/^\/tenants\/demo\/clients\/\d+\/redirect_uris\/0$/);
    const edited = await api(server, 'PATCH', '/admin/directory/clients/shop-web', {
      token: demoAdmin,
      ifMatch: etag(web),
      body: { redirect_uris: ['http://localhost:3000/callback', 'https://shop.example.com/callback'] },
    });
    expect([edited.status, edited.body.redirect_uris]).toEqual([
      200,
      ['http://localhost:3000/callback', 'https://shop.example.com/callback'],
    ]);
  });
});
