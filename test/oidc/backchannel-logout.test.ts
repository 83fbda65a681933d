/**
 * OpenID Connect Back-Channel Logout 1.0: two apps of one pool signed in through single
 * sign-on, one sign-out, and each app's receiver (a real HTTP server) gets a logout token it
 * verifies with jose against the door's JWKS (§2.4, §2.6). A receiver that refuses does not
 * stop the sign-out, and a logout URI the operator did not list is refused at load.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import * as jose from 'jose';
import {
  allowOutbound,
  authorizationRequest,
  CookieJar,
  discover,
  editClients,
  expectCallback,
  follow,
  loadIssuesOf,
  passwordLogin,
  startOidcDemo,
  startReceiver,
  type OidcDemo,
} from './support.js';
import { ConfigFixture } from '../support/fixture.js';

const SHOP_WEB = 'http://localhost:3000/callback';
const SHOP_APP = 'http://localhost:3001/callback';
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

let demo: OidcDemo;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  // shop-app's receiver refuses once a test asks it to; shop-web's always takes the token.
  receiver = await startReceiver((r) => (r.path === '/logout/shop-app' && refuseShopApp ? 500 : 200));
  demo = await startOidcDemo({
    edit: (fixture) => {
      editClients(fixture, {
        'shop-web': { backchannel_logout_uri: receiver.url('/logout/shop-web') },
        'shop-app': { backchannel_logout_uri: receiver.url('/logout/shop-app') },
      });
      allowOutbound(fixture, receiver.hostPort);
    },
  });
});
afterAll(async () => {
  await demo?.close();
  await receiver?.close();
});
let refuseShopApp = false;

/** alice signs in to shop-web, then (single sign-on, no form) to shop-app, in one browser. */
async function signInToBoth() {
  const jar = new CookieJar();
  const web = await discover(demo.issuer(), 'shop-web');
  const webRequest = await authorizationRequest(web, SHOP_WEB, { scope: 'openid profile' });
  const webTokens = await client.authorizationCodeGrant(
    web,
    new URL(await passwordLogin(jar, webRequest.url, SHOP_WEB, 'alice', 'alice-pass-1')),
    {
      pkceCodeVerifier: webRequest.verifier,
      expectedState: webRequest.state,
      expectedNonce: webRequest.nonce,
    },
  );
  const app = await discover(demo.issuer(), 'shop-app');
  const appRequest = await authorizationRequest(app, SHOP_APP, { scope: 'openid profile' });
  const appTokens = await client.authorizationCodeGrant(app, new URL(expectCallback(await follow(jar, appRequest.url, SHOP_APP))), {
    pkceCodeVerifier: appRequest.verifier,
    expectedState: appRequest.state,
    expectedNonce: appRequest.nonce,
  });
  return { jar, web, webTokens, appTokens };
}

/** The app's sign-out with its id_token_hint: the page submits itself (logout=yes), then the app's post-logout URI. */
async function signOut(jar: CookieJar, config: client.Configuration, idToken: string) {
  const endUrl = client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: 'http://localhost:3000/' });
  const html = await (await jar.fetch(endUrl.href)).text();
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1] as string;
  const action = /action="([^"]+)"/.exec(html)?.[1] as string;
  return follow(jar, new URL(action, demo.base).href, 'http://localhost:3000/', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
  });
}

