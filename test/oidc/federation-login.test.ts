/**
 * Sign-in through an upstream OpenID provider (federation.ts, federated-account): a real
 * oidc-provider upstream for the happy path (just-in-time account, then reused), state
 * misuse, an upstream error answer and a matching unverified email; a listener that never
 * answers and a closed port for a slow or down upstream; and a tiny fake upstream whose token
 * endpoint answers crafted ID tokens, for what a correct provider never sends (wrong issuer,
 * audience, nonce, signature, alg none, expired, at_hash).
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import { freePort } from '../support/net.js';
import { startRealUpstream } from '../support/upstream-idp.js';
import {
  CookieJar,
  discover,
  exchangeCode,
  expectCallback,
  expectPage,
  follow,
  openLogin,
  parsePage,
  startOidcDemo,
  submit,
  type OidcDemo,
} from './support.js';

const REDIRECT = 'http://localhost:3000/callback';
const SECRET_ENV = 'AUTHPIPE_TEST_UPSTREAM_SECRET';
const listeners: Server[] = [];
let demo: OidcDemo;
let upstreamPort: number;
/** What the real upstream says of carol: changed by a test. */
let carol: Record<string, unknown> = { email: 'carol@example.com', email_verified: true, name: 'Carol' };
/** What the fake upstream's token endpoint gets wrong. */
let fault = '';
/** Who signs in at the real upstream. */
let upstreamUser = 'carol';
let fakeNonce = '';

