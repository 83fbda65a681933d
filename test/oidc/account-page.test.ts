/**
 * The account page, /oidc/demo/account, over real HTTP on the demo (a cookie jar is a
 * browser): it needs a live sign-in session; a self-service account changes its password
 * (then signs in with the new one only); passkeys are added (the software authenticator of
 * test/support/webauthn.ts answers), signed in with, and removed (then refused); sessions are
 * listed and ended; an upstream link is removed; a post without the session's CSRF token is
 * refused. Once on the memory store, once on a real Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { describeWithRedis, RedisServer } from '../support/redis.js';
import * as client from 'openid-client';
import { SoftAuthenticator } from '../support/webauthn.js';
import { prefixedStore, tenantPrefix, type Store } from '../../src/store/store.js';
import { indexLink, linkKey } from '../../src/oidc/federated-accounts.js';
import {
  CookieJar,
  discover,
  exchangeCode,
  expectCallback,
  expectPage,
  openLogin,
  PASSKEY_PIPES,
  startOidcDemo,
  storeShopper,
  submit,
  type LoginPage,
  type OidcDemo,
} from './support.js';

const REDIRECT = 'http://localhost:3000/callback';
const STRONG = 'violet-Harbour-93-kettle';
const NEWER = 'amber-Lantern-57-orchard';

let demo: OidcDemo;
let config: client.Configuration;
let store: Store;
let accountUrl: string;

/** The demo, on Redis when `redis` is given, with passkeys on the shoppers pool and carol's self-service account. */
async function startDemo(redis?: RedisServer): Promise<void> {
  demo = await startOidcDemo({
    edit(fixture) {
      const main = fixture.readJson('config/authpipe.json') as any;
      if (redis) main.store = { type: 'redis', url: redis.url, command_timeout_ms: 2000 };
      main.oidc.tenants.demo.pools.shoppers.passkeys = { ...PASSKEY_PIPES, offer: false };
      main.oidc.interactions = { per_address: 1000 };
      fixture.writeMain(main);
    },
  });
  config = await discover(demo.issuer(), 'shop-web');
  store = prefixedStore(demo.server.app.holder.current.services.store, tenantPrefix('demo'));
  accountUrl = `${demo.issuer()}/account`;
  // carol: a self-service account of the shoppers pool (as sign-up leaves one), whose password is ours to change.
  await storeShopper(demo, 'carol', STRONG);
}

const openSignIn = (jar: CookieJar) => openLogin(jar, config, REDIRECT, { prompt: 'login' });

async function signIn(jar: CookieJar, username: string, password: string) {
  const { request, page } = await openSignIn(jar);
  const callback = expectCallback(await submit(jar, page, { username, password }, REDIRECT));
  return exchangeCode(config, callback, request);
}

async function account(jar: CookieJar, query = ''): Promise<LoginPage> {
  const res = await jar.fetch(`${accountUrl}${query}`);
  const page = { ...expectPage({ page: { url: accountUrl, status: res.status, html: await res.text() } as LoginPage }) };
  page.csrf = /name="csrf" value="([^"]+)"/.exec(page.html)?.[1];
  page.action = accountUrl;
  return page;
}

