/**
 * "Remember me": the shoppers pool offers the checkbox, unticked. Unticked, the provider's
 * session cookie has no Expires (it ends with the browser); ticked, it persists for the pool's
 * remember_me.session_ttl. A pool that does not offer it (partners) ignores a forged
 * `remember=1`, across its later SMS step too. Then the same in Chromium, read from the
 * browser's own cookie store.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { outboxOf, readOutbox } from '../otp/outbox.js';
import { describeWithChromium, launchChromium } from '../support/chromium.js';
import {
  authorizationRequest,
  CookieJar,
  discover,
  expectCallback,
  expectPage,
  openLogin,
  startOidcDemo,
  submit,
  type OidcDemo,
} from './support.js';

const SHOP = 'http://localhost:3000/callback';
const PARTNERS = 'http://localhost:3002/callback';
const SHOP_TTL = 7 * 24 * 3600;

/** A jar that also keeps every Set-Cookie line it was sent. */
class RecordingJar extends CookieJar {
  readonly lines: string[] = [];
  override take(res: Response): void {
    this.lines.push(...res.headers.getSetCookie());
    super.take(res);
  }
  /** The last Set-Cookie of the provider's session cookie. */
  session(): string {
    const line = this.lines.filter((l) => l.startsWith('_session=')).pop();
    if (line === undefined) throw new Error(`no session cookie among ${this.lines.join(' | ')}`);
    return line;
  }
}

let demo: OidcDemo;
beforeAll(async () => {
  demo = await startOidcDemo({
    edit(fixture) {
      const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
      main.oidc.tenants.demo.pools.shoppers.remember_me = { enabled: true, session_ttl: SHOP_TTL };
      fixture.writeMain(main);
    },
  });
});
afterAll(() => demo?.close());

async function firstPage(client: string, redirect: string, jar = new RecordingJar()) {
  return { jar, page: (await openLogin(jar, await discover(demo.issuer(), client), redirect)).page };
}

async function shopSignIn(extra: Record<string, string>): Promise<string> {
  const { jar, page } = await firstPage('shop-web', SHOP);
  expectCallback(await submit(jar, page, { username: 'bob', password: 'bob-pass-1', ...extra }, SHOP));
  return jar.session();
}

/** Seconds from now to the cookie's Expires; undefined for a browser-session cookie. */
function lifetime(cookie: string): number | undefined {
  expect(cookie).not.toMatch(/max-age/i);
  const expires = /;\s*expires=([^;]+)/i.exec(cookie)?.[1];
  return expires === undefined ? undefined : (Date.parse(expires) - Date.now()) / 1000;
}

describe('remember me', () => {
  it('offers an unticked checkbox on the first page of a pool that enables it, and none elsewhere', async () => {
    const shop = (await firstPage('shop-web', SHOP)).page;
    expect(shop.html).toMatch(/<input id="remember" name="remember" type="checkbox" value="1">/);
    expect((await firstPage('partner-portal', PARTNERS)).page.html).not.toContain('name="remember"');
  });

  it('gives a browser-session cookie when unticked', async () => {
    const cookie = await shopSignIn({});
    expect(cookie).toMatch(/httponly/i);
    expect(lifetime(cookie)).toBeUndefined();
  });

  it("gives a persistent cookie for the pool's session_ttl when ticked", async () => {
    const seconds = lifetime(await shopSignIn({ remember: '1' }));
    expect(seconds).toBeGreaterThan(SHOP_TTL - 120);
    expect(seconds).toBeLessThanOrEqual(SHOP_TTL + 1);
  });

  it('keeps the box ticked after a wrong password', async () => {
    const { jar, page } = await firstPage('shop-web', SHOP);
    const refused = expectPage(await submit(jar, page, { username: 'bob', password: 'wrong', remember: '1' }, SHOP));
    expect(refused.errorCode).toBe('INVALID_CREDENTIALS');
    expect(refused.html).toMatch(/name="remember" type="checkbox" value="1" checked>/);
  });

  it('ignores any value but 1, and a forged remember=1 where the pool does not offer it', async () => {
    expect(lifetime(await shopSignIn({ remember: 'yes' }))).toBeUndefined();

    const { jar, page } = await firstPage('partner-portal', PARTNERS);
    const before = readOutbox(demo.outbox).length;
    const code = expectPage(await submit(jar, page, { username: 'alice', password: 'alice-pass-1', remember: '1' }, PARTNERS));
    expect(code.html).toContain('name="otp"');
    const sent = (await outboxOf(demo.outbox, before + 1))[before]?.code as string;
    expectCallback(await submit(jar, code, { otp: sent }, PARTNERS));
    expect(lifetime(jar.session())).toBeUndefined();
  });
});

describeWithChromium('remember me in Chromium')('remember me in Chromium', () => {
  /** Seconds the browser will keep the session cookie after bob signs in, ticking the box or not; -1 for a browser-session cookie. */
  async function kept(tick: boolean): Promise<number> {
    const browser = await launchChromium();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      // The app's callback, answered by the browser: the shop is not what is tested.
      await page.route('http://localhost:3000/**', (route) =>
        route.fulfill({ contentType: 'text/html', body: '<p id="app">signed in</p>' }),
      );
      await page.goto((await authorizationRequest(await discover(demo.issuer(), 'shop-web'), SHOP)).url);
      await page.getByLabel('Username').fill('bob');
      await page.getByLabel('Password').fill('bob-pass-1');
      const box = page.getByLabel('Remember me on this device');
      expect(await box.isChecked()).toBe(false);
      if (tick) await box.check();
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForSelector('#app');
      const session = (await context.cookies(demo.issuer())).find((c) => c.name === '_session');
      if (!session) throw new Error('no session cookie');
      return session.expires === -1 ? -1 : session.expires - Date.now() / 1000;
    } finally {
      await browser.close();
    }
  }

  it("keeps the session for the pool's session_ttl when ticked, and for the browser session when not", async () => {
    expect(await kept(false)).toBe(-1);
    const seconds = await kept(true);
    expect(seconds).toBeGreaterThan(SHOP_TTL - 120);
    expect(seconds).toBeLessThanOrEqual(SHOP_TTL + 1);
  }, 60_000);
});
