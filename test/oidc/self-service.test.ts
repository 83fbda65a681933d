/**
 * Self-service in the hosted login (the demo's shoppers pool): sign-up into the pool with a
 * phone verified by a code, forgot password, and "send a new code". Accounts land in the
 * store; answers never say whether an account exists. One cookie jar is one browser;
 * X-Forwarded-For (the listener trusts 127.0.0.1) gives each test its own address.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { outboxOf, readOutbox } from '../otp/outbox.js';
import { ManualClock } from '../support/clock.js';
import {
  authorizationRequest,
  CookieJar,
  discover,
  exchangeCode,
  expectCallback,
  expectPage,
  follow,
  startOidcDemo,
  type LoginPage,
  type OidcDemo,
} from './support.js';

const REDIRECT = 'http://localhost:3000/callback';
const STRONG = 'violet-Harbour-93-kettle';
const clock = new ManualClock(Date.now());

let demo: OidcDemo;
beforeAll(async () => {
  demo = await startOidcDemo({
    app: { clock },
    edit(fixture) {
      fixture.keepOutboxInside('signup-send', 'forgot-send');
      const main = fixture.readJson('config/authpipe.json') as Record<string, Record<string, unknown>[] & Record<string, unknown>>;
      (main.http_configuration as Record<string, unknown>[])[0]!.trusted_proxies = ['127.0.0.1'];
      (main.oidc as Record<string, unknown>).interactions = { per_address: 1000 };
      fixture.writeMain(main);
      // A flood is 3 sign-ups an hour from one address here (the demo allows 10).
      const start = fixture.readJson('pipes/signup-start.json') as { valves: { config: Record<string, unknown> }[] };
      start.valves[0]!.config.limit = 3;
      fixture.writePipe('signup-start', start);
      // "Send a new code" without the demo's 30 s cooldown in the forgot-password flow.
      const send = fixture.readJson('pipes/forgot-send.json') as { valves: { config: Record<string, unknown> }[] };
      send.valves[1]!.config.cooldown_seconds = 0;
      fixture.writePipe('forgot-send', send);
    },
  });
});
afterAll(() => demo?.close());

let addresses = 0;
/** A browser of its own, from an address of its own. */
function browser() {
  return { jar: new CookieJar(), ip: `198.51.100.${++addresses}` };
}
type Browser = ReturnType<typeof browser>;

async function firstPage(b: Browser): Promise<{ page: LoginPage; verifier: string }> {
  const config = await discover(demo.issuer(), 'shop-web');
  const request = await authorizationRequest(config, REDIRECT, { prompt: 'login' });
  return { page: expectPage(await follow(b.jar, request.url, REDIRECT)), verifier: request.verifier };
}

function post(b: Browser, page: LoginPage, fields: Record<string, string>) {
  return follow(b.jar, new URL(page.action as string, page.url).href, REDIRECT, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': b.ip },
    body: new URLSearchParams({ csrf: page.csrf as string, ...fields }).toString(),
  });
}

async function open(b: Browser, page: LoginPage, flow: string): Promise<LoginPage> {
  return expectPage(await follow(b.jar, new URL(`${page.action as string}?flow=${flow}`, page.url).href, REDIRECT));
}

const withoutCsrf = (html: string) => html.replace(/name="csrf" value="[^"]*"/g, '').replace(/\/interaction\/[^"?]+/g, '/interaction/…');

/** The refusal's code (data-code of role=alert), if any; LoginPage.errorCode falls back to the notice's. */
const alertOf = (page: LoginPage) => /role="alert"[^>]*data-code="([^"]+)"/.exec(page.html)?.[1];

/** The info notice's code (data-code of role=status), if any. */
const infoOf = (page: LoginPage) => /role="status" data-code="([^"]+)"/.exec(page.html)?.[1];

/** The code the outbox got for `mobile` after `before` messages, or undefined within `waitMs`. */
async function codeTo(mobile: string, before: number, waitMs = 1500): Promise<string | undefined> {
  const messages = await outboxOf(demo.outbox, before + 1, waitMs);
  return messages.slice(before).find((m) => m.recipient === mobile)?.code;
}

