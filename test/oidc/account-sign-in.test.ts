/**
 * The account page's own sign-in (account.pool, the demo's shoppers) over real HTTP with a cookie
 * jar as the browser: the signed-out page links to /account/sign-in, which runs the pool's
 * hosted login for the built-in client and comes back to /account/callback, then to the page
 * with that session. The callback refuses a replay, another browser's state, a forged code, a
 * code of another app, and a cancelled sign-in, each coded; the config refuses a pool the
 * tenant lacks and a directory app that takes the built-in client's id.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../../src/app.js';
import { ConfigError, type ConfigIssue } from '../../src/config-kit/issues.js';
import { silentLogger } from '../../src/logger.js';
import { ConfigFixture } from '../support/fixture.js';
import {
  authorizationRequest,
  CookieJar,
  discover,
  expectCallback,
  expectPage,
  follow,
  passwordLogin,
  startOidcDemo,
  submit,
  type OidcDemo,
} from './support.js';

let demo: OidcDemo;
let accountUrl: string;
let callbackUrl: string;

beforeAll(async () => {
  demo = await startOidcDemo();
  accountUrl = `${demo.issuer()}/account`;
  callbackUrl = `${accountUrl}/callback`;
}, 60_000);
afterAll(async () => {
  await demo?.close();
});

const codeOf = (html: string) => /data-code="([^"]+)"/.exec(html)?.[1];

/** The sign-in link of the signed-out page, as the browser would follow it. */
async function signInLink(jar: CookieJar): Promise<string> {
  const res = await jar.fetch(accountUrl);
  const html = await res.text();
  expect([res.status, codeOf(html)]).toEqual([401, 'login_required']);
  const href = /<a id="account-sign-in"[^>]*href="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&');
  expect(href).toBe('/oidc/demo/account/sign-in?ui_locales=en');
  return new URL(href as string, demo.base).href;
}

/** Started at the link (or at its address, for a jar already signed in): the state it set in the jar's cookie, and the authorization request. */
async function started(jar: CookieJar, viaLink = true): Promise<{ state: string; auth: string }> {
  const res = await jar.fetch(viaLink ? await signInLink(jar) : `${accountUrl}/sign-in?ui_locales=en`);
  expect(res.status).toBe(303);
  const auth = new URL(res.headers.get('location') as string, demo.base);
  expect(auth.pathname).toBe('/oidc/demo/auth');
  expect(Object.fromEntries([...auth.searchParams].filter(([k]) => k !== 'state' && k !== 'code_challenge'))).toEqual({
    client_id: 'authpipe-account-page',
    response_type: 'code',
    scope: 'openid',
    redirect_uri: callbackUrl,
    code_challenge_method: 'S256',
    ui_locales: 'en',
  });
  return { state: auth.searchParams.get('state') as string, auth: auth.href };
}

async function callback(jar: CookieJar, url: string): Promise<{ status: number; location: string | null; code: string | undefined }> {
  const res = await jar.fetch(url);
  const html = await res.text();
  return { status: res.status, location: res.headers.get('location'), code: codeOf(html) };
}

