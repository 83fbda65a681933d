/**
 * Userinfo (`<issuer>/me`) answers for every live user token we mint, PUT-minted ones
 * included: a token from the demo's otp-verify pipe gets the directory user's claims for its
 * scope, the same as a hosted-login token for that scope, whether it names one of the tenant's
 * apps or only the tenant. Every other bearer (expired, another tenant's, another audience's,
 * not an access token, a revoked login, a system token, a subject the directory does not know,
 * a client the front door does not know) gets 401 invalid_token (RFC 6750). The tenant, the
 * client of PUT user tokens naming no app, can do nothing else at the front door.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { KeyObject } from 'node:crypto';
import * as client from 'openid-client';
import { codeFor } from '../otp/outbox.js';
import { es256, fixtureKey } from '../tokens/support.js';
import { CookieJar, discover, passwordTokens, setRefreshGrace, startOidcDemo, type OidcDemo } from './support.js';

const SHOP_WEB = 'http://localhost:3000/callback';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

let demo: OidcDemo;
let ours: { kid: string; key: KeyObject };

/** A fixture pipe: the demo's otp-verify, minting with a scope and the client the caller names. */
function scopedOtpVerify(pipe: { valves: { name: string; config: Record<string, unknown> }[] }) {
  const mint = pipe.valves.find((v) => v.name === 'token-mint') as { config: Record<string, unknown> };
  mint.config = { ...mint.config, scope: 'profile email', client_id: '{{request.client_id}}' };
  return { ...pipe, id: 'otp-verify-scoped' };
}

beforeAll(async () => {
  demo = await startOidcDemo({
    edit: (fixture) => {
      fixture.keepOutboxInside('otp-start');
      // Bob logs in by SMS several times here: no resend cooldown, no hourly cap.
      const start = fixture.readJson('pipes/otp-start.json') as { valves: { name: string; config: Record<string, unknown> }[] };
      Object.assign(start.valves.find((v) => v.name === 'otp-issue')?.config ?? {}, { cooldown_seconds: 0, max_per_hour: 1000 });
      fixture.writePipe('otp-start', start);
      fixture.writePipe('otp-verify-scoped', scopedOtpVerify(fixture.readJson('pipes/otp-verify.json') as never));
      const main = fixture.readJson('config/authpipe.json') as {
        modules: { config: { tenant: { id: string; allowedOperation: string[] }[] } }[];
      };
      main.modules[0]?.config.tenant.find((t) => t.id === 'demo')?.allowedOperation.push('otp-verify-scoped');
      fixture.writeMain(main);
      // A refresh token's immediate repeat is reuse here (conformance-refresh.test.ts covers the grace window).
      setRefreshGrace(fixture, 0);
      const directory = fixture.readJson('config/directory.json') as { tenants: { demo: { clients: object[] } } };
      directory.tenants.demo.clients.push({
        client_id: 'retired-app',
        type: 'userapp',
        pool: 'shoppers',
        status: 'disabled',
        redirect_uris: ['http://localhost:3009/callback'],
      });
      fixture.write('config/directory.json', directory);
    },
  });
  ours = fixtureKey(demo.fixture);
}, 60_000);
afterAll(() => demo?.close());

/** Bob logs in by SMS code through a PUT pipe; its tokens. */
async function otpLogin(pipe = 'otp-verify', extra: Record<string, string> = {}) {
  const started = await demo.server.call('otp-start', { mobile: '+15550000002' });
  const code = await codeFor(demo.outbox, started.body.transaction_id);
  const answer = await demo.server.call(pipe, { transaction_id: started.body.transaction_id, otp: code, ...extra });
  expect(answer.status).toBe(200);
  return answer.body as { access_token: string; refresh_token: string };
}

/** Bob logs in at the hosted page of shop-web with `scope`; its access token. */
async function hostedLogin(scope: string): Promise<string> {
  const web = await discover(demo.issuer(), 'shop-web');
  const tokens = await passwordTokens(new CookieJar(), web, SHOP_WEB, 'bob', 'bob-pass-1', { scope });
  return tokens.access_token;
}

const userinfo = (token: string, tenant = 'demo') => fetch(`${demo.issuer(tenant)}/me`, { headers: { authorization: `Bearer ${token}` } });

