/**
 * The hosted login in a real browser (headless Chromium through playwright-core): filling
 * the forms, single sign-on between two apps of one pool, a new prompt for an app of another
 * pool, and the SMS code of the partners pool read from the outbox. Nothing listens on the
 * apps' ports: the test reads the callback URL off the browser's request to it.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { describeWithChromium, launchChromium, recordCspViolations } from '../support/chromium.js';
import { outboxOf, readOutbox } from '../otp/outbox.js';
import { authorizationRequest, discover, exchangeCode, startOidcDemo, type OidcDemo } from './support.js';

const describeBrowser = describeWithChromium('the browser tests of the hosted login');

const APPS = {
  'shop-web': 'http://localhost:3000/callback',
  'shop-app': 'http://localhost:3001/callback',
  'partner-portal': 'http://localhost:3002/callback',
} as const;

describeBrowser('hosted login in Chromium', () => {
  let demo: OidcDemo;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Requests the browser made to an app's callback (which nobody answers). */
  const callbacks: string[] = [];
  /** What the browser said the CSP blocked. */
  const violations: string[] = [];

  beforeAll(async () => {
    [demo, browser] = await Promise.all([startOidcDemo(), launchChromium()]);
    context = await browser.newContext();
    page = await context.newPage();
    recordCspViolations(page, violations);
    page.on('request', (request) => {
      if (/^http:\/\/localhost:300[0-2]\/callback\?/.test(request.url())) callbacks.push(request.url());
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  /** Starts a sign-in of `app` in the shared browser; resolves with the URL the browser settles on. */
  async function start(app: keyof typeof APPS) {
    const config = await discover(demo.issuer(), app);
    const request = await authorizationRequest(config, APPS[app]);
    // With single sign-on the navigation ends at the app's callback, which refuses the connection.
    await page.goto(request.url).catch(() => undefined);
    return { config, request };
  }

  async function exchange(app: keyof typeof APPS, started: Awaited<ReturnType<typeof start>>) {
    const isCallback = (url: string) => url.startsWith(`${APPS[app]}?`) && url.includes(`state=${started.request.state}`);
    if (!callbacks.some(isCallback)) await page.waitForRequest((r) => isCallback(r.url()));
    const callback = callbacks.find(isCallback) as string;
    return exchangeCode(started.config, callback, started.request);
  }

  it('logs alice in to shop-web through the form, with accessible markup and safe headers', async () => {
    const started = await start('shop-web');
    expect(page.url()).toMatch(new RegExp(`^${demo.issuer()}/interaction/`));
    const response = await page.reload();
    const headers = response?.headers() ?? {};
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(await page.locator('script').count()).toBe(0);
    const cookies = (await context.cookies()).filter((c) => c.domain === '127.0.0.1');
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) {
      expect(cookie.httpOnly).toBe(true);
      expect(cookie.sameSite).toBe('Lax');
    }
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect(page.getByRole('alert').getAttribute('data-code')).resolves.toBe('INVALID_CREDENTIALS');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-pass-1');
    await page.getByRole('button', { name: 'Continue' }).click();
    const tokens = await exchange('shop-web', started);
    expect(tokens.claims()?.sub).toBe('u-1001');
  });

  it('signs alice in to shop-app of the same pool without a second prompt', async () => {
    const started = await start('shop-app');
    const tokens = await exchange('shop-app', started);
    expect(tokens.claims()?.sub).toBe('u-1001');
  });

  it('prompts again for partner-portal of another pool, then asks for the SMS code from the outbox', async () => {
    const started = await start('partner-portal');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-pass-1');
    const before = readOutbox(demo.outbox).length;
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('Code from the SMS').waitFor();
    const sent = (await outboxOf(demo.outbox, before + 1)).slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.recipient).toBe('+15550000001');
    await page.getByLabel('Code from the SMS').fill(sent[0]?.code === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect(page.getByRole('alert').getAttribute('data-code')).resolves.toBe('OTP_INVALID');
    await page.getByLabel('Code from the SMS').fill(sent[0]?.code as string);
    await page.getByRole('button', { name: 'Continue' }).click();
    const tokens = await exchange('partner-portal', started);
    expect(tokens.claims()?.sub).toBe('u-1001');
    const access = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] as string, 'base64url').toString());
    expect(access.pool).toBe('partners');
  });

  it('switches from alice to bob in one browser: sign out through the provider, then sign in as bob', async () => {
    const alice = await start('shop-web');
    // Signed in already when the tests before ran; else through the form.
    if (page.url().startsWith(demo.issuer())) {
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill('alice-pass-1');
      await page.getByRole('button', { name: 'Continue' }).click();
    }
    const aliceTokens = await exchange('shop-web', alice);
    expect(aliceTokens.claims()?.sub).toBe('u-1001');
    const logout = client.buildEndSessionUrl(alice.config, {
      id_token_hint: aliceTokens.id_token as string,
      post_logout_redirect_uri: 'http://localhost:3000/',
    });
    const landed = page.waitForRequest((r) => r.url() === 'http://localhost:3000/');
    // The provider's logout form submits itself (its script runs under the CSP nonce) and lands on the app.
    await page.goto(logout.href).catch(() => undefined);
    const confirm = page.getByRole('button', { name: 'Sign out' });
    if ((await confirm.count()) > 0) await confirm.click();
    await landed;
    const bob = await start('shop-web');
    await page.getByLabel('Username').fill('bob');
    await page.getByLabel('Password').fill('bob-pass-1');
    await page.getByRole('button', { name: 'Continue' }).click();
    expect((await exchange('shop-web', bob)).claims()?.sub).toBe('u-1002');
    expect(violations).toEqual([]);
  });

  it('answers response_mode=form_post with a page whose one script runs under the CSP nonce', async () => {
    const posted = page.waitForRequest((r) => r.url() === APPS['shop-web'] && r.method() === 'POST');
    const config = await discover(demo.issuer(), 'shop-web');
    const request = await authorizationRequest(config, APPS['shop-web'], { response_mode: 'form_post' });
    await page.goto(request.url).catch(() => undefined);
    const body = new URLSearchParams((await posted).postData() ?? '');
    expect(body.get('state')).toBe(request.state);
    expect(body.get('code')).toBeTruthy();
    expect(violations).toEqual([]);
  });
});
