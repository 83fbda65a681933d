/**
 * DPoP (RFC 9449), opt-in per client: a client whose directory entry sets
 * dpop_bound_access_tokens gets tokens bound to its key (cnf.jkt) and must prove the key at the
 * token endpoint; the PUT door's token-verify (the demo's `introspect` pipe) and the front
 * door's introspection and userinfo check the binding. Driven with oauth4webapi's DPoP over
 * real HTTP; hand-made proofs give each wrong one, and each is refused with its code.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import * as jose from 'jose';
import { CookieJar, editClients, passwordLogin, startOidcDemo, type OidcDemo } from './support.js';

const SHOP_DPOP = 'http://localhost:3006/callback';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

let demo: OidcDemo;
let as: oauth.AuthorizationServer;
let keyPair: Awaited<ReturnType<typeof oauth.generateKeyPair>>;
let publicJwk: jose.JWK;

beforeAll(async () => {
  demo = await startOidcDemo({
    edit: (fixture) => {
      const directory = fixture.readJson('config/directory.json') as { tenants: { demo: { clients: Record<string, unknown>[] } } };
      const pos = directory.tenants.demo.clients.find((c) => c.client_id === 'pos-server-1') as Record<string, unknown>;
      editClients(fixture, {
        // The same secret as pos-server-1 (the fixture re-hashes by client id, so the hash is copied).
        'pos-dpop': { type: 'sysapp', secret_hash: pos.secret_hash, scopes: ['data:read'], dpop_bound_access_tokens: true },
        'shop-dpop': { type: 'userapp', pool: 'shoppers', redirect_uris: [SHOP_DPOP], dpop_bound_access_tokens: true },
      });
    },
  });
  const issuer = new URL(demo.issuer());
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  keyPair = await oauth.generateKeyPair('ES256');
  publicJwk = await jose.exportJWK(keyPair.publicKey);
});
afterAll(() => demo?.close());

const POS: oauth.Client = { client_id: 'pos-dpop' };
const posAuth = () => oauth.ClientSecretBasic('pos-server-1-secret');

async function boundToken(): Promise<string> {
  const res = await oauth.clientCredentialsGrantRequest(as, POS, posAuth(), new URLSearchParams(), {
    DPoP: oauth.DPoP(POS, keyPair),
    ...insecure,
  });
  const tokens = await oauth.processClientCredentialsResponse(as, POS, res);
  expect(tokens.token_type).toBe('dpop');
  return tokens.access_token;
}

/** A DPoP proof made by hand, any claim or the key overridden. */
async function proof(claims: jose.JWTPayload, key: { privateKey: jose.CryptoKey } = keyPair, jwk: jose.JWK = publicJwk): Promise<string> {
  return new jose.SignJWT({ jti: randomUUID(), iat: Math.floor(Date.now() / 1000), ...claims })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
    .sign(key.privateKey);
}

const introspectUrl = () => `${demo.base}/api/authentication/introspect`;
const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

function put(headers: Record<string, string>) {
  return fetch(introspectUrl(), { method: 'PUT', headers: { tenant: 'demo', 'content-type': 'application/json', ...headers }, body: '{}' });
}

async function expectDpopInvalid(res: Response, property = 'dpop') {
  expect(res.status).toBe(403);
  const body = (await res.json()) as { errorTranslationKeys: string[]; erroneousProperties?: string[] };
  expect(body.errorTranslationKeys).toEqual(['DPOP_INVALID']);
  expect(body.erroneousProperties).toEqual([property]);
}

describe('DPoP at the token endpoint', () => {
  it('advertises the proof algorithms', () => {
    expect(as.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256']));
  });

  it('binds the access token to the key (cnf.jkt), token_type DPoP', async () => {
    const claims = jose.decodeJwt(await boundToken()) as { cnf?: { jkt?: string } };
    expect(claims.cnf?.jkt).toBe(await jose.calculateJwkThumbprint(publicJwk, 'sha256'));
  });

  it('refuses a client that must use DPoP when it sends no proof', async () => {
    const res = await oauth.clientCredentialsGrantRequest(as, POS, posAuth(), new URLSearchParams(), insecure);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_dpop_proof' });
  });

  it.each([
    ['another method', { htm: 'GET' }],
    ['another URL', { htu: 'http://127.0.0.1:1/token' }],
    ['a stale iat', { iat: Math.floor(Date.now() / 1000) - 3600 }],
  ])('refuses a proof with %s (invalid_dpop_proof)', async (_name, claims) => {
    const res = await fetch(`${demo.issuer()}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('pos-dpop:pos-server-1-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        dpop: await proof({ htm: 'POST', htu: `${demo.issuer()}/token`, ...claims }),
      },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_dpop_proof' });
  });

  it('refuses a replayed proof (the same jti twice)', async () => {
    const once = await proof({ htm: 'POST', htu: `${demo.issuer()}/token` });
    const send = () =>
      fetch(`${demo.issuer()}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from('pos-dpop:pos-server-1-secret').toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          dpop: once,
        },
        body: 'grant_type=client_credentials',
      });
    expect((await send()).status).toBe(200);
    const again = await send();
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_dpop_proof' });
  });
});

