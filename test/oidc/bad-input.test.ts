/**
 * Every bad input of the front door gets a coded refusal in the RFC 6749 shape (or an error
 * page for the browser), never a 500, never a token.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import {
  authorizationRequest,
  CookieJar,
  discover,
  exchangeCode,
  expectPage,
  follow,
  parsePage,
  passwordLogin,
  startOidcDemo,
  submit,
  type OidcDemo,
} from './support.js';

const SHOP_WEB = 'http://localhost:3000/callback';
const SHOP_APP = 'http://localhost:3001/callback';

let demo: OidcDemo;
let web: client.Configuration;
let app: client.Configuration;
beforeAll(async () => {
  demo = await startOidcDemo();
  [web, app] = await Promise.all([discover(demo.issuer(), 'shop-web'), discover(demo.issuer(), 'shop-app')]);
});
afterAll(() => demo?.close());

/** A code for shop-web (alice), and what it takes to redeem it. */
async function codeFor(config = web, redirectUri = SHOP_WEB) {
  const request = await authorizationRequest(config, redirectUri);
  const callback = await passwordLogin(new CookieJar(), request.url, redirectUri, 'alice', 'alice-pass-1');
  return { request, callback, code: new URL(callback).searchParams.get('code') as string };
}

/** A raw token endpoint call: the status and JSON body. */
async function tokenCall(form: string, headers: Record<string, string> = {}, tenant = 'demo') {
  const res = await fetch(`${demo.issuer(tenant)}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('redirect_uri', () => {
  it.each([
    ['a trailing slash', 'http://localhost:3000/callback/'],
    ['another port', 'http://localhost:3009/callback'],
    ['an added query', 'http://localhost:3000/callback?next=/admin'],
    ["another app's", SHOP_APP],
  ])('refuses %s with an error page, never a redirect', async (_name, redirectUri) => {
    const request = await authorizationRequest(web, redirectUri);
    const res = await fetch(request.url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(parsePage(request.url, res.status, await res.text()).errorCode).toBe('invalid_redirect_uri');
  });
});

describe('PKCE', () => {
  async function authorizeError(params: Record<string, string>) {
    const url = new URL(`${demo.issuer()}/auth`);
    for (const [name, value] of Object.entries({
      client_id: 'shop-web',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: SHOP_WEB,
      state: 's',
      ...params,
    }))
      url.searchParams.set(name, value);
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(303);
    return new URL(res.headers.get('location') as string);
  }

  it('refuses an authorization request without a code challenge', async () => {
    const back = await authorizeError({});
    expect(back.origin + back.pathname).toBe(SHOP_WEB);
    expect(back.searchParams.get('error')).toBe('invalid_request');
  });

  it('refuses the plain method', async () => {
    const back = await authorizeError({ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
    expect(back.searchParams.get('error')).toBe('invalid_request');
  });

  it('refuses a missing or wrong verifier at the token endpoint', async () => {
    const { code } = await codeFor();
    const missing = await tokenCall(
      new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: SHOP_WEB, client_id: 'shop-web' }).toString(),
    );
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_grant');
    const other = await codeFor();
    const wrong = await tokenCall(
      new URLSearchParams({
        grant_type: 'authorization_code',
        code: other.code,
        redirect_uri: SHOP_WEB,
        client_id: 'shop-web',
        code_verifier: client.randomPKCECodeVerifier(),
      }).toString(),
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
  });
});

describe('codes', () => {
  it('refuses a reused code', async () => {
    const { request, callback } = await codeFor();
    await exchangeCode(web, callback, request);
    await expect(exchangeCode(web, callback, request)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a code issued to another client', async () => {
    const { request, code } = await codeFor();
    const stolen = await tokenCall(
      new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: SHOP_APP,
        client_id: 'shop-app',
        code_verifier: request.verifier,
      }).toString(),
    );
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe('invalid_grant');
  });

  it('lets the relying party catch a state or nonce mismatch', async () => {
    const first = await codeFor();
    await expect(
      client.authorizationCodeGrant(web, new URL(first.callback), {
        pkceCodeVerifier: first.request.verifier,
        expectedState: 'another-state',
        expectedNonce: first.request.nonce,
      }),
    ).rejects.toThrow();
    // Caught before the code was sent: the right state still redeems it.
    await exchangeCode(web, first.callback, first.request);
    const second = await codeFor();
    await expect(
      client.authorizationCodeGrant(web, new URL(second.callback), {
        pkceCodeVerifier: second.request.verifier,
        expectedState: second.request.state,
        expectedNonce: 'another-nonce',
      }),
    ).rejects.toMatchObject({ code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' });
  });
});

describe('refresh tokens', () => {
  it('refuses one from another client, and one of a revoked grant', async () => {
    const { request, callback } = await codeFor();
    const tokens = await exchangeCode(web, callback, request);
    await expect(client.refreshTokenGrant(app, tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    await client.tokenRevocation(web, tokens.refresh_token as string);
    await expect(client.refreshTokenGrant(web, tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});

describe('client authentication', () => {
  it('refuses a wrong secret, and the right one at another tenant', async () => {
    const wrong = await tokenCall('grant_type=client_credentials', { authorization: basic('pos-server-1', 'not-the-secret') });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    const elsewhere = await tokenCall(
      'grant_type=client_credentials',
      { authorization: basic('pos-server-1', 'pos-server-1-secret') },
      'acme',
    );
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.body.error).toBe('invalid_client');
  });

  it('accepts client_secret_post, and Basic credentials form-encoded per RFC 6749 2.3.1', async () => {
    const post = await tokenCall(
      new URLSearchParams({ grant_type: 'client_credentials', client_id: 'pos-server-1', client_secret: 'pos-server-1-secret' }).toString(),
    );
    expect(post.status).toBe(200);
    // A secret with characters that form-encoding changes ("+", ":", "%") must be decoded.
    const raw = `Basic ${Buffer.from('pos-server-1:pos-server-1-secret').toString('base64')}`;
    expect((await tokenCall('grant_type=client_credentials', { authorization: raw })).status).toBe(200);
    const plus = await tokenCall('grant_type=client_credentials', {
      authorization: `Basic ${Buffer.from('pos-server-1:pos+server-1-secret').toString('base64')}`,
    });
    expect(plus.status).toBe(401);
  });

  it('refuses a client that is not allowed the grant', async () => {
    const res = await tokenCall('grant_type=client_credentials&client_id=shop-web');
    expect(res.status).toBe(400);
    expect(['unauthorized_client', 'invalid_grant', 'invalid_request']).toContain(res.body.error);
  });
});

describe('form bodies', () => {
  it('refuses duplicate parameters', async () => {
    const res = await tokenCall('grant_type=client_credentials&grant_type=client_credentials', {
      authorization: basic('pos-server-1', 'pos-server-1-secret'),
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('refuses huge parameters without a 500', async () => {
    const res = await fetch(`${demo.issuer()}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('pos-server-1', 'pos-server-1-secret') },
      body: `grant_type=client_credentials&scope=${'a'.repeat(200_000)}`,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const long = await fetch(`${demo.issuer()}/auth?client_id=shop-web&state=${'x'.repeat(20_000)}`, { redirect: 'manual' });
    expect(long.status).toBeLessThan(500);
  });
});

