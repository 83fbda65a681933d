/**
 * RFC 8414 authorization server metadata beside OpenID Connect discovery: a pure OAuth 2
 * client (oauth4webapi with `algorithm: 'oauth2'`) discovers each tenant's issuer on the public
 * listener and uses what it found.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oauth from 'oauth4webapi';
import { startOidcDemo, type OidcDemo } from './support.js';

let demo: OidcDemo;
beforeAll(async () => {
  demo = await startOidcDemo();
});
afterAll(() => demo?.close());

const insecure = { [oauth.allowInsecureRequests]: true } as const;

describe('RFC 8414 metadata', () => {
  it('lets oauth4webapi discover with algorithm oauth2, and the metadata works', async () => {
    const issuer = new URL(demo.issuer());
    const res = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
    expect(res.url).toBe(`${demo.base}/.well-known/oauth-authorization-server/oidc/demo`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const as = await oauth.processDiscoveryResponse(issuer, res);
    expect(as.issuer).toBe(demo.issuer());
    expect(as.token_endpoint).toBe(`${demo.issuer()}/token`);
    expect(as.jwks_uri).toBe(`${demo.issuer()}/jwks`);
    expect(as.introspection_endpoint).toBe(`${demo.issuer()}/token/introspection`);
    expect(as.revocation_endpoint).toBe(`${demo.issuer()}/token/revocation`);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    // OpenID-only members are left out.
    expect(as).not.toHaveProperty('userinfo_endpoint');
    expect(as).not.toHaveProperty('id_token_signing_alg_values_supported');
    expect(as).not.toHaveProperty('subject_types_supported');
    expect(as.scopes_supported).not.toContain('openid');

    const client = { client_id: 'pos-server-1' };
    const answer = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic('pos-server-1-secret'),
      new URLSearchParams(),
      insecure,
    );
    const tokens = await oauth.processClientCredentialsResponse(as, client, answer);
    expect(tokens.token_type).toBe('bearer');
  });

  it('serves each tenant its own issuer, and 404 for a tenant without a front door', async () => {
    const acme = await oauth.processDiscoveryResponse(
      new URL(demo.issuer('acme')),
      await oauth.discoveryRequest(new URL(demo.issuer('acme')), { algorithm: 'oauth2', ...insecure }),
    );
    expect(acme.issuer).toBe(demo.issuer('acme'));
    for (const path of ['/oidc/nobody', '/oidc', '', '/other/demo']) {
      const res = await fetch(`${demo.base}/.well-known/oauth-authorization-server${path}`);
      expect([path, res.status]).toEqual([path, 404]);
    }
  });

  it('keeps OpenID Connect discovery whole', async () => {
    const res = await fetch(`${demo.issuer()}/.well-known/openid-configuration`);
    const meta = (await res.json()) as Record<string, unknown>;
    expect(meta.userinfo_endpoint).toBe(`${demo.issuer()}/me`);
    expect(meta.scopes_supported).toContain('openid');
  });
});