const listen = (server: Server, port = 0) =>
  new Promise<number>((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

async function startFake(port: number, callback: () => string): Promise<void> {
  const issuer = `http://127.0.0.1:${port}`;
  const key = await jose.generateKeyPair('RS256');
  const other = await jose.generateKeyPair('RS256');
  const jwk = { ...(await jose.exportJWK(key.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const json = (body: unknown) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration')
      return json({
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    if (url.pathname === '/jwks') return json({ keys: [jwk] });
    if (url.pathname === '/authorize') {
      fakeNonce = url.searchParams.get('nonce') ?? '';
      res.statusCode = 302;
      res.setHeader('location', `${callback()}?code=c0de&state=${url.searchParams.get('state') ?? ''}`);
      return res.end();
    }
    if (url.pathname === '/token') {
      req.resume();
      req.on('end', () => {
        void (async () => {
          const access = 'at-123';
          const now = Math.floor(Date.now() / 1000);
          const claims: jose.JWTPayload = {
            iss: fault === 'issuer' ? 'http://127.0.0.1:1' : issuer,
            aud: fault === 'audience' ? 'someone-else' : 'fake-client',
            sub: 'mallory',
            nonce: fault === 'nonce' ? 'not-the-nonce' : fakeNonce,
            iat: now - (fault === 'expired' ? 7200 : 0),
            exp: now + (fault === 'expired' ? -3600 : 300),
            at_hash:
              fault === 'at_hash'
                ? 'AAAAAAAAAAAAAAAAAAAAAA'
                : createHash('sha256').update(access).digest().subarray(0, 16).toString('base64url'),
          };
          const id_token =
            fault === 'none'
              ? `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`
              : await new jose.SignJWT(claims)
                  .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
                  .sign(fault === 'signature' ? other.privateKey : key.privateKey);
          json({ access_token: access, token_type: 'Bearer', expires_in: 300, id_token });
        })();
      });
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  listeners.push(server);
  await listen(server, port);
}

beforeAll(async () => {
  process.env[SECRET_ENV] = 'authpipe-demo-secret';
  upstreamPort = await freePort();
  const [downPort, slowPort, fakePort] = [await freePort(), await freePort(), await freePort()];
  const slow = createServer(() => undefined); // accepts, never answers
  listeners.push(slow);
  await listen(slow, slowPort);
  demo = await startOidcDemo({
    edit(fixture) {
      const main = fixture.readJson('config/authpipe.json') as Record<string, any>;
      // Beside what the demo lists already (its stand-in upstream for external-login).
      // A set: free ports picked apart may coincide with each other or with the demo's own.
      main.outbound.allow = [
        ...new Set([...main.outbound.allow, ...[upstreamPort, downPort, slowPort, fakePort].map((port) => `127.0.0.1:${port}`)]),
      ];
      const up = (port: number, extra: Record<string, unknown> = {}) => ({
        issuer: `http://127.0.0.1:${port}`,
        client_id: 'authpipe-demo',
        client_secret: `\${env:${SECRET_ENV}}`,
        ...extra,
      });
      main.oidc.tenants.demo.upstreams = {
        upstream: up(upstreamPort, { display_name: 'Upstream' }),
        down: up(downPort, { timeout_ms: 500 }),
        slow: up(slowPort, { timeout_ms: 300 }),
        fake: up(fakePort, { client_id: 'fake-client' }),
      };
      const pool = (idp: string) => ({ steps: [{ operation: 'login-upstream', upstream: idp }] });
      Object.assign(main.oidc.tenants.demo.pools, {
        federated: pool('upstream'),
        'fed-down': pool('down'),
        'fed-slow': pool('slow'),
        'fed-fake': pool('fake'),
      });
      fixture.writeMain(main);
      fixture.writePipe('login-upstream', {
        id: 'login-upstream',
        valves: [{ name: 'federated-account', config: { create: true, link_by_email: true } }],
        response: ['sub'],
      });
      const directory = fixture.readJson('config/directory.json') as { tenants: { demo: { clients: unknown[] } } };
      for (const [id, pool] of [
        ['fed-web', 'federated'],
        ['fed-down', 'fed-down'],
        ['fed-slow', 'fed-slow'],
        ['fed-fake', 'fed-fake'],
      ])
        directory.tenants.demo.clients.push({ client_id: id, type: 'userapp', pool, redirect_uris: [REDIRECT] });
      fixture.write('config/directory.json', directory);
    },
  });
  const callbackOf = (idp: string) => `${demo.issuer()}/federation/${idp}/callback`;
  await startFake(fakePort, () => callbackOf('fake'));
  listeners.push(
    await startRealUpstream(
      upstreamPort,
      callbackOf('upstream'),
      () => upstreamUser,
      () => carol,
    ),
  );
});

afterAll(async () => {
  await demo?.close();
  for (const server of listeners) {
    server.closeAllConnections();
    server.close();
  }
  delete process.env[SECRET_ENV];
});

/** Starts a sign-in of `clientId` and answers its first page: the upstream's button. */
async function buttonPage(clientId: string) {
  const config = await discover(demo.issuer(), clientId);
  const jar = new CookieJar();
  return { config, jar, ...(await openLogin(jar, config, REDIRECT)) };
}

async function signInThroughUpstream(): Promise<string> {
  const { config, request, jar, page } = await buttonPage('fed-web');
  expect(page.status).toBe(200);
  expect(page.html).toContain('Sign in with Upstream');
  const back = expectCallback(await submit(jar, page, {}, REDIRECT));
  const tokens = await exchangeCode(config, back, request);
  return tokens.claims()!.sub;
}

test('carol signs in through the upstream: an account is created just in time, then reused', async () => {
  carol = { email: 'carol@example.com', email_verified: true, name: 'Carol' };
  const first = await signInThroughUpstream();
  expect(first).toMatch(/^fed-/);
  const again = await signInThroughUpstream();
  expect(again).toBe(first);
});

test('a wrong or reused state gets a coded page, not a sign-in', async () => {
  const { jar, page } = await buttonPage('fed-web');
  const stop = `${demo.issuer()}/federation/`;
  const result = await submit(jar, page, {}, stop);
  const callbackUrl = expectCallback(result);
  const wrong = new URL(callbackUrl);
  wrong.searchParams.set('state', 'not-a-state');
  const refused = await jar.fetch(wrong.href);
  expect(refused.status).toBe(400);
  expect(parsePage(wrong.href, 400, await refused.text()).errorCode).toBe('INVALID_REQUEST');
  const used = await jar.fetch(callbackUrl);
  expect(used.status).toBe(303);
  const reused = await jar.fetch(callbackUrl);
  expect(reused.status).toBe(400);
  expect(parsePage(callbackUrl, 400, await reused.text()).errorCode).toBe('INVALID_REQUEST');
});

test('an error answer from the upstream shows UPSTREAM_REFUSED on the login page', async () => {
  const { jar, page } = await buttonPage('fed-web');
  const toUpstream = expectCallback(await submit(jar, page, {}, `http://127.0.0.1:${upstreamPort}/`));
  const state = new URL(toUpstream).searchParams.get('state') as string;
  const shown = expectPage(await follow(jar, `${demo.issuer()}/federation/upstream/callback?error=access_denied&state=${state}`, REDIRECT));
  expect(shown.status).toBe(403);
  expect(shown.errorCode).toBe('UPSTREAM_REFUSED');
});

test.each([
  ['fed-down', 'down'],
  ['fed-slow', 'slow'],
])('an upstream that is %s answers COMMUNICATION_ERROR in bounded time', async (clientId) => {
  const { jar, page } = await buttonPage(clientId);
  const started = Date.now();
  const shown = expectPage(await submit(jar, page, {}, REDIRECT));
  expect(Date.now() - started).toBeLessThan(3000);
  expect(shown.status).toBe(502);
  expect(shown.errorCode).toBe('COMMUNICATION_ERROR');
});

test.each(['issuer', 'audience', 'nonce', 'signature', 'none', 'expired', 'at_hash'])(
  'an upstream ID token with a wrong %s is refused',
  async (kind) => {
    fault = kind;
    const { jar, page } = await buttonPage('fed-fake');
    const shown = expectPage(await submit(jar, page, {}, REDIRECT));
    expect(shown.status).toBe(403);
    expect(shown.errorCode).toBe('UPSTREAM_REFUSED');
  },
);

test('the fake upstream signs in when nothing is wrong (so the faults above are what refused)', async () => {
  fault = '';
  const { jar, page } = await buttonPage('fed-fake');
  expectCallback(await submit(jar, page, {}, REDIRECT));
});

test('an unverified upstream email matching a local account does not link', async () => {
  // dave has no link yet, and says alice's address without vouching for it.
  upstreamUser = 'dave';
  carol = { email: 'alice@example.com', email_verified: false, name: 'Not Alice' };
  const { jar, page } = await buttonPage('fed-web');
  const shown = expectPage(await submit(jar, page, {}, REDIRECT));
  expect(shown.status).toBe(403);
  expect(shown.errorCode).toBe('LINK_REFUSED');
  upstreamUser = 'carol';
});