function post(jar: CookieJar, fields: Record<string, string>) {
  return jar.fetch(accountUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

const codeOf = (html: string) => /role="alert"[^>]*data-code="([^"]+)"/.exec(html)?.[1] ?? /data-code="([^"]+)"/.exec(html)?.[1];
const ids = (html: string, list: string) =>
  [...(new RegExp(`<ul class="items" id="${list}">([\\s\\S]*?)</ul>`).exec(html)?.[1] ?? '').matchAll(/<li data-id="([^"]+)"/g)].map(
    (m) => m[1],
  );

function accountPageTests(): void {
  it('refuses a browser without a sign-in session: 401 login_required', async () => {
    const page = await account(new CookieJar());
    expect(page.status).toBe(401);
    expect(codeOf(page.html)).toBe('login_required');
  });

  describe("alice's account (a user of the directory file)", () => {
    const jar = new CookieJar();
    let key: SoftAuthenticator;
    beforeAll(async () => {
      key = new SoftAuthenticator('127.0.0.1', new URL(demo.base).origin);
      await signIn(jar, 'alice', 'alice-pass-1');
    });

    it('shows her one session, no password form (the operator manages it) and no passkeys', async () => {
      const page = await account(jar);
      expect(page.status).toBe(200);
      expect(ids(page.html, 'sessions')).toHaveLength(1);
      expect(page.html).toContain('(this browser)');
      expect(page.html).not.toContain('name="current_password"');
      expect(ids(page.html, 'passkeys')).toEqual([]);
    });

    it('refuses every form posted without the CSRF token, or with another session’s', async () => {
      const page = await account(jar);
      const missing = await post(jar, { do: 'end_session', id: ids(page.html, 'sessions')[0] as string });
      expect(missing.status).toBe(403);
      expect(codeOf(await missing.text())).toBe('csrf');
      const other = new CookieJar();
      await signIn(other, 'bob', 'bob-pass-1');
      const foreign = await post(jar, { csrf: (await account(other)).csrf as string, passkey: 'enrol_options' });
      expect(foreign.status).toBe(403);
      expect(ids((await account(jar)).html, 'sessions')).toHaveLength(1);
    });

    it('adds a passkey she then signs in with; removed, it is refused', async () => {
      let page = await account(jar);
      const options = await post(jar, { csrf: page.csrf as string, passkey: 'enrol_options' });
      expect(options.status).toBe(200);
      const { challenge_id, options: creation } = (await options.json()) as { challenge_id: string; options: { challenge: string } };
      const added = await post(jar, {
        csrf: page.csrf as string,
        passkey: 'enrol',
        passkey_challenge_id: challenge_id,
        passkey_response: key.register(creation),
      });
      expect(added.status).toBe(303);
      expect(added.headers.get('location')).toBe('/oidc/demo/account?done=passkey_added');
      page = await account(jar);
      expect(ids(page.html, 'passkeys')).toEqual([key.id]);

      const renamed = await post(jar, { csrf: page.csrf as string, do: 'rename_passkey', id: key.id, name: 'My phone' });
      expect(renamed.status).toBe(303);
      expect((await account(jar)).html).toContain('<strong>My phone</strong>');
      const control = await post(jar, { csrf: page.csrf as string, do: 'rename_passkey', id: key.id, name: 'a\u0007b' });
      expect(control.status).toBe(400);
      const notHers = await post(jar, { csrf: page.csrf as string, do: 'rename_passkey', id: 'AAAA', name: 'x' });
      expect(codeOf(await notHers.text())).toBe('PASSKEY_CREDENTIAL_UNKNOWN');

      const passkeySignIn = async () => {
        const other = new CookieJar();
        const { page: first } = await openSignIn(other);
        const res = await other.fetch(new URL(first.action as string, first.url).href, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ csrf: first.csrf as string, passkey: 'options', username: 'alice' }).toString(),
        });
        const got = (await res.json()) as { challenge_id: string; options: { challenge: string } };
        return {
          jar: other,
          result: await submit(
            other,
            first,
            { passkey: 'sign_in', passkey_challenge_id: got.challenge_id, passkey_response: key.authenticate(got.options, 'u-1001') },
            REDIRECT,
          ),
        };
      };
      const before = await passkeySignIn();
      expectCallback(before.result);
      // Her sessions: this browser and the passkey's.
      expect(ids((await account(jar)).html, 'sessions')).toHaveLength(2);
      expect((await account(before.jar)).status).toBe(200);

      const removed = await post(jar, { csrf: page.csrf as string, do: 'remove_passkey', id: key.id });
      expect(removed.status).toBe(303);
      expect(ids((await account(jar)).html, 'passkeys')).toEqual([]);
      expect(await store.get(`passkey:cred:${key.id}`)).toBeNull();
      const after = expectPage((await passkeySignIn()).result);
      expect(after.status).toBe(403);
      expect(codeOf(after.html)).toBe('PASSKEY_CREDENTIAL_UNKNOWN');
    });

    it("ends another session: that browser's account page then says it is signed out", async () => {
      const other = new CookieJar();
      const tokens = await signIn(other, 'alice', 'alice-pass-1');
      expect(tokens.refresh_token).toBeDefined();
      const page = await account(jar);
      const mine = /<li data-id="([^"]+)"><span>[^<]*<strong>/.exec(page.html)?.[1];
      const theirs = (await account(other)).html;
      const otherId = /<li data-id="([^"]+)"><span>[^<]*<strong>/.exec(theirs)?.[1] as string;
      expect(otherId).not.toBe(mine);
      expect(ids(page.html, 'sessions')).toContain(otherId);
      const ended = await post(jar, { csrf: page.csrf as string, do: 'end_session', id: otherId });
      expect(ended.status).toBe(303);
      expect((await account(other)).status).toBe(401);
      // Its grant ended with it: the refresh token is refused.
      await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect(ids((await account(jar)).html, 'sessions')).not.toContain(otherId);
      // Someone else's session id, or a made-up one, is refused.
      const bogus = await post(jar, { csrf: page.csrf as string, do: 'end_session', id: 'nope' });
      expect(bogus.status).toBe(403);
      expect(codeOf(await bogus.text())).toBe('ACCESS_DENIED');
    });

    it('lists a link to an upstream account and removes it', async () => {
      await store.set(linkKey('upstream', 'up-77'), 'u-1001');
      await indexLink(store, 'u-1001', { upstream: 'upstream', upstream_sub: 'up-77', how: 'email' }, Date.now());
      const link = `upstream:${Buffer.from('up-77').toString('base64url')}`;
      const page = await account(jar);
      expect(page.html).toContain(`name="link" value="${link}"`);
      const res = await post(jar, { csrf: page.csrf as string, do: 'unlink', link });
      expect(res.status).toBe(303);
      expect(await store.get(linkKey('upstream', 'up-77'))).toBeNull();
      expect((await account(jar)).html).not.toContain(link);
      const again = await post(jar, { csrf: page.csrf as string, do: 'unlink', link });
      expect(again.status).toBe(403);
    });
  });

  describe("carol's account (self-service)", () => {
    const jar = new CookieJar();
    beforeAll(async () => {
      await signIn(jar, 'carol', STRONG);
    });

    it('refuses a wrong current password and a weak new one, then changes it; only the new one signs in', async () => {
      const page = await account(jar);
      expect(page.html).toContain('name="current_password"');
      const csrf = page.csrf as string;
      const wrong = await post(jar, { csrf, do: 'password', current_password: 'not-it', new_password: NEWER });
      expect(wrong.status).toBe(403);
      expect(codeOf(await wrong.text())).toBe('INVALID_CREDENTIALS');
      const weak = await post(jar, { csrf, do: 'password', current_password: STRONG, new_password: 'password1' });
      expect(weak.status).toBe(403);
      expect(codeOf(await weak.text())).toBe('PASSWORD_WEAK');
      const changed = await post(jar, { csrf, do: 'password', current_password: STRONG, new_password: NEWER });
      expect(changed.status).toBe(303);
      expect(changed.headers.get('location')).toBe('/oidc/demo/account?done=password');
      expect(codeOf((await account(jar, '?done=password')).html)).toBe('account.done.password');

      const old = new CookieJar();
      const { page: oldPage } = await openSignIn(old);
      const refused = expectPage(await submit(old, oldPage, { username: 'carol', password: STRONG }, REDIRECT));
      expect(refused.errorCode).toBe('INVALID_CREDENTIALS');
      await signIn(new CookieJar(), 'carol', NEWER);
    });
  });
}

describe('the account page on the memory store', () => {
  beforeAll(() => startDemo());
  afterAll(() => demo?.close());
  accountPageTests();
});

describeWithRedis('the account page on Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
    await startDemo(redis);
  }, 60_000);
  afterAll(async () => {
    await demo?.close();
    await redis?.stop();
  });
  accountPageTests();
});