describe('the login form', () => {
  async function loginPage() {
    const jar = new CookieJar();
    const request = await authorizationRequest(web, SHOP_WEB);
    return { jar, page: expectPage(await follow(jar, request.url, SHOP_WEB)) };
  }

  it('refuses a post without the CSRF token, or with another one', async () => {
    const { jar, page } = await loginPage();
    const missing = expectPage(await submit(jar, page, { username: 'alice', password: 'alice-pass-1' }, SHOP_WEB, ''));
    expect(missing.status).toBe(403);
    expect(missing.errorCode).toBe('csrf');
    const other = await loginPage();
    const forged = expectPage(await submit(jar, page, { username: 'alice', password: 'alice-pass-1' }, SHOP_WEB, other.page.csrf));
    expect(forged.errorCode).toBe('csrf');
  });

  it('refuses a post from another site (no interaction cookie)', async () => {
    const { page } = await loginPage();
    const res = await fetch(new URL(page.action as string, page.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: page.csrf as string, username: 'alice', password: 'alice-pass-1' }).toString(),
    });
    expect(res.status).toBe(400);
    expect(parsePage(page.url, res.status, await res.text()).errorCode).toBe('interaction_expired');
  });

  it('refuses duplicate fields', async () => {
    const { jar, page } = await loginPage();
    const res = await jar.fetch(new URL(page.action as string, page.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `csrf=${page.csrf}&username=alice&username=bob&password=x`,
    });
    expect(res.status).toBe(400);
    expect(parsePage(page.url, res.status, await res.text()).errorCode).toBe('INVALID_REQUEST');
  });

  it('gives one message for an unknown user and a wrong password', async () => {
    const { jar, page } = await loginPage();
    const unknown = expectPage(await submit(jar, page, { username: 'nobody-here', password: 'whatever-1' }, SHOP_WEB));
    const wrong = expectPage(await submit(jar, unknown, { username: 'bob', password: 'not-bobs' }, SHOP_WEB));
    expect(unknown.status).toBe(403);
    expect(unknown.errorCode).toBe('INVALID_CREDENTIALS');
    expect(wrong.errorCode).toBe('INVALID_CREDENTIALS');
    const text = (html: string) => /role="alert"[^>]*>([^<]*)</.exec(html)?.[1];
    expect(text(unknown.html)).toBe(text(wrong.html));
  });

  it('answers an unknown interaction id with an error page', async () => {
    const { jar } = await loginPage();
    const res = await jar.fetch(`${demo.issuer()}/interaction/unknown-interaction-id`);
    expect(res.status).toBe(400);
    expect(parsePage('', res.status, await res.text()).errorCode).toBe('interaction_expired');
  });
});

describe('tokens of another tenant', () => {
  it('introspect as inactive and are refused by userinfo with RFC 6750 invalid_token', async () => {
    const acme = await client
      .clientCredentialsGrant(await discover(demo.issuer('acme'), 'pos-server-1', 'pos-server-1-secret'))
      .catch(() => undefined);
    expect(acme).toBeUndefined(); // pos-server-1 is demo's client: acme has no such client
    // A till token of acme, minted by the PUT pipe, with acme's issuer.
    const till = await demo.server.call('till-login', {}, { tenant: 'acme', authorization: basic('acme-till-1', 'acme-till-1-pass') });
    expect(till.status).toBe(200);
    const pos = await discover(demo.issuer(), 'pos-server-1', 'pos-server-1-secret');
    expect((await client.tokenIntrospection(pos, till.body.access_token)).active).toBe(false);
    const res = await fetch(`${demo.issuer()}/me`, { headers: { authorization: `Bearer ${till.body.access_token}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    const put = await demo.server.call('introspect', {}, { authorization: `Bearer ${till.body.access_token}` });
    expect(put.status).toBe(403);
    expect(put.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
  });
});
