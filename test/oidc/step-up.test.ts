/**
 * Step-up only when it is risky: the demo's partners pool asks for the SMS code on a new
 * device, a new network, after a recent failure, and always for a staff (Admin) account, and
 * not on a device and network the account signed in from before. One cookie jar is one
 * browser; X-Forwarded-For (the listener trusts 127.0.0.1) stands for the network.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { outboxOf, readOutbox } from '../otp/outbox.js';
import {
  authorizationRequest,
  CookieJar,
  discover,
  expectCallback,
  expectPage,
  follow,
  setSmsSendLimits,
  startOidcDemo,
  type LoginPage,
  type OidcDemo,
} from './support.js';

const REDIRECT = 'http://localhost:3002/callback';
const COOKIE_KEY = 'a-cookie-key-for-the-step-up-tests-0123456789';

let demo: OidcDemo;
beforeAll(async () => {
  demo = await startOidcDemo({
    edit(fixture) {
      const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
      main.http_configuration[0].trusted_proxies = ['127.0.0.1'];
      main.oidc.cookie_keys = [COOKIE_KEY];
      main.oidc.interactions = { per_address: 1000 };
      fixture.writeMain(main);
      const directory = fixture.readJson('config/directory.json') as {
        tenants: { demo: { users: Record<string, unknown>[] } };
      };
      const users = directory.tenants.demo.users;
      const alice = users.find((u) => u.id === 'u-1001') as Record<string, unknown>;
      // Users of their own per test, so that one test's history is not another's; carol is staff.
      for (const [id, username, extra] of [
        ['u-9001', 'dora', {}],
        ['u-9002', 'erik', {}],
        ['u-9003', 'fay', {}],
        ['u-9004', 'gus', {}],
        ['u-9005', 'carol', { access_group: 'Admin' }],
        ['u-9006', 'hana', {}],
      ] as const)
        users.push({ id, username, mobile: `+1555000${id.slice(2)}`, password_hash: alice.password_hash, pools: ['partners'], ...extra });
      fixture.write('config/directory.json', directory);
      // Codes as often as the tests sign in.
      setSmsSendLimits(fixture, { cooldown_seconds: 0, max_per_hour: 100 });
    },
  });
});
afterAll(() => demo?.close());

/** Posts a form with the browser's network (X-Forwarded-For), following on. */
function post(jar: CookieJar, page: LoginPage, fields: Record<string, string>, ip: string) {
  return follow(jar, new URL(page.action as string, page.url).href, REDIRECT, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
    body: new URLSearchParams({ csrf: page.csrf as string, ...fields }).toString(),
  });
}

/**
 * A sign-in to partner-portal (prompt=login, so the session does not answer for it); returns
 * whether the SMS code was asked (and gives it, completing the sign-in), or the refusal code.
 */
async function signIn(
  jar: CookieJar,
  username: string,
  options: { ip?: string; password?: string; extra?: Record<string, string> } = {},
): Promise<string> {
  const ip = options.ip ?? '192.0.2.10';
  const request = await authorizationRequest(await discover(demo.issuer(), 'partner-portal'), REDIRECT, {
    prompt: 'login',
    ...options.extra,
  });
  const first = expectPage(await follow(jar, request.url, REDIRECT));
  const before = readOutbox(demo.outbox).length;
  const answer = await post(jar, first, { username, password: options.password ?? 'alice-pass-1' }, ip);
  if ('callback' in answer) return 'signed in';
  if (answer.page.errorCode !== undefined) return answer.page.errorCode;
  expect(answer.page.html).toContain('name="otp"');
  const sent = (await outboxOf(demo.outbox, before + 1)).slice(before);
  expectCallback(await post(jar, answer.page, { otp: sent[0]?.code as string }, ip));
  return 'sms asked';
}

/** A device cookie signed as the hosted login signs it (device.ts), for any id and expiry. */
function deviceCookie(id: string, expiresSeconds: number, key = COOKIE_KEY): string {
  const derived = createHmac('sha256', key).update('authpipe device cookie').digest();
  const mac = createHmac('sha256', derived).update(`demo.${id}.${expiresSeconds}`).digest('base64url');
  return `${id}.${expiresSeconds}.${mac}`;
}