let mobiles = 0;
const newMobile = () => `+4670000${String(++mobiles).padStart(4, '0')}`;

/** Sign-up's first step; returns the page it ends on and how long it took. */
async function signUp(b: Browser, username: string, password: string, mobile: string) {
  const { page } = await firstPage(b);
  expect(page.html).toContain('id="link-sign_up"');
  const form = await open(b, page, 'sign_up');
  expect(form.html).toContain('name="mobile"');
  const started = performance.now();
  const next = expectPage(await post(b, form, { username, password, mobile }));
  return { page: next, ms: performance.now() - started };
}

async function signIn(b: Browser, username: string, password: string) {
  const { page } = await firstPage(b);
  return post(b, page, { username, password });
}

describe('sign-up', () => {
  it('creates a pending account, activates it with the SMS code, and the account signs in with its claims', async () => {
    const b = browser();
    const mobile = newMobile();
    const before = readOutbox(demo.outbox).length;
    const { page: codePage } = await signUp(b, 'newshopper', STRONG, mobile);
    expect(codePage.status).toBe(200);
    expect(codePage.html).toContain('name="otp"');
    expect(infoOf(codePage)).toBe('hint.sign_up');
    const code = await codeTo(mobile, before);
    expect(code).toBeDefined();

    // Pending: the password does not sign in yet, as a wrong password would not.
    const other = browser();
    const early = expectPage(await signIn(other, 'newshopper', STRONG));
    expect(early.errorCode).toBe('INVALID_CREDENTIALS');

    const done = expectPage(await post(b, codePage, { otp: code as string }));
    expect(done.html).toContain('name="password"');
    expect(infoOf(done)).toBe('notice.sign_up_done');

    const config = await discover(demo.issuer(), 'shop-web');
    const request = await authorizationRequest(config, REDIRECT, { prompt: 'login' });
    const page = expectPage(await follow(other.jar, request.url, REDIRECT));
    const callback = expectCallback(await post(other, page, { username: 'newshopper', password: STRONG }));
    const tokens = await exchangeCode(config, callback, request);
    const claims = tokens.claims();
    expect(claims?.sub).toMatch(/^sa-/);
    const info = await client.fetchUserInfo(config, tokens.access_token, claims?.sub as string);
    expect(info).toMatchObject({ preferred_username: 'newshopper', phone_number: mobile });
  });

  it('answers a name already held (directory file or store) as a new one: same page, no code, no account', async () => {
    const fresh = await signUp(browser(), 'brandnew', STRONG, newMobile());
    const before = readOutbox(demo.outbox).length;
    const heldMobile = newMobile();
    // alice is a user of the directory file; newshopper signed up above.
    const held = await signUp(browser(), 'alice', STRONG, heldMobile);
    const heldStore = await signUp(browser(), 'NewShopper', STRONG, heldMobile);
    for (const answer of [held, heldStore]) {
      expect(answer.page.status).toBe(fresh.page.status);
      expect(infoOf(answer.page)).toBe(infoOf(fresh.page));
      expect(answer.page.errorCode).toBe(fresh.page.errorCode);
      expect(withoutCsrf(answer.page.html)).toBe(withoutCsrf(fresh.page.html));
      // Both padded to account-create's floor (400 ms) and otp-issue's (100 ms).
      expect(answer.ms).toBeGreaterThanOrEqual(480);
    }
    expect(await codeTo(heldMobile, before, 600)).toBeUndefined();
  });

  it('refuses a weak password and one on the blocked list with PASSWORD_WEAK, in the page language', async () => {
    const weak = await signUp(browser(), 'weakling', 'password12', newMobile());
    expect(weak.page.status).toBe(403);
    expect(weak.page.errorCode).toBe('PASSWORD_WEAK');
    expect(weak.page.html).toContain('value="weakling"');
    const blocked = await signUp(browser(), 'blockedone', 'CorrectHorseBatteryStaple', newMobile());
    expect(blocked.page.errorCode).toBe('PASSWORD_WEAK');
  });

  it('rate-limits a flood of sign-ups from one address', async () => {
    const b = browser();
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) codes.push(alertOf((await signUp(b, `flood${i}`, STRONG, newMobile())).page));
    expect(codes.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(codes[3]).toBe('RATE_LIMITED');
  });

  it('bounds "send a new code" by the start pipe\'s cooldown', async () => {
    const b = browser();
    const { page } = await signUp(b, 'resender', STRONG, newMobile());
    expect(page.html).toContain('name="resend"');
    const again = expectPage(await post(b, page, { resend: '1' }));
    expect(again.status).toBe(403);
    expect(again.errorCode).toBe('RATE_LIMITED');
  });

  it('restarts the sign-up after an expired code', async () => {
    const b = browser();
    const mobile = newMobile();
    const before = readOutbox(demo.outbox).length;
    const { page } = await signUp(b, 'slowpoke', STRONG, mobile);
    const code = (await codeTo(mobile, before)) as string;
    clock.advance(301_000);
    const late = expectPage(await post(b, page, { otp: code }));
    expect(late.errorCode).toBe('FLOW_INVALID');
    expect(late.html).toContain('name="mobile"');
  });
});