describe('the account page signs a shopper in itself', () => {
  it("runs the shoppers pool's sign-in and comes back to the page with that session", async () => {
    const jar = new CookieJar();
    const { auth } = await started(jar);
    const page = expectPage(await follow(jar, auth, callbackUrl));
    expect(page.html).toContain('Demo shop');
    const back = expectCallback(await submit(jar, page, { username: 'bob', password: 'bob-pass-1' }, callbackUrl));
    expect(await callback(jar, back)).toEqual({ status: 303, location: '/oidc/demo/account', code: undefined });
    const res = await jar.fetch(accountUrl);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(/<ul class="items" id="sessions">[\s\S]*?<li data-id="[^"]+">/.test(html)).toBe(true);

    // The same callback again: its state is used up (and the jar's cookie cleared).
    expect(await callback(jar, back)).toMatchObject({ status: 400, code: 'state_mismatch' });
  });

  it("refuses a callback with another browser's state", async () => {
    const victim = new CookieJar();
    const { auth } = await started(victim);
    const page = expectPage(await follow(victim, auth, callbackUrl));
    const back = expectCallback(await submit(victim, page, { username: 'bob', password: 'bob-pass-1' }, callbackUrl));
    const attacker = new CookieJar();
    await started(attacker);
    expect(await callback(attacker, back)).toMatchObject({ status: 400, code: 'state_mismatch' });
    expect((await attacker.fetch(accountUrl)).status).toBe(401);
    // A code shown at the callback is used up, whatever was decided: the victim's own return no longer counts.
    expect(await callback(victim, back)).toMatchObject({ status: 403, code: 'login_required' });
  });

  it("refuses a code of the account page's client issued for another verifier", async () => {
    const jar = new CookieJar();
    const first = await started(jar);
    const second = await started(jar, false);
    const page = expectPage(await follow(jar, first.auth, callbackUrl));
    const back = new URL(expectCallback(await submit(jar, page, { username: 'bob', password: 'bob-pass-1' }, callbackUrl)));
    const code = back.searchParams.get('code') as string;
    expect(await callback(jar, `${callbackUrl}?code=${code}&state=${second.state}`)).toMatchObject({ status: 403, code: 'login_required' });
  });

  it('refuses a forged code and a code of another app, with the state of this browser', async () => {
    const jar = new CookieJar();
    const forged = await started(jar);
    expect(await callback(jar, `${callbackUrl}?code=not-a-code&state=${forged.state}`)).toMatchObject({
      status: 403,
      code: 'login_required',
    });

    // A real code for shop-web of a session of this very browser: not the account page's client.
    const shop = await discover(demo.issuer(), 'shop-web');
    const request = await authorizationRequest(shop, 'http://localhost:3000/callback', { prompt: 'login' });
    const shopBack = new URL(await passwordLogin(jar, request.url, 'http://localhost:3000/callback', 'bob', 'bob-pass-1'));
    const other = await started(jar, false);
    const code = shopBack.searchParams.get('code') as string;
    expect(await callback(jar, `${callbackUrl}?code=${code}&state=${other.state}`)).toMatchObject({ status: 403, code: 'login_required' });
  });

  it('answers a cancelled sign-in with the signed-out page again', async () => {
    const jar = new CookieJar();
    const { state } = await started(jar);
    expect(await callback(jar, `${callbackUrl}?error=access_denied&state=${state}`)).toMatchObject({ status: 401, code: 'login_required' });
  });

  it('refuses anything but GET at the sign-in', async () => {
    const res = await new CookieJar().fetch(`${accountUrl}/sign-in`, { method: 'POST' });
    expect(res.status).toBe(405);
  });
});

describe('account.pool in the config', () => {
  const fixtures: ConfigFixture[] = [];
  afterEach(() => {
    for (const f of fixtures.splice(0)) f.cleanup();
  });

  async function issuesOf(edit: (main: any, directory: any) => void): Promise<ConfigIssue[]> {
    const f = ConfigFixture.fromDemo();
    fixtures.push(f);
    const main = JSON.parse(readFileSync(f.mainFile, 'utf8'));
    const directoryFile = join(f.dir, 'config', 'directory.json');
    const directory = JSON.parse(readFileSync(directoryFile, 'utf8'));
    edit(main, directory);
    f.writeMain(main);
    f.write('config/directory.json', directory);
    try {
      const app = createApp({ configFile: f.mainFile, logger: silentLogger(), auditStream: { write() {} } });
      await app.close();
    } catch (err) {
      if (err instanceof ConfigError) return [...err.issues];
      throw err;
    }
    throw new Error('the config loaded');
  }

  it('refuses a pool the tenant does not define, and a directory app with the built-in client id, at account/pool', async () => {
    const issues = await issuesOf((main, directory) => {
      main.oidc.tenants.demo.account.pool = 'no-such-pool';
      directory.tenants.demo.clients.push({ ...directory.tenants.demo.clients[0], client_id: 'authpipe-account-page' });
    });
    expect(issues.map((i) => [i.code, i.pointer])).toEqual([
      ['CONFIG_REFERENCE', '/oidc/tenants/demo/account/pool'],
      ['CONFIG_REFERENCE', '/oidc/tenants/demo/account/pool'],
    ]);
  });
});