describe('partners pool: the SMS code only when it is risky', () => {
  it('asks on a new device, not on a known one, and again in a fresh browser', async () => {
    const jar = new CookieJar();
    expect(await signIn(jar, 'dora')).toBe('sms asked');
    expect(jar.cookies.get('authpipe_device')).toMatch(/^[A-Za-z0-9_-]{22}\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(await signIn(jar, 'dora')).toBe('signed in');
    expect(await signIn(new CookieJar(), 'dora')).toBe('sms asked');
  });

  it('sets the device cookie HttpOnly, SameSite=Lax, at the tenant path', async () => {
    const res = await new CookieJar().fetch((await authorizationRequest(await discover(demo.issuer(), 'partner-portal'), REDIRECT)).url);
    const location = new URL(res.headers.get('location') as string, demo.base).href;
    const page = await fetch(location, {
      headers: {
        cookie: res.headers
          .getSetCookie()
          .map((c) => c.split(';')[0])
          .join('; '),
      },
    });
    const cookie = page.headers.getSetCookie().find((c) => c.startsWith('authpipe_device=')) as string;
    expect(cookie).toMatch(/; Path=\/oidc\/demo;/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).not.toMatch(/; Secure/);
  });

  it('asks from a new network on a known device', async () => {
    const jar = new CookieJar();
    expect(await signIn(jar, 'erik', { ip: '198.51.100.7' })).toBe('sms asked');
    expect(await signIn(jar, 'erik', { ip: '198.51.100.200' })).toBe('signed in');
    expect(await signIn(jar, 'erik', { ip: '203.0.113.5' })).toBe('sms asked');
  });

  it('asks after a recent failure of the account', async () => {
    const jar = new CookieJar();
    expect(await signIn(jar, 'fay')).toBe('sms asked');
    expect(await signIn(jar, 'fay')).toBe('signed in');
    expect(await signIn(jar, 'fay', { password: 'wrong-password' })).toBe('INVALID_CREDENTIALS');
    expect(await signIn(jar, 'fay')).toBe('sms asked');
  });

  it('counts a forged, expired or other-key device cookie as a new device', async () => {
    const jar = new CookieJar();
    expect(await signIn(jar, 'gus')).toBe('sms asked');
    const known = jar.cookies.get('authpipe_device') as string;
    const [id, expires] = known.split('.') as [string, string];
    expect(await signIn(jar, 'gus')).toBe('signed in');
    // The known id with a made-up MAC, under another key, or signed right but expired.
    for (const cookie of [
      `${id}.${expires}.${'A'.repeat(43)}`,
      deviceCookie(id, Number(expires), 'another-cookie-key-nobody-configured-0123456789'),
      deviceCookie(id, Math.floor(Date.now() / 1000) - 60),
    ]) {
      jar.cookies.set('authpipe_device', cookie);
      expect(await signIn(jar, 'gus')).toBe('sms asked');
      expect(jar.cookies.get('authpipe_device')).not.toBe(cookie);
      jar.cookies.set('authpipe_device', known);
      expect(await signIn(jar, 'gus')).toBe('signed in');
    }
    // The same cookie, signed right and not expired, is the known device.
    jar.cookies.set('authpipe_device', deviceCookie(id, Math.floor(Date.now() / 1000) + 3600));
    expect(await signIn(jar, 'gus')).toBe('signed in');
  });

  it('asks on a known device when the app sends acr_values mfa (the step pipe reads request.acr_values)', async () => {
    const jar = new CookieJar();
    expect(await signIn(jar, 'hana')).toBe('sms asked');
    expect(await signIn(jar, 'hana')).toBe('signed in');
    expect(await signIn(jar, 'hana', { extra: { acr_values: 'mfa' } })).toBe('sms asked');
    expect(await signIn(jar, 'hana', { extra: { acr_values: 'urn:other' } })).toBe('signed in');
  });

  it('always asks a staff (Admin) account', async () => {
    const jar = new CookieJar();
    expect(await signIn(jar, 'carol')).toBe('sms asked');
    expect(await signIn(jar, 'carol')).toBe('sms asked');
  });
});
