/**
 * RFC 8693 token exchange at the token endpoint (token-exchange.ts): the demo's mobile-gateway
 * client trades an ID token of a real upstream OpenID provider (examples/upstream-idp.mjs as a
 * child process on a free port) for our access token, through the demo's token-exchange pipe
 * (external-token, token-mint). Each bad subject token is invalid_grant, a client without the
 * grant unauthorized_client, a malformed request invalid_request.
 */
import { afterAll, beforeAll, expect, it, test } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { freePort } from '../support/net.js';
import { startUpstreamIdp, upstreamIdToken } from '../support/upstream-idp.js';
import { startOidcDemo, type OidcDemo } from './support.js';

const HS_SECRET_ENV = 'AUTHPIPE_TEST_EXCHANGE_HS';
const HS_SECRET = 'a-shared-secret-of-the-partner-issuer-0123456789';
const PARTNER = 'http://127.0.0.1:9/partner';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';

let upstream: ChildProcess;
let upstreamPort: number;
let issuer: string;
let demo: OidcDemo;
/** A port nothing listens on: the JWKS of the "down" issuer. */
let closedPort: number;
const DOWN = 'http://127.0.0.1:9/down';

const idToken = (client?: string): Promise<string> => upstreamIdToken(upstreamPort, client);

beforeAll(async () => {
  process.env[HS_SECRET_ENV] = HS_SECRET;
  upstreamPort = await freePort();
  issuer = `http://127.0.0.1:${upstreamPort}`;
  upstream = await startUpstreamIdp(upstreamPort);
  closedPort = await freePort();
  demo = await startOidcDemo({
    edit(fixture) {
      const main = fixture.readJson('config/authpipe.json') as Record<string, any>;
      main.external_issuers.upstream.issuer = issuer;
      // An issuer of shared-secret tokens, so the test can sign what the real one never sends (expired, alg none).
      main.external_issuers.partner = {
        issuer: PARTNER,
        audiences: ['authpipe-demo'],
        algorithms: ['HS256'],
        shared_secret: `\${env:${HS_SECRET_ENV}}`,
        tenants: ['demo'],
      };
      main.external_issuers.down = {
        issuer: DOWN,
        jwks_uri: `http://127.0.0.1:${closedPort}/jwks`,
        audiences: ['authpipe-demo'],
        tenants: ['demo'],
        timeout_ms: 500,
      };
      main.outbound.allow = [...new Set([...main.outbound.allow, `127.0.0.1:${upstreamPort}`, `127.0.0.1:${closedPort}`])];
      fixture.writeMain(main);
      const pipe = fixture.readJson('pipes/token-exchange.json') as { valves: { name: string; config: Record<string, unknown> }[] };
      (pipe.valves[1] as { config: Record<string, unknown> }).config.issuers = ['upstream', 'partner', 'down'];
      fixture.writePipe('token-exchange', pipe);
    },
  });
}, 30_000);

afterAll(async () => {
  upstream?.kill();
  await demo?.close();
  delete process.env[HS_SECRET_ENV];
});

async function exchange(fields: Record<string, string>, client = 'mobile-gateway:mobile-gateway-secret') {
  const res = await fetch(`${demo.issuer()}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(client).toString('base64')}` },
    body: new URLSearchParams({ grant_type: EXCHANGE, subject_token_type: ID_TOKEN, ...fields }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;

async function partnerToken(claims: Record<string, unknown>, alg = 'HS256'): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: PARTNER, sub: 'pat', aud: 'authpipe-demo', iat: now, exp: now + 300, ...claims };
  if (alg === 'none')
    return `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
  return new SignJWT(payload).setProtectedHeader({ alg }).sign(new TextEncoder().encode(HS_SECRET));
}

it('trades an upstream ID token for our access token, once', async () => {
  const subject = await idToken();
  const answer = await exchange({ subject_token: subject });
  expect(answer.status).toBe(200);
  expect(answer.body).toEqual({
    access_token: expect.any(String),
    issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    token_type: 'Bearer',
    expires_in: 1800,
  });
  const claims = claimsOf(answer.body.access_token as string);
  expect(claims).toMatchObject({ sub: 'upstream:carol', tenant: 'demo', client_id: 'mobile-gateway' });
  expect(claims.iss).toBe(demo.issuer());
  // The same subject token again: replayed.
  const again = await exchange({ subject_token: subject });
  expect([again.status, again.body.error]).toEqual([400, 'invalid_grant']);
});

test('discovery lists the grant', async () => {
  const metadata = (await (await fetch(`${demo.issuer()}/.well-known/openid-configuration`)).json()) as { grant_types_supported: string[] };
  expect(metadata.grant_types_supported).toContain(EXCHANGE);
});

test.each<[string, () => Promise<string>]>([
  ['for another audience (an ID token of mobile-backend)', () => idToken('mobile-backend')],
  [
    'signed by a key not in the issuer JWKS',
    async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, sub: 'carol', aud: 'authpipe-demo', iat: now, exp: now + 300 })
        .setProtectedHeader({ alg: 'RS256', kid: 'nope' })
        .sign(privateKey);
    },
  ],
  ['from an unknown issuer', () => partnerToken({ iss: 'http://127.0.0.1:9/unknown' })],
  ['expired', () => partnerToken({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })],
  [
    'naming the upstream as issuer but signed by the partner secret (an algorithm the upstream may not use)',
    () => partnerToken({ iss: issuer }),
  ],
  ['unsigned (alg none)', () => partnerToken({}, 'none')],
  ['not a JWT', async () => 'not-a-token'],
])('a subject token %s is invalid_grant', async (_what, make) => {
  const answer = await exchange({ subject_token: await make() });
  expect([answer.status, answer.body.error]).toEqual([400, 'invalid_grant']);
});

test('a valid token of the shared-secret issuer is accepted (so what the cases above change is what refuses)', async () => {
  const answer = await exchange({ subject_token: await partnerToken({}) });
  expect(answer.status).toBe(200);
  expect(claimsOf(answer.body.access_token as string).sub).toBe('upstream:pat');
});

test('a client without token_exchange is unauthorized_client, before its subject token is looked at', async () => {
  const answer = await exchange({ subject_token: await partnerToken({}) }, 'pos-server-1:pos-server-1-secret');
  expect([answer.status, answer.body.error]).toEqual([400, 'unauthorized_client']);
});

test.each<[string, Record<string, string>]>([
  ['no subject_token', {}],
  ['a subject_token_type that is not a JWT', { subject_token: 'x', subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' }],
  ['a refresh token asked for', { subject_token: 'x', requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }],
  ['an actor token (delegation)', { subject_token: 'x', actor_token: 'y', actor_token_type: ID_TOKEN }],
])('%s is invalid_request', async (_what, fields) => {
  const answer = await exchange(fields);
  expect([answer.status, answer.body.error]).toEqual([400, 'invalid_request']);
});

test('an issuer whose keys cannot be fetched is temporarily_unavailable, in bounded time', async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ iss: DOWN, sub: 'x', aud: 'authpipe-demo', iat: now, exp: now + 300 })
    .setProtectedHeader({ alg: 'RS256', kid: 'k' })
    .sign(privateKey);
  const started = Date.now();
  const answer = await exchange({ subject_token: token });
  expect(Date.now() - started).toBeLessThan(3000);
  expect([answer.status, answer.body.error]).toEqual([400, 'temporarily_unavailable']);
});
