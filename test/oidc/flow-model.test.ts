/**
 * One flow model: a hosted-login step is an ordinary pipe sharing state the way PUT calls of
 * one flow do. A PUT pair written with flow-save / flow-restore (loyalty-login-start, then
 * loyalty-login-verify with the flow_id and the SMS code) serves unchanged as the two steps of
 * a pool, the handle kept server-side; and the hosted login's tokens carry the `amr` and `acr`
 * of the steps that ran.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { editJson } from '../admin/support.js';
import { outboxOf, readOutbox } from '../otp/outbox.js';
import {
  CookieJar,
  discover,
  exchangeCode,
  expectCallback,
  expectPage,
  openLogin,
  startOidcDemo,
  submit,
  type LoginPage,
  type OidcDemo,
} from './support.js';

const LOYALTY_START = {
  description:
    'Step 1 of a loyalty sign-in: username and password, then an SMS code to the member. Answers a flow_id for loyalty-login-verify.',
  valves: [
    { name: 'basic-auth', config: { kind: 'user', from: ['body'] } },
    {
      name: 'otp-issue',
      config: {
        channel: 'sms',
        user_by: 'id',
        user: '{{item.sub}}',
        // No cooldown: these tests send alice several codes in a row (the same file serves both doors).
        cooldown_seconds: 0,
        sender: { type: 'outbox', file: 'var/otp-outbox.jsonl' },
      },
    },
    { name: 'flow-save', config: { properties: ['sub', 'transaction_id'], continue_with: ['loyalty-login-verify'], ttl_seconds: 300 } },
  ],
  response: ['flow_id'],
};
const LOYALTY_VERIFY = {
  description: 'Step 2: the flow_id from loyalty-login-start and the SMS code. Answers a user token.',
  valves: [
    {
      name: 'input-validate',
      config: { properties: { flow_id: { required: true }, otp: { required: true, max_length: 10 } }, strict: true },
    },
    { name: 'flow-restore', config: { into: 'item' } },
    {
      name: 'otp-verify',
      config: { transaction_id: '{{item.transaction_id}}', otp: '{{request.otp}}', issued_by: ['loyalty-login-start'] },
    },
    { name: 'token-mint', config: { kind: 'user', amr: ['pwd', 'otp'], acr: 'urn:demo:loyalty:2fa' } },
  ],
  response: ['sub', 'access_token', 'token_type', 'expires_in'],
};

const PARTNERS = 'http://localhost:3002/callback';
const LOYALTY = 'http://localhost:3004/callback';
let demo: OidcDemo;

beforeAll(async () => {
  demo = await startOidcDemo({
    edit: (fixture) => {
      fixture.writePipe('loyalty-login-start', LOYALTY_START).writePipe('loyalty-login-verify', LOYALTY_VERIFY);
      fixture.keepOutboxInside('loyalty-login-start');
      editJson(fixture, 'config/authpipe.json', (m) => {
        m.modules[0].config.tenant[0].allowedOperation.push('loyalty-login-start', 'loyalty-login-verify');
        m.oidc.tenants.demo.pools.loyalty = {
          title: 'Demo loyalty club',
          steps: [
            { operation: 'loyalty-login-start', fields: [{ name: 'username' }, { name: 'password' }] },
            { operation: 'loyalty-login-verify', title: 'Enter the code sent to your phone', fields: [{ name: 'otp' }] },
          ],
        };
      });
      editJson(fixture, 'config/directory.json', (d) => {
        d.tenants.demo.clients.push({ client_id: 'loyalty-app', type: 'userapp', pool: 'loyalty', redirect_uris: [LOYALTY] });
        d.tenants.demo.users.find((u: { id: string }) => u.id === 'u-1001').pools.push('loyalty');
      });
    },
  });
});
afterAll(() => demo?.close());

const payload = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;

/** The SMS code sent after `before` messages, to `recipient`. */
async function nextCode(before: number, recipient: string): Promise<string> {
  const sent = (await outboxOf(demo.outbox, before + 1)).slice(before);
  expect(sent.map((m) => m.recipient)).toEqual([recipient]);
  return sent[0]?.code as string;
}

/** Password, then the SMS code, on the app's hosted login; the token response, and every page shown. */
async function twoStepLogin(clientId: string, redirect: string) {
  const jar = new CookieJar();
  const config = await discover(demo.issuer(), clientId);
  const { request, page: first } = await openLogin(jar, config, redirect);
  const pages: LoginPage[] = [first];
  const before = readOutbox(demo.outbox).length;
  pages.push(expectPage(await submit(jar, pages[0] as LoginPage, { username: 'alice', password: 'alice-pass-1' }, redirect)));
  const second = pages[1] as LoginPage;
  expect([second.status, second.errorCode]).toEqual([200, undefined]);
  expect(second.html).toContain('name="otp"');
  const callback = expectCallback(await submit(jar, second, { otp: await nextCode(before, '+15550000001') }, redirect));
  const tokens = await exchangeCode(config, callback, request);
  return { config, tokens, pages };
}