describe('DPoP at the PUT door (token-verify)', () => {
  it('accepts the token with a proof of its key for this request (oauth4webapi protectedResourceRequest)', async () => {
    const token = await boundToken();
    const res = await oauth.protectedResourceRequest(
      token,
      'PUT',
      new URL(introspectUrl()),
      new Headers({ tenant: 'demo', 'content-type': 'application/json' }),
      '{}',
      { DPoP: oauth.DPoP(POS, keyPair), ...insecure },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ active: 'true', sub: 'pos-dpop' });
  });

  it('refuses the bound token sent as Bearer, or with the DPoP scheme and no proof', async () => {
    const token = await boundToken();
    await expectDpopInvalid(await put({ authorization: `Bearer ${token}` }), 'authorization');
    await expectDpopInvalid(await put({ authorization: `DPoP ${token}` }));
  });

  it('refuses a proof for another method, URL, token or key, a stale one, and a replayed one', async () => {
    const token = await boundToken();
    const good = { htm: 'PUT', htu: introspectUrl(), ath: ath(token) };
    const other = await jose.generateKeyPair('ES256', { extractable: true });
    const wrong: jose.JWTPayload[] = [
      { ...good, htm: 'POST' },
      { ...good, htu: `${demo.base}/api/authentication/echo` },
      { ...good, htu: `${introspectUrl()}?x=1` },
      { ...good, ath: ath('another-token') },
      { ...good, ath: undefined },
      { ...good, iat: Math.floor(Date.now() / 1000) - 600 },
    ];
    for (const claims of wrong) await expectDpopInvalid(await put({ authorization: `DPoP ${token}`, dpop: await proof(claims) }));
    // Signed by another key, with that key in the header: a valid proof, of the wrong key.
    const otherProof = await proof(good, other, await jose.exportJWK(other.publicKey));
    await expectDpopInvalid(await put({ authorization: `DPoP ${token}`, dpop: otherProof }));
    // Not a JWT at all.
    await expectDpopInvalid(await put({ authorization: `DPoP ${token}`, dpop: 'not-a-proof' }));
    // A good proof, twice.
    const once = await proof(good);
    expect((await put({ authorization: `DPoP ${token}`, dpop: once })).status).toBe(200);
    await expectDpopInvalid(await put({ authorization: `DPoP ${token}`, dpop: once }));
  });

  it('refuses the DPoP scheme with an unbound token', async () => {
    const res = await oauth.clientCredentialsGrantRequest(
      as,
      { client_id: 'pos-server-1' },
      oauth.ClientSecretBasic('pos-server-1-secret'),
      new URLSearchParams(),
      insecure,
    );
    const { access_token: plain } = await oauth.processClientCredentialsResponse(as, { client_id: 'pos-server-1' }, res);
    await expectDpopInvalid(
      await put({ authorization: `DPoP ${plain}`, dpop: await proof({ htm: 'PUT', htu: introspectUrl() }) }),
      'authorization',
    );
    expect((await put({ authorization: `Bearer ${plain}` })).status).toBe(200);
  });
});

describe('DPoP at the front door (introspection, userinfo)', () => {
  it('shows cnf.jkt to a resource server introspecting the token', async () => {
    const token = await boundToken();
    const res = await oauth.introspectionRequest(
      as,
      { client_id: 'pos-server-1' },
      oauth.ClientSecretBasic('pos-server-1-secret'),
      token,
      insecure,
    );
    const answer = await oauth.processIntrospectionResponse(as, { client_id: 'pos-server-1' }, res);
    expect(answer.active).toBe(true);
    expect(answer.cnf).toEqual({ jkt: await jose.calculateJwkThumbprint(publicJwk, 'sha256') });
  });

  it('a public app signs a user in with DPoP; userinfo takes the token with a proof, not as Bearer', async () => {
    const app: oauth.Client = { client_id: 'shop-dpop' };
    const verifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint as string);
    for (const [k, v] of Object.entries({
      client_id: 'shop-dpop',
      redirect_uri: SHOP_DPOP,
      response_type: 'code',
      scope: 'openid profile offline_access',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }))
      url.searchParams.set(k, v);
    const callback = await passwordLogin(new CookieJar(), url.href, SHOP_DPOP, 'alice', 'alice-pass-1');
    const params = oauth.validateAuthResponse(as, app, new URL(callback), oauth.expectNoState);
    const DPoP = oauth.DPoP(app, keyPair);
    const res = await oauth.authorizationCodeGrantRequest(as, app, oauth.None(), params, SHOP_DPOP, verifier, { DPoP, ...insecure });
    const tokens = await oauth.processAuthorizationCodeResponse(as, app, res);
    expect(tokens.token_type).toBe('dpop');
    const info = await oauth.userInfoRequest(as, app, tokens.access_token, { DPoP, ...insecure });
    expect(info.status).toBe(200);
    const asBearer = await fetch(as.userinfo_endpoint as string, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(asBearer.status).toBe(401);

    // A public client's refresh token is bound to the key too: another key cannot use it.
    const otherKey = oauth.DPoP(app, await oauth.generateKeyPair('ES256'));
    const stolen = await oauth.refreshTokenGrantRequest(as, app, oauth.None(), tokens.refresh_token as string, {
      DPoP: otherKey,
      ...insecure,
    });
    expect(stolen.status).toBe(400);
    expect(await stolen.json()).toMatchObject({ error: 'invalid_grant' });
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      app,
      await oauth.refreshTokenGrantRequest(as, app, oauth.None(), tokens.refresh_token as string, { DPoP, ...insecure }),
    );
    expect(refreshed.token_type).toBe('dpop');
  });
});
