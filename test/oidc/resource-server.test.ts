/**
 * Standard resource-server libraries accept every kind of access token we mint (the front
 * door's client credentials and user tokens, and the PUT pipes' till, client, OTP and TOTP
 * tokens) when configured for the issuing tenant, and refuse another tenant's: jose's
 * jwtVerify with a remote JWKS, and oauth4webapi's validateJwtAccessToken (RFC 9068).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { hotp } from '../../src/otp/hotp.js';
import { codeFor } from '../otp/outbox.js';
import { CookieJar, discover, passwordTokens, startOidcDemo, type OidcDemo } from './support.js';

const AUDIENCE = 'https://api.demo.example';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

let demo: OidcDemo;
const tokens: Record<string, string> = {};
let acmeToken: string;

beforeAll(async () => {
  // The demo sends OTP codes to the outbox in the working folder: keep this test's in its fixture.
  demo = await startOidcDemo({ edit: (fixture) => fixture.keepOutboxInside('otp-start') });
  const cc = await client.clientCredentialsGrant(await discover(demo.issuer(), 'pos-server-1', 'pos-server-1-secret'));
  tokens['oidc client credentials'] = cc.access_token;
  const web = await discover(demo.issuer(), 'shop-web');
  tokens['oidc authorization code'] = (
    await passwordTokens(new CookieJar(), web, 'http://localhost:3000/callback', 'alice', 'alice-pass-1')
  ).access_token;
  tokens['PUT till-login'] = (
    await demo.server.call('till-login', {}, { authorization: basic('till-001', 'till-001-pass') })
  ).body.access_token;
  tokens['PUT client-login'] = (
    await demo.server.call('client-login', {}, { authorization: basic('pos-server-1', 'pos-server-1-secret') })
  ).body.access_token;
  const started = await demo.server.call('otp-start', { mobile: '+15550000002' });
  const code = await codeFor(demo.outbox, started.body.transaction_id);
  tokens['PUT otp-verify'] = (
    await demo.server.call('otp-verify', { transaction_id: started.body.transaction_id, otp: code })
  ).body.access_token;
  const totp = hotp(Buffer.from('12345678901234567890'), Math.floor(Date.now() / 30_000), 6, 'SHA1');
  tokens['PUT totp-login'] = (await demo.server.call('totp-login', { username: 'alice', otp: totp })).body.access_token;
  acmeToken = (await demo.server.call('till-login', {}, { tenant: 'acme', authorization: basic('acme-till-1', 'acme-till-1-pass') })).body
    .access_token;
}, 60_000);
afterAll(() => demo?.close());

const KINDS = [
  'oidc client credentials',
  'oidc authorization code',
  'PUT till-login',
  'PUT client-login',
  'PUT otp-verify',
  'PUT totp-login',
];

describe('jose jwtVerify with the remote JWKS of the tenant', () => {
  it.each(KINDS)('accepts %s', async (kind) => {
    expect(typeof tokens[kind]).toBe('string');
    const jwks = createRemoteJWKSet(new URL(`${demo.issuer()}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(tokens[kind] as string, jwks, {
      issuer: demo.issuer(),
      audience: AUDIENCE,
      typ: 'at+jwt',
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(typeof payload.client_id).toBe('string');
  });

  it("refuses another tenant's token by its key, even without checking iss or aud", async () => {
    const jwks = createRemoteJWKSet(new URL(`${demo.issuer()}/jwks`));
    // acme signs with its own keys: demo's JWKS has no key of that kid.
    for (const options of [{ issuer: demo.issuer(), audience: AUDIENCE, typ: 'at+jwt' }, {}])
      await expect(jwtVerify(acmeToken, jwks, options)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
  });
});

describe('oauth4webapi validateJwtAccessToken (RFC 9068)', () => {
  const validate = async (token: string, tenant = 'demo') => {
    const as = await oauth.processDiscoveryResponse(
      new URL(demo.issuer(tenant)),
      await oauth.discoveryRequest(new URL(demo.issuer(tenant)), { algorithm: 'oidc', [oauth.allowInsecureRequests]: true }),
    );
    const request = new Request('https://api.demo.example/data', { headers: { authorization: `Bearer ${token}` } });
    return oauth.validateJwtAccessToken(as, request, AUDIENCE, { [oauth.allowInsecureRequests]: true });
  };

  it.each(KINDS)('accepts %s', async (kind) => {
    const claims = await validate(tokens[kind] as string);
    expect(claims.iss).toBe(demo.issuer());
  });

  it("refuses another tenant's token", async () => {
    await expect(validate(acmeToken)).rejects.toThrow();
    await expect(validate(acmeToken, 'acme')).resolves.toMatchObject({ iss: demo.issuer('acme') });
  });
});

describe('RFC 7662 introspection at the front door', () => {
  it.each(KINDS)('shows %s as active, with numeric times and its audience', async (kind) => {
    const gateway = await discover(demo.issuer(), 'pos-server-1', 'pos-server-1-secret');
    const answer = await client.tokenIntrospection(gateway, tokens[kind] as string);
    expect(answer.active).toBe(true);
    expect(answer.aud).toBe(AUDIENCE);
    expect(answer.token_type).toBe('Bearer');
    expect(typeof answer.exp).toBe('number');
    expect(typeof answer.iat).toBe('number');
    expect(typeof answer.client_id).toBe('string');
  });

  it("shows another tenant's token as inactive, with a 200", async () => {
    const res = await fetch(`${demo.issuer()}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('pos-server-1', 'pos-server-1-secret') },
      body: new URLSearchParams({ token: acmeToken }).toString(),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ active: false });
  });
});