describe('back-channel logout', () => {
  it('advertises back-channel logout with sessions in discovery', async () => {
    const meta = (await (await fetch(`${demo.issuer()}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(meta.backchannel_logout_supported).toBe(true);
    expect(meta.backchannel_logout_session_supported).toBe(true);
  });

  it('signing out sends every app of the session a logout token that jose verifies', async () => {
    receiver.received.length = 0;
    const { jar, web, webTokens, appTokens } = await signInToBoth();
    const webClaims = webTokens.claims() as jose.JWTPayload & { sid?: string };
    const appClaims = appTokens.claims() as jose.JWTPayload & { sid?: string };
    expect(webClaims.sid).toEqual(expect.any(String));
    expect(appClaims.sid).toEqual(expect.any(String));

    expect(expectCallback(await signOut(jar, web, webTokens.id_token as string))).toBe('http://localhost:3000/');
    const received = await receiver.until(2);
    const jwks = jose.createRemoteJWKSet(new URL(`${demo.issuer()}/jwks`));
    const byClient = new Map<string, jose.JWTPayload>();
    for (const r of received) {
      expect(r.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
      const token = new URLSearchParams(r.body).get('logout_token') as string;
      const clientId = r.path.split('/').pop() as string;
      const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
        issuer: demo.issuer(),
        audience: clientId,
        algorithms: ['RS256'],
        maxTokenAge: '2 minutes',
      });
      expect(protectedHeader.typ).toBe('logout+jwt');
      // §2.4: the event, sub and sid, a jti and iat, and never a nonce.
      expect(payload.events).toEqual({ [LOGOUT_EVENT]: {} });
      expect(payload.jti).toEqual(expect.any(String));
      expect(payload.iat).toEqual(expect.any(Number));
      expect(payload).not.toHaveProperty('nonce');
      byClient.set(clientId, payload);
    }
    expect(byClient.get('shop-web')).toMatchObject({ sub: webClaims.sub, sid: webClaims.sid });
    expect(byClient.get('shop-app')).toMatchObject({ sub: appClaims.sub, sid: appClaims.sid });

    // The login is over at the door too: shop-app's access token is refused at userinfo.
    const app = await discover(demo.issuer(), 'shop-app');
    await expect(client.fetchUserInfo(app, appTokens.access_token, webClaims.sub as string)).rejects.toMatchObject({ status: 401 });
  });

  it('an app whose receiver refuses does not stop the sign-out, nor the other app’s token', async () => {
    receiver.received.length = 0;
    refuseShopApp = true;
    try {
      const { jar, web, webTokens } = await signInToBoth();
      expect(expectCallback(await signOut(jar, web, webTokens.id_token as string))).toBe('http://localhost:3000/');
      const paths = (await receiver.until(2)).map((r) => r.path).sort();
      expect(paths).toEqual(['/logout/shop-app', '/logout/shop-web']);
      // The session is gone: a new sign-in to shop-web shows the form again.
      const request = await authorizationRequest(web, SHOP_WEB);
      const again = await follow(jar, request.url, SHOP_WEB);
      expect('page' in again && again.page.csrf !== undefined).toBe(true);
    } finally {
      refuseShopApp = false;
    }
  });
});

describe('back-channel logout URI at load', () => {
  it('refuses a URI whose host and port are not on outbound.allow (CONFIG_OUTBOUND, in the directory file)', async () => {
    const fixture = ConfigFixture.fromDemo();
    try {
      editClients(fixture, { 'shop-web': { backchannel_logout_uri: 'http://127.0.0.1:9/logout' } });
      expect(await loadIssuesOf(fixture)).toEqual([
        expect.objectContaining({
          code: 'CONFIG_OUTBOUND',
          file: 'config/directory.json',
          pointer: '/tenants/demo/clients/2/backchannel_logout_uri',
        }),
      ]);
    } finally {
      fixture.cleanup();
    }
  });

  it('refuses it on a sysapp (CONFIG_INVALID)', async () => {
    const fixture = ConfigFixture.fromDemo();
    try {
      editClients(fixture, { 'pos-server-1': { backchannel_logout_uri: 'http://127.0.0.1:4000/logout' } });
      expect(await loadIssuesOf(fixture)).toEqual([
        expect.objectContaining({ code: 'CONFIG_INVALID', pointer: '/tenants/demo/clients/0/backchannel_logout_uri' }),
      ]);
    } finally {
      fixture.cleanup();
    }
  });
});