describe('forgot password', () => {
  /** A fresh active store account. */
  async function account(username: string): Promise<string> {
    const b = browser();
    const mobile = newMobile();
    const before = readOutbox(demo.outbox).length;
    const { page } = await signUp(b, username, STRONG, mobile);
    const done = expectPage(await post(b, page, { otp: (await codeTo(mobile, before)) as string }));
    expect(infoOf(done)).toBe('notice.sign_up_done');
    return mobile;
  }

  async function forgot(b: Browser, username: string) {
    const { page } = await firstPage(b);
    const form = await open(b, page, 'forgot_password');
    const started = performance.now();
    const next = expectPage(await post(b, form, { username }));
    return { page: next, ms: performance.now() - started };
  }

  it('resets a store account with a code to its phone; a resent code replaces the first; the old password stops working', async () => {
    const mobile = await account('forgetful');
    const b = browser();
    const before = readOutbox(demo.outbox).length;
    const { page } = await forgot(b, 'forgetful');
    expect(infoOf(page)).toBe('hint.forgot_password');
    const first = (await codeTo(mobile, before)) as string;
    const resent = expectPage(await post(b, page, { resend: '1' }));
    expect(infoOf(resent)).toBe('notice.code_sent');
    const second = (await codeTo(mobile, before + 1)) as string;
    expect(second).toBeDefined();
    if (first !== second) {
      const stale = expectPage(await post(b, resent, { otp: first }));
      expect(stale.errorCode).toBe('OTP_INVALID');
    }
    const newPassword = expectPage(await post(b, resent, { otp: second }));
    expect(newPassword.html).toContain('name="new_password"');
    const weak = expectPage(await post(b, newPassword, { new_password: 'qwerty' }));
    expect(weak.errorCode).toBe('PASSWORD_WEAK');
    const done = expectPage(await post(b, weak, { new_password: 'amber-Lantern-58-quietly' }));
    expect(infoOf(done)).toBe('notice.forgot_password_done');

    expect(expectPage(await signIn(browser(), 'forgetful', STRONG)).errorCode).toBe('INVALID_CREDENTIALS');
    expectCallback(await signIn(browser(), 'forgetful', 'amber-Lantern-58-quietly'));
  });

  it('answers an unknown account and a directory-file user as a known one: same page, same floor, no code', async () => {
    await account('remembered');
    const known = await forgot(browser(), 'remembered');
    const before = readOutbox(demo.outbox).length;
    for (const username of ['nobody-here', 'alice']) {
      const b = browser();
      const answer = await forgot(b, username);
      expect(answer.page.status).toBe(known.page.status);
      expect(infoOf(answer.page)).toBe(infoOf(known.page));
      expect(withoutCsrf(answer.page.html)).toBe(withoutCsrf(known.page.html));
      expect(answer.ms).toBeGreaterThanOrEqual(95);
      // Any code is refused: no code was sent.
      const refused = expectPage(await post(b, answer.page, { otp: '123456' }));
      expect(refused.errorCode).toBe('OTP_INVALID');
    }
    expect((await outboxOf(demo.outbox, before + 1, 600)).length).toBe(before);
  });
});
