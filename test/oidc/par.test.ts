/**
 * Pushed authorization requests (RFC 9126), driven with openid-client over real HTTP: any
 * client may push; a client whose directory entry sets require_pushed_authorization_requests
 * must; a request_uri is good for one authorization request of its own client only.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { CookieJar, discover, editClients, expectCallback, expectPage, follow, startOidcDemo, submit, type OidcDemo } from './support.js';

const SHOP_WEB = 'http://localhost:3000/callback';
const SHOP_APP = 'http://localhost:3001/callback';

let demo: OidcDemo;
beforeAll(async () => {
  demo = await startOidcDemo({ edit: (fixture) => editClients(fixture, { 'shop-app': { require_pushed_authorization_requests: true } }) });
});
afterAll(() => demo?.close());

async function pushed(config: client.Configuration, redirectUri: string) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  return { url, verifier, state };
}

const errorOf = (callback: string) => Object.fromEntries(new URL(callback).searchParams);

describe('pushed authorization requests', () => {
  it('advertises the endpoint, not required for all', async () => {
    const meta = (await (await fetch(`${demo.issuer()}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(meta.pushed_authorization_request_endpoint).toBe(`${demo.issuer()}/request`);
    // Absent means false (RFC 9126 §5).
    expect(meta.require_pushed_authorization_requests).not.toBe(true);
  });

  it('signs a user in through a pushed request (openid-client buildAuthorizationUrlWithPAR)', async () => {
    const config = await discover(demo.issuer(), 'shop-app');
    const { url, verifier, state } = await pushed(config, SHOP_APP);
    // Only client_id and request_uri travel through the browser.
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const jar = new CookieJar();
    const page = expectPage(await follow(jar, url.href, SHOP_APP));
    const callback = expectCallback(await submit(jar, page, { username: 'alice', password: 'alice-pass-1' }, SHOP_APP));
    const tokens = await client.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.claims()?.sub).toBeDefined();

    // The same request_uri again: used up (RFC 9126 §4).
    const reused = await follow(new CookieJar(), url.href, SHOP_APP);
    const reuseError = 'callback' in reused ? errorOf(reused.callback).error : reused.page.errorCode;
    expect(reuseError).toBe('invalid_request_uri');
  });

  it('refuses a plain authorization request from a client that must push', async () => {
    const config = await discover(demo.issuer(), 'shop-app');
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: SHOP_APP,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: 'plain',
    });
    const result = await follow(new CookieJar(), url.href, SHOP_APP);
    expect(errorOf(expectCallback(result))).toMatchObject({ error: 'invalid_request', state: 'plain' });
  });

  it('still serves plain requests of a client that need not push', async () => {
    const config = await discover(demo.issuer(), 'shop-web');
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: SHOP_WEB,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    expect(expectPage(await follow(new CookieJar(), url.href, SHOP_WEB)).csrf).toBeDefined();
  });

  it("refuses another client's request_uri", async () => {
    const config = await discover(demo.issuer(), 'shop-app');
    const { url } = await pushed(config, SHOP_APP);
    const stolen = new URL(`${demo.issuer()}/auth`);
    stolen.searchParams.set('client_id', 'shop-web');
    stolen.searchParams.set('request_uri', url.searchParams.get('request_uri') as string);
    const result = await follow(new CookieJar(), stolen.href, SHOP_WEB);
    // The pushed request is bound to its client: another client_id beside it is a mismatch of the request object.
    const code = 'callback' in result ? errorOf(result.callback).error : result.page.errorCode;
    expect(code).toBe('invalid_request_object');
  });

  it('answers bad pushes with their OAuth errors', async () => {
    const push = (body: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${demo.issuer()}/request`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(body).toString(),
      });
    const unregistered = await push({
      client_id: 'shop-app',
      response_type: 'code',
      redirect_uri: 'https://evil.example/cb',
      scope: 'openid',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    });
    expect(unregistered.status).toBe(400);
    // RFC 9126 §2.3: the push is refused as the authorization request would be, but answered to the client.
    expect(await unregistered.json()).toMatchObject({ error: 'invalid_request' });
    const unknown = await push({ client_id: 'nobody', response_type: 'code', redirect_uri: SHOP_APP, scope: 'openid' });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ error: 'invalid_client' });
    const carriesRequestUri = await push({ client_id: 'shop-app', request_uri: 'urn:ietf:params:oauth:request_uri:x', scope: 'openid' });
    expect(carriesRequestUri.status).toBe(400);
    expect(await carriesRequestUri.json()).toMatchObject({ error: 'request_uri_not_supported' });
  });
});

// Last in the file: it uses up this address's pushes for the minute.
describe('pushed authorization request flood', () => {
  it('bounds pushes per address (oidc.interactions.per_address): 429 temporarily_unavailable, nothing stored past it', async () => {
    const config = await discover(demo.issuer(), 'shop-web');
    let refused: unknown;
    for (let i = 0; i < 40 && refused === undefined; i++) {
      try {
        await pushed(config, SHOP_WEB);
      } catch (err) {
        refused = err;
      }
    }
    expect(refused).toMatchObject({ status: 429, error: 'temporarily_unavailable' });
    // /auth keeps its own count: a plain sign-in still starts.
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: SHOP_WEB,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    expect(expectPage(await follow(new CookieJar(), url.href, SHOP_WEB)).csrf).toBeDefined();
  });
});
