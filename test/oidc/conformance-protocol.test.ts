/**
 * Conformance of the front door's answers (issue 30), driven by openid-client and oauth4webapi
 * over real HTTP: each case names the clause it checks.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import {
  CookieJar,
  discover,
  expectCallback,
  expectPage,
  follow,
  openLogin,
  passwordTokens,
  startOidcDemo,
  type OidcDemo,
} from './support.js';

const SHOP_WEB = 'http://localhost:3000/callback';

let demo: OidcDemo;
beforeAll(async () => {
  demo = await startOidcDemo();
});
afterAll(() => demo?.close());

async function signIn(jar = new CookieJar(), username = 'alice', password = `${username}-pass-1`) {
  const config = await discover(demo.issuer(), 'shop-web');
  const tokens = await passwordTokens(jar, config, SHOP_WEB, username, password);
  return { config, tokens, jar };
}

describe('token endpoint', () => {
  it('answers unauthorized_client for a grant the client may not use (RFC 6749 §5.2)', async () => {
    const config = await discover(demo.issuer(), 'pos-server-1', 'pos-server-1-secret');
    await expect(client.refreshTokenGrant(config, 'some-refresh-token')).rejects.toMatchObject({ error: 'unauthorized_client' });
    const as = await oauth.processDiscoveryResponse(
      new URL(demo.issuer()),
      await oauth.discoveryRequest(new URL(demo.issuer()), { [oauth.allowInsecureRequests]: true }),
    );
    const res = await oauth.clientCredentialsGrantRequest(as, { client_id: 'shop-web' }, oauth.None(), new URLSearchParams(), {
      [oauth.allowInsecureRequests]: true,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'unauthorized_client' });
  });

  it('sends Pragma: no-cache and Cache-Control: no-store with tokens (RFC 6749 §5.1)', async () => {
    const res = await fetch(`${demo.issuer()}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('pos-server-1:pos-server-1-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('refuses a misspelt narrow scope at client credentials with invalid_scope, and gives a right one alone', async () => {
    const config = await discover(demo.issuer(), 'pos-server-1', 'pos-server-1-secret');
    await expect(client.clientCredentialsGrant(config, { scope: 'data:customer:raed' })).rejects.toMatchObject({ error: 'invalid_scope' });
    const narrow = await client.clientCredentialsGrant(config, { scope: 'data:customer:read' });
    expect(narrow.scope).toBe('data:customer:read');
  });

  it("accepts offline_access re-sent in a refresh's scope (authlib's default)", async () => {
    const { config, tokens } = await signIn();
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string, {
      scope: 'openid profile email phone offline_access',
    });
    expect(typeof refreshed.access_token).toBe('string');
    expect(typeof refreshed.refresh_token).toBe('string');
  });
});

describe('revocation (RFC 7009)', () => {
  it('answers 200 with an empty JSON object', async () => {
    const { config, tokens } = await signIn(new CookieJar(), 'bob');
    await client.tokenRevocation(config, tokens.access_token);
    const res = await fetch(`${demo.issuer()}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'shop-web', token: tokens.refresh_token as string }).toString(),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(await res.json()).toEqual({});
  });
});

describe('userinfo', () => {
  it('answers 401 with WWW-Authenticate: Bearer when no token is sent (RFC 6750 §3)', async () => {
    const res = await fetch(`${demo.issuer()}/me`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${demo.issuer()}"`);
  });

  it('has email_verified, false unless the directory says verified', async () => {
    const { config, tokens } = await signIn();
    const info = await client.fetchUserInfo(config, tokens.access_token, 'u-1001');
    expect(info).toMatchObject({ email: 'alice@example.com', email_verified: false });
    expect(tokens.claims()).toMatchObject({ email: 'alice@example.com', email_verified: false });
  });
});

describe('caching and methods', () => {
  it('lets the JWKS and discovery be cached for 5 minutes', async () => {
    for (const path of ['/jwks', '/.well-known/openid-configuration']) {
      const res = await fetch(`${demo.issuer()}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    }
  });

  it('answers 405 with Allow for a wrong method on an endpoint', async () => {
    const cases: [string, string, string][] = [
      ['GET', '/token', 'POST, OPTIONS'],
      ['GET', '/token/revocation', 'POST, OPTIONS'],
      ['PUT', '/me', 'GET, HEAD, POST, OPTIONS'],
      ['DELETE', '/jwks', 'GET, HEAD, OPTIONS'],
      ['POST', '/.well-known/openid-configuration', 'GET, HEAD, OPTIONS'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await fetch(`${demo.issuer()}${path}`, { method });
      expect([method, path, res.status]).toEqual([method, path, 405]);
      expect(res.headers.get('allow')).toBe(allow);
      expect(await res.json()).toMatchObject({ error: 'invalid_request' });
    }
    expect((await fetch(`${demo.issuer()}/nothing-here`)).status).toBe(404);
  });
});

describe('authorization and logout', () => {
  it('reads prompt=select_account as a login, not invalid_request', async () => {
    const { config, jar } = await signIn();
    const { page } = await openLogin(jar, config, SHOP_WEB, { prompt: 'select_account' });
    expect(page.status).toBe(200);
    expect(page.csrf).toBeDefined();
    expect(page.errorCode).toBeUndefined();
  });

  it('signs out without asking when the id_token_hint is the signed-in user’s', async () => {
    const { config, tokens, jar } = await signIn();
    const endUrl = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: 'http://localhost:3000/',
    });
    const res = await jar.fetch(endUrl.href);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).not.toContain('Do you want to sign out?');
    const nonce = /script-src 'nonce-([^']+)'/.exec(res.headers.get('content-security-policy') ?? '')?.[1];
    expect(html).toContain(`<script nonce="${nonce}">document.getElementById('op.logoutForm').submit()</script>`);
    // What the browser's script submits:
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1] as string;
    const action = /action="([^"]+)"/.exec(html)?.[1] as string;
    const done = await follow(jar, new URL(action, demo.base).href, 'http://localhost:3000/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    });
    expect(expectCallback(done)).toBe('http://localhost:3000/');
  });

  it('still asks without an id_token_hint', async () => {
    const { config, jar } = await signIn();
    const endUrl = client.buildEndSessionUrl(config, { client_id: 'shop-web' } as never);
    const page = expectPage(await follow(jar, endUrl.href, 'http://localhost:3000/'));
    expect(page.html).toContain('Do you want to sign out?');
  });
});

describe('PUT API', () => {
  it('accepts a trailing slash after the operation', async () => {
    const res = await fetch(`${demo.base}/api/authentication/echo/`, {
      method: 'PUT',
      headers: { tenant: 'demo', 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ username: 'alice', tenant: 'demo' });
  });
});
