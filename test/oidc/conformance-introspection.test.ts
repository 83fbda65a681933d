/**
 * Introspection by whom (issue 30): a token is introspected by the client it was issued to, or
 * by a client the directory names a resource server (the demo's pos-server-1, its API gateway);
 * any other client gets `{active: false}`, the answer for an unknown token. Driven by
 * openid-client and oauth4webapi.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import { CookieJar, discover, passwordTokens, startOidcDemo, type OidcDemo } from './support.js';

const SHOP_WEB = 'http://localhost:3000/callback';

let demo: OidcDemo;
let shopWeb: client.Configuration;
let shopApp: client.Configuration;
let gateway: client.Configuration;
let other: client.Configuration;
let user: client.TokenEndpointResponse;
let system: client.TokenEndpointResponse;
beforeAll(async () => {
  demo = await startOidcDemo();
  shopWeb = await discover(demo.issuer(), 'shop-web');
  shopApp = await discover(demo.issuer(), 'shop-app');
  gateway = await discover(demo.issuer(), 'pos-server-1', 'pos-server-1-secret');
  other = await discover(demo.issuer(), 'admin-console', 'admin-console-secret');
  user = await passwordTokens(new CookieJar(), shopWeb, SHOP_WEB, 'alice', 'alice-pass-1');
  system = await client.clientCredentialsGrant(gateway);
});
afterAll(() => demo?.close());

describe('introspection by whom', () => {
  it('shows a user token to the app it was issued to and to the resource server', async () => {
    for (const caller of [shopWeb, gateway]) {
      for (const token of [user.access_token, user.refresh_token as string]) {
        expect(await client.tokenIntrospection(caller, token)).toMatchObject({ active: true, sub: 'u-1001', client_id: 'shop-web' });
      }
    }
  });

  it('answers active: false, and nothing else, to any other client', async () => {
    for (const caller of [other, shopApp]) {
      for (const token of [user.access_token, user.refresh_token as string, system.access_token]) {
        expect(await client.tokenIntrospection(caller, token)).toEqual({ active: false });
      }
    }
  });

  it('lets a client introspect its own client-credentials token (oauth4webapi)', async () => {
    const as = await oauth.processDiscoveryResponse(
      new URL(demo.issuer()),
      await oauth.discoveryRequest(new URL(demo.issuer()), { [oauth.allowInsecureRequests]: true }),
    );
    const own = await client.clientCredentialsGrant(other);
    const console = { client_id: 'admin-console' };
    const auth = oauth.ClientSecretBasic('admin-console-secret');
    const insecure = { [oauth.allowInsecureRequests]: true } as const;
    const mine = await oauth.processIntrospectionResponse(
      as,
      console,
      await oauth.introspectionRequest(as, console, auth, own.access_token, insecure),
    );
    expect(mine).toMatchObject({ active: true, client_id: 'admin-console' });
    const res = await oauth.introspectionRequest(as, console, auth, system.access_token, insecure);
    expect(res.status).toBe(200);
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(await oauth.processIntrospectionResponse(as, console, res)).toEqual({ active: false });
  });
});