describe('amr and acr from the steps that ran', () => {
  it('gives amr ["pwd","otp"] after the partners pool (password, then SMS code), in the id_token and the access token', async () => {
    const { config, tokens } = await twoStepLogin('partner-portal', PARTNERS);
    expect(tokens.claims()?.amr).toEqual(['pwd', 'otp']);
    expect(payload(tokens.access_token).amr).toEqual(['pwd', 'otp']);
    expect(tokens.claims()?.acr).toBeUndefined();
    // A refreshed access token keeps the login's methods.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(payload(refreshed.access_token).amr).toEqual(['pwd', 'otp']);
  });

  it('gives amr ["pwd"] after the password-only shoppers pool', async () => {
    const jar = new CookieJar();
    const config = await discover(demo.issuer(), 'shop-web');
    const { request, page } = await openLogin(jar, config, 'http://localhost:3000/callback');
    const callback = expectCallback(await submit(jar, page, { username: 'bob', password: 'bob-pass-1' }, 'http://localhost:3000/callback'));
    const tokens = await exchangeCode(config, callback, request);
    expect(tokens.claims()?.amr).toEqual(['pwd']);
    expect(payload(tokens.access_token).amr).toEqual(['pwd']);
  });
});

describe('a PUT pair with flow-save / flow-restore as pool steps, unchanged', () => {
  it('works over PUT: start answers a flow_id, verify takes it and the code', async () => {
    const before = readOutbox(demo.outbox).length;
    const started = await demo.server.call('loyalty-login-start', { username: 'alice', password: 'alice-pass-1' });
    expect(started.status).toBe(200);
    expect(Object.keys(started.body)).toEqual(['flow_id']);
    const otp = await nextCode(before, '+15550000001');
    const verified = await demo.server.call('loyalty-login-verify', { flow_id: started.body.flow_id, otp });
    expect(verified.status).toBe(200);
    expect(verified.body.sub).toBe('u-1001');
    expect(payload(verified.body.access_token)).toMatchObject({ amr: ['pwd', 'otp'], acr: 'urn:demo:loyalty:2fa' });
  });

  it('gives a hosted login as the two steps of the loyalty pool, the flow_id kept from the browser', async () => {
    const { tokens, pages } = await twoStepLogin('loyalty-app', LOYALTY);
    expect(tokens.claims()).toMatchObject({ sub: 'u-1001', amr: ['pwd', 'otp'], acr: 'urn:demo:loyalty:2fa' });
    expect(payload(tokens.access_token)).toMatchObject({
      sub: 'u-1001',
      pool: 'loyalty',
      amr: ['pwd', 'otp'],
      acr: 'urn:demo:loyalty:2fa',
    });
    for (const page of pages) expect(page.html).not.toMatch(/flow_id|[A-Za-z0-9_-]{43}/);
  });

  it('refuses a wrong code at the second step, then the flow is used up as over PUT: sign in again from the first step', async () => {
    const jar = new CookieJar();
    const { page: first } = await openLogin(jar, await discover(demo.issuer(), 'loyalty-app'), LOYALTY);
    const before = readOutbox(demo.outbox).length;
    const second = expectPage(await submit(jar, first, { username: 'alice', password: 'alice-pass-1' }, LOYALTY));
    const code = await nextCode(before, '+15550000001');
    const wrong = expectPage(await submit(jar, second, { otp: code === '000000' ? '111111' : '000000' }, LOYALTY));
    expect([wrong.status, wrong.errorCode]).toEqual([403, 'OTP_INVALID']);
    // flow-restore took the handle: the right code now finds no flow.
    const again = expectPage(await submit(jar, wrong, { otp: code }, LOYALTY));
    expect([again.status, again.errorCode]).toEqual([403, 'FLOW_INVALID']);
    expect(again.html).toContain('name="password"');
    const before2 = readOutbox(demo.outbox).length;
    const retry = expectPage(await submit(jar, again, { username: 'alice', password: 'alice-pass-1' }, LOYALTY));
    expect(expectCallback(await submit(jar, retry, { otp: await nextCode(before2, '+15550000001') }, LOYALTY))).toContain('code=');
  });

  it('refuses a user of another pool at the first step, before any code is sent', async () => {
    const jar = new CookieJar();
    const { page: first } = await openLogin(jar, await discover(demo.issuer(), 'loyalty-app'), LOYALTY);
    const before = readOutbox(demo.outbox).length;
    // bob's pools are shoppers and partners, not loyalty.
    const refused = expectPage(await submit(jar, first, { username: 'bob', password: 'bob-pass-1' }, LOYALTY));
    expect([refused.status, refused.errorCode]).toEqual([403, 'INVALID_CREDENTIALS']);
    expect(readOutbox(demo.outbox)).toHaveLength(before);
  });
});
