/**
 * The front door driven by openid-client as a real relying party: discovery, client
 * credentials, the authorization code flow with PKCE (the hosted login filled over HTTP),
 * id_token validation, refresh rotation and reuse, introspection, revocation, userinfo and
 * end_session.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import {
  authorizationRequest,
  CookieJar,
  discover,
  expectCallback,
  expectPage,
  follow,
  passwordTokens,
  setRefreshGrace,
  startOidcDemo,
  type OidcDemo,
} from './support.js';

const SHOP_WEB = 'http://localhost:3000/callback';

let demo: OidcDemo;
beforeAll(async () => {
  // A refresh token's immediate repeat is reuse here (conformance-refresh.test.ts covers the grace window).
  demo = await startOidcDemo({ edit: (f) => setRefreshGrace(f, 0) });
});
afterAll(() => demo?.close());

describe('discovery', () => {
  it('serves the issuer where it is served, per tenant', async () => {
    const config = await discover(demo.issuer(), 'shop-web');
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(demo.issuer());
    expect(meta.jwks_uri).toBe(`${demo.issuer()}/jwks`);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'none']),
    );
    const acme = await discover(demo.issuer('acme'), 'anyone');
    expect(acme.serverMetadata().issuer).toBe(demo.issuer('acme'));
  });

  it('answers 404 for a tenant without a front door', async () => {
    const res = await fetch(`${demo.base}/oidc/nobody/.well-known/openid-configuration`);
    expect(res.status).toBe(404);
  });
});

describe('client credentials', () => {
  it('gives a sysapp a 10-minute system token with its access group scope', async () => {
    const config = await discover(demo.issuer(), 'pos-server-1', 'pos-server-1-secret');
    const tokens = await client.clientCredentialsGrant(config);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expires_in).toBe(600);
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe('data:customer:write data:customer:read');
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] as string, 'base64url').toString());
    expect(claims).toMatchObject({
      iss: demo.issuer(),
      sub: 'pos-server-1',
      client_id: 'pos-server-1',
      tenant: 'demo',
      kind: 'client',
      access_group: 'Instore',
      aud: 'https://api.demo.example',
    });
    expect(claims.exp - claims.iat).toBe(600);
  });
});

describe('authorization code with PKCE', () => {
  let config: client.Configuration;
  let tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

  beforeAll(async () => {
    config = await discover(demo.issuer(), 'shop-web');
    tokens = await passwordTokens(new CookieJar(), config, SHOP_WEB, 'alice', 'alice-pass-1');
  });

  it('gives a validated id_token, a 30-minute user access token and a refresh token', () => {
    const idClaims = tokens.claims();
    expect(idClaims).toMatchObject({ iss: demo.issuer(), sub: 'u-1001', aud: 'shop-web' });
    expect(tokens.expires_in).toBe(1800);
    expect(typeof tokens.refresh_token).toBe('string');
    const access = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] as string, 'base64url').toString());
    expect(access).toMatchObject({
      iss: demo.issuer(),
      sub: 'u-1001',
      client_id: 'shop-web',
      tenant: 'demo',
      kind: 'user',
      pool: 'shoppers',
    });
    expect(access.exp - access.iat).toBe(1800);
  });

  it("serves userinfo with the directory user's claims", async () => {
    const info = await client.fetchUserInfo(config, tokens.access_token, 'u-1001');
    expect(info).toMatchObject({
      sub: 'u-1001',
      email: 'alice@example.com',
      phone_number: '+15550000001',
      name: 'Alice Andersson',
      preferred_username: 'alice',
    });
  });

  it('introspects its tokens with a boolean active and numeric times', async () => {
    const answer = await client.tokenIntrospection(config, tokens.access_token);
    expect(answer.active).toBe(true);
    expect(typeof answer.exp).toBe('number');
    expect(typeof answer.iat).toBe('number');
    expect(answer).toMatchObject({ sub: 'u-1001', client_id: 'shop-web' });
    const junk = await client.tokenIntrospection(config, 'not-a-token');
    expect(junk.active).toBe(false);
  });

  it('rotates the refresh token, and a reused one revokes the grant', async () => {
    const first = tokens.refresh_token as string;
    const rotated = await client.refreshTokenGrant(config, first);
    expect(rotated.refresh_token).toBeDefined();
    expect(rotated.refresh_token).not.toBe(first);
    await expect(client.refreshTokenGrant(config, first)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The reuse revoked the whole grant: the rotated token is dead too.
    await expect(client.refreshTokenGrant(config, rotated.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await client.tokenIntrospection(config, rotated.refresh_token as string)).active).toBe(false);
  });

  it('revokes a refresh token (RFC 7009)', async () => {
    const fresh = await passwordTokens(new CookieJar(), config, SHOP_WEB, 'bob', 'bob-pass-1');
    await client.tokenRevocation(config, fresh.refresh_token as string);
    await expect(client.refreshTokenGrant(config, fresh.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('ends the session and returns to a registered post-logout URI', async () => {
    const jar = new CookieJar();
    const own = await passwordTokens(jar, config, SHOP_WEB, 'alice', 'alice-pass-1');
    const endUrl = client.buildEndSessionUrl(config, {
      id_token_hint: own.id_token as string,
      post_logout_redirect_uri: 'http://localhost:3000/',
    });
    const confirm = expectPage(await follow(jar, endUrl.href, 'http://localhost:3000/'));
    expect(confirm.status).toBe(200);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)?.[1] as string;
    const action = /action="([^"]+)"/.exec(confirm.html)?.[1] as string;
    const done = await follow(jar, new URL(action, demo.base).href, 'http://localhost:3000/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    });
    expect(expectCallback(done)).toBe('http://localhost:3000/');
    // Signed out: the next authorization asks for a login again.
    const again = await authorizationRequest(config, SHOP_WEB);
    expect(expectPage(await follow(jar, again.url, SHOP_WEB)).csrf).toBeDefined();
  });
});
