/**
 * Keys at the front door, as relying parties and resource servers meet them: RS256 id_tokens by
 * default (openid-client's default, OpenID Connect Discovery section 3), ES256 for a client that
 * chooses it, each tenant's own keys in its own JWKS, and a token signed with another tenant's
 * key refused everywhere even when its claims are this tenant's.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { es256, fixtureKey } from '../tokens/support.js';
import { CookieJar, passwordTokens, startOidcDemo, type OidcDemo } from './support.js';

const SHOP_WEB = 'http://localhost:3000/callback';
const SHOP_APP = 'http://localhost:3001/callback';
const AUDIENCE = 'https://api.demo.example';

let demo: OidcDemo;
beforeAll(async () => {
  demo = await startOidcDemo({
    edit: (f) => {
      // shop-app chooses ES256 id_tokens and RS256 access tokens; shop-web keeps the defaults.
      const directory = f.readJson('config/directory.json') as { tenants: Record<string, { clients: Record<string, unknown>[] }> };
      const app = directory.tenants.demo?.clients.find((c) => c.client_id === 'shop-app') as Record<string, unknown>;
      app.id_token_signed_response_alg = 'ES256';
      app.access_token_signed_response_alg = 'RS256';
      f.write('config/directory.json', directory);
    },
  });
});
afterAll(() => demo?.close());

const insecure = { execute: [client.allowInsecureRequests] };

async function codeFlow(config: client.Configuration, redirect: string) {
  return passwordTokens(new CookieJar(), config, redirect, 'alice', 'alice-pass-1');
}

async function kids(url: string): Promise<string[]> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid).sort();
}

describe('signing algorithms', () => {
  it('discovery lists RS256 and ES256 for id_tokens', async () => {
    const meta = (await (await fetch(`${demo.issuer()}/.well-known/openid-configuration`)).json()) as Record<string, string[]>;
    expect(meta.id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256', 'ES256']));
  });

  it('openid-client with its defaults (RS256) signs a user in; the id_token verifies against the JWKS', async () => {
    const config = await client.discovery(new URL(demo.issuer()), 'shop-web', undefined, client.None(), insecure);
    const tokens = await codeFlow(config, SHOP_WEB);
    const idToken = tokens.id_token as string;
    expect(decodeProtectedHeader(idToken).alg).toBe('RS256');
    expect(tokens.claims()).toMatchObject({ iss: demo.issuer(), sub: 'u-1001', aud: 'shop-web' });
    const jwks = createRemoteJWKSet(new URL(`${demo.issuer()}/jwks`));
    await expect(jwtVerify(idToken, jwks, { issuer: demo.issuer(), audience: 'shop-web', algorithms: ['RS256'] })).resolves.toBeDefined();
    // Its access token keeps the configured algorithm (tokens.algorithm, ES256).
    expect(decodeProtectedHeader(tokens.access_token).alg).toBe('ES256');
  });

  it('a client that chooses ES256 id_tokens (and RS256 access tokens) gets them', async () => {
    const config = await client.discovery(
      new URL(demo.issuer()),
      'shop-app',
      { id_token_signed_response_alg: 'ES256' },
      client.None(),
      insecure,
    );
    const tokens = await codeFlow(config, SHOP_APP);
    expect(decodeProtectedHeader(tokens.id_token as string).alg).toBe('ES256');
    expect(tokens.claims()).toMatchObject({ sub: 'u-1001', aud: 'shop-app' });
    expect(decodeProtectedHeader(tokens.access_token).alg).toBe('RS256');
    const jwks = createRemoteJWKSet(new URL(`${demo.issuer()}/jwks`));
    await expect(jwtVerify(tokens.access_token, jwks, { issuer: demo.issuer(), audience: AUDIENCE, typ: 'at+jwt' })).resolves.toBeDefined();
    // The PUT door's token-verify takes it like any of the tenant's tokens.
    const res = await demo.server.call('introspect', {}, { authorization: `Bearer ${tokens.access_token}` });
    expect(res.status).toBe(200);
  });
});

describe('per-tenant keys', () => {
  it("each tenant's JWKS holds its own kids only, at the front door and the PUT door alike", async () => {
    const demoKids = await kids(`${demo.issuer()}/jwks`);
    const acmeKids = await kids(`${demo.issuer('acme')}/jwks`);
    expect(demoKids.length).toBeGreaterThanOrEqual(2);
    expect(demoKids.filter((k) => acmeKids.includes(k))).toEqual([]);
    expect(await kids(`${demo.base}/.well-known/jwks/demo.json`)).toEqual(demoKids);
    expect(await kids(`${demo.base}/.well-known/jwks/acme.json`)).toEqual(acmeKids);
  });

  it("a token signed by acme's key, with demo's issuer, audience and tenant, is refused at demo's introspection, userinfo and PUT token-verify", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: demo.issuer(),
      sub: 'pos-server-1',
      aud: AUDIENCE,
      iat: now,
      exp: now + 600,
      jti: `j-${now}`,
      tenant: 'demo',
      client_id: 'pos-server-1',
      kind: 'client',
    };
    const sign = (tenant: string) => {
      const { kid, key } = fixtureKey(demo.fixture, tenant);
      return es256({ alg: 'ES256', typ: 'at+jwt', kid }, claims, key);
    };
    const introspect = async (token: string) => {
      const res = await fetch(`${demo.issuer()}/token/introspection`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from('pos-server-1:pos-server-1-secret').toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }),
      });
      return (await res.json()) as { active: boolean };
    };
    // The same claims under demo's own key are live: only the key differs.
    expect((await introspect(sign('demo'))).active).toBe(true);
    const forged = sign('acme');
    expect((await introspect(forged)).active).toBe(false);
    const userinfo = await fetch(`${demo.issuer()}/me`, { headers: { authorization: `Bearer ${forged}` } });
    expect(userinfo.status).toBe(401);
    const put = await demo.server.call('introspect', {}, { authorization: `Bearer ${forged}` });
    expect(put.status).toBe(403);
    expect(put.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
  });
});