async function expectClaims(token: string): Promise<Record<string, unknown>> {
  const res = await userinfo(token);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

async function expectInvalidToken(token: string, tenant = 'demo'): Promise<void> {
  const res = await userinfo(token, tenant);
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
}

describe('userinfo with a PUT-minted user token', () => {
  it('answers the subject for a token naming only the tenant, as for a hosted-login token with scope openid', async () => {
    const put = await otpLogin();
    expect(decodeJwt(put.access_token)).toMatchObject({ client_id: 'demo', sub: 'u-1002' });
    expect(decodeJwt(put.access_token).scope).toBeUndefined();
    const hosted = await expectClaims(await hostedLogin('openid'));
    expect(hosted).toEqual({ sub: 'u-1002' });
    expect(await expectClaims(put.access_token)).toEqual(hosted);
  });

  it("answers the claims of the token's scope, for a token naming one of the tenant's apps or only the tenant", async () => {
    const hosted = await expectClaims(await hostedLogin('openid profile email'));
    expect(hosted).toEqual({ sub: 'u-1002', name: 'Bob Berg', preferred_username: 'bob', email: 'bob@example.com', email_verified: false });
    const forApp = await otpLogin('otp-verify-scoped', { client_id: 'shop-web' });
    expect(decodeJwt(forApp.access_token)).toMatchObject({ client_id: 'shop-web', scope: 'profile email' });
    expect(await expectClaims(forApp.access_token)).toEqual(hosted);
    const forTenant = await otpLogin('otp-verify-scoped');
    expect(decodeJwt(forTenant.access_token)).toMatchObject({ client_id: 'demo', scope: 'profile email' });
    expect(await expectClaims(forTenant.access_token)).toEqual(hosted);
  });

  it('answers for the access token a refresh gave', async () => {
    const put = await otpLogin();
    const refreshed = await demo.server.call('token-refresh', { refresh_token: put.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(await expectClaims(refreshed.body.access_token)).toEqual({ sub: 'u-1002' });
  });
});

describe('userinfo refuses with 401 invalid_token', () => {
  let live: { access_token: string; refresh_token: string };
  beforeAll(async () => {
    live = await otpLogin();
  });

  /** The live PUT user token re-signed by our key with one thing changed. */
  function forged(change: (header: Record<string, unknown>, payload: Record<string, unknown>) => void): string {
    const token = live.access_token;
    const header = decodeProtectedHeader(token) as Record<string, unknown>;
    const payload = decodeJwt(token) as Record<string, unknown>;
    change(header, payload);
    return es256(header, payload, ours.key);
  }
  const now = () => Math.floor(Date.now() / 1000);

  it('accepts the re-signed token when nothing is changed (so each refusal below is for its change)', async () => {
    expect(await expectClaims(forged(() => {}))).toEqual({ sub: 'u-1002' });
  });

  it.each<[string, (h: Record<string, unknown>, p: Record<string, unknown>) => void]>([
    ['an expired token', (_h, p) => Object.assign(p, { iat: now() - 4000, exp: now() - 3000 })],
    ['a token for another audience', (_h, p) => Object.assign(p, { aud: 'https://elsewhere.example' })],
    ['typ JWT instead of at+jwt', (h) => Object.assign(h, { typ: 'JWT' })],
    ['a refresh token typ', (h) => Object.assign(h, { typ: 'refresh+jwt' })],
    ['a token of another tenant for the same subject', (_h, p) => Object.assign(p, { tenant: 'acme', iss: demo.issuer('acme') })],
    ['a login that was never recorded (unknown sid)', (_h, p) => Object.assign(p, { sid: 'no-such-login' })],
    ['a subject the directory does not know', (_h, p) => Object.assign(p, { sub: 'u-nobody' })],
    ['a user token naming a client the front door does not know', (_h, p) => Object.assign(p, { client_id: 'no-such-app' })],
    ['a user token naming a disabled app', (_h, p) => Object.assign(p, { client_id: 'retired-app' })],
  ])('%s', async (_name, change) => {
    await expectInvalidToken(forged(change));
  });

  it('still introspects a user token naming a client the front door does not know (active, 200)', async () => {
    const gateway = await discover(demo.issuer(), 'pos-server-1', 'pos-server-1-secret');
    for (const clientId of ['no-such-app', 'retired-app']) {
      const answer = await client.tokenIntrospection(
        gateway,
        forged((_h, p) => Object.assign(p, { client_id: clientId })),
      );
      expect(answer).toMatchObject({ active: true, sub: 'u-1002', client_id: clientId });
    }
  });

  it("this tenant's user token at another tenant's userinfo", async () => {
    await expectInvalidToken(live.access_token, 'acme');
  });

  it('a refresh token', async () => {
    await expectInvalidToken(live.refresh_token);
  });

  it('the access token of a login revoked by a reused refresh token', async () => {
    const put = await otpLogin();
    expect(await expectClaims(put.access_token)).toEqual({ sub: 'u-1002' });
    expect((await demo.server.call('token-refresh', { refresh_token: put.refresh_token })).status).toBe(200);
    expect((await demo.server.call('token-refresh', { refresh_token: put.refresh_token })).status).toBe(403);
    await expectInvalidToken(put.access_token);
  });

  it('system tokens: PUT till-login and client-login, and client credentials', async () => {
    const till = await demo.server.call('till-login', {}, { authorization: basic('till-001', 'till-001-pass') });
    const pos = await demo.server.call('client-login', {}, { authorization: basic('pos-server-1', 'pos-server-1-secret') });
    const cc = await client.clientCredentialsGrant(await discover(demo.issuer(), 'pos-server-1', 'pos-server-1-secret'));
    for (const token of [till.body.access_token, pos.body.access_token, cc.access_token]) await expectInvalidToken(token);
  });
});

describe('the tenant as a client (the client_id of PUT user tokens naming no app)', () => {
  it('introspects those tokens as active, with the subject and scope openid', async () => {
    const gateway = await discover(demo.issuer(), 'pos-server-1', 'pos-server-1-secret');
    const answer = await client.tokenIntrospection(gateway, (await otpLogin()).access_token);
    expect(answer).toMatchObject({ active: true, sub: 'u-1002', client_id: 'demo', scope: 'openid', token_type: 'Bearer' });
  });

  it('cannot authenticate at the token or introspection endpoint, with or without a secret', async () => {
    const token = (await otpLogin()).access_token;
    for (const [path, body] of [
      ['token', { grant_type: 'client_credentials' }],
      ['token/introspection', { token }],
    ] as const) {
      // With a secret (client_secret_basic), and without one (as a public client would).
      for (const secret of ['anything', undefined]) {
        const res = await fetch(`${demo.issuer()}/${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            ...(secret !== undefined ? { authorization: basic('demo', secret) } : {}),
          },
          body: new URLSearchParams({ ...body, ...(secret === undefined ? { client_id: 'demo' } : {}) }).toString(),
        });
        expect(res.status).toBe(401);
        expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
      }
    }
  });

  it('cannot start a login: the authorization endpoint shows an error page and redirects nowhere', async () => {
    const url = new URL(`${demo.issuer()}/auth`);
    url.search = new URLSearchParams({ client_id: 'demo', response_type: 'code', redirect_uri: SHOP_WEB, scope: 'openid' }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });
});
