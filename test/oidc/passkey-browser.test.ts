/**
 * Passkeys on the hosted login in headless Chromium, with a virtual authenticator of the
 * DevTools protocol (WebAuthn.addVirtualAuthenticator: a platform authenticator that keeps
 * discoverable credentials and verifies the user): alice adds a passkey when asked after her
 * password sign-in, then signs in with it username first and usernameless; without JavaScript
 * the password form still works and the passkey part stays hidden. WebAuthn needs a secure
 * context and a domain as rp id, so the issuer's public URL is http://localhost:<port>.
 */
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import * as client from 'openid-client';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { seriousViolations } from '../support/axe.js';
import { describeWithChromium, launchChromium, recordCspViolations } from '../support/chromium.js';
import { ConfigFixture } from '../support/fixture.js';
import { freePort } from '../support/net.js';
import { startServer, type RunningServer } from '../support/server.js';
import { authorizationRequest, discover, PASSKEY_PIPES } from './support.js';

// The virtual authenticator answers the page's autofill request (conditional UI) and its
// button's request as they come, and a sign-in ends at a callback address that refuses the
// connection: now and then a navigation or a request loses that race (about one run in six on
// a 2-core machine). A retry repeats the walk; a fault in the code fails every try.
jest.retryTimes(2, { logErrorsBeforeRetry: true });

const describeBrowser = describeWithChromium('the passkey tests of the hosted login');
const REDIRECT = 'http://localhost:3000/callback';

/** The demo with passkeys on the shoppers pool, its public URL at localhost. */
async function startPasskeyDemo(): Promise<{ server: RunningServer; fixture: ConfigFixture; issuer: string }> {
  const fixture = ConfigFixture.fromDemo();
  const port = await freePort();
  const main = fixture.readJson('config/authpipe.json') as any;
  main.oidc.public_url = `http://localhost:${port}`;
  main.oidc.interactions = { per_address: 1000 };
  main.oidc.tenants.demo.pools.shoppers.passkeys = { ...PASSKEY_PIPES };
  fixture.writeMain(main);
  const server = await startServer({
    configFile: fixture.mainFile,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', REDIS_URL: undefined },
  });
  return { server, fixture, issuer: `http://localhost:${port}/oidc/demo` };
}

/** A platform authenticator with resident keys and user verification, answering without a prompt. */
async function addAuthenticator(page: Page, context: BrowserContext): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, id: authenticatorId };
}

describeBrowser('passkeys on the hosted login in Chromium', () => {
  let demo: Awaited<ReturnType<typeof startPasskeyDemo>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let authenticator: { cdp: CDPSession; id: string };
  const callbacks: string[] = [];
  const violations: string[] = [];

  beforeAll(async () => {
    [demo, browser] = await Promise.all([startPasskeyDemo(), launchChromium()]);
    context = await browser.newContext();
    page = await context.newPage();
    recordCspViolations(page, violations);
    context.on('request', (request) => {
      if (request.url().startsWith(`${REDIRECT}?`)) callbacks.push(request.url());
    });
    authenticator = await addAuthenticator(page, context);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await demo?.server.close();
    demo?.fixture.cleanup();
  });

  /** axe-core on the page as shown: no serious or critical violation. */
  async function scan(name: string): Promise<void> {
    expect([name, await seriousViolations(page)]).toEqual([name, []]);
  }

  async function start(on: Page = page) {
    const config = await discover(demo.issuer, 'shop-web');
    const request = await authorizationRequest(config, REDIRECT, { prompt: 'login' });
    // A sign-in that the browser's autofill completes at once ends at the app's callback, which refuses the connection.
    await on.goto(request.url).catch(() => undefined);
    return { config, request };
  }

  async function claimsOf(started: Awaited<ReturnType<typeof start>>, on: Page = page) {
    const isCallback = (url: string) => url.includes(`state=${started.request.state}`);
    if (!callbacks.some(isCallback)) await on.waitForRequest((r) => r.url().startsWith(REDIRECT) && isCallback(r.url()));
    const tokens = await client.authorizationCodeGrant(started.config, new URL(callbacks.find(isCallback) as string), {
      pkceCodeVerifier: started.request.verifier,
      expectedState: started.request.state,
      expectedNonce: started.request.nonce,
    });
    return tokens.claims();
  }

  it('asks alice to add a passkey after her password sign-in, and keeps it on the authenticator', async () => {
    const started = await start();
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-pass-1');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Add a passkey?' }).waitFor();
    await page.getByRole('button', { name: 'Add a passkey' }).waitFor();
    await scan('add a passkey?');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    const claims = await claimsOf(started);
    expect(claims?.sub).toBe('u-1001');
    expect(claims?.amr).toEqual(['pwd']);
    const { credentials } = await authenticator.cdp.send('WebAuthn.getCredentials', { authenticatorId: authenticator.id });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]?.isResidentCredential).toBe(true);
    expect(credentials[0]?.rpId).toBe('localhost');
  });

  it("signs alice in through the browser's autofill of the username field (conditional UI, usernameless)", async () => {
    const started = await start();
    const claims = await claimsOf(started);
    expect(claims?.sub).toBe('u-1001');
    expect(claims?.amr).toEqual(['swk']);
  });

  /** The options the page script asked for, by the username it sent. */
  async function withButton(username: string) {
    // The autofill request waits for a user who never picks: the button's request replaces it.
    await authenticator.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: authenticator.id, enabled: false });
    const asked: string[] = [];
    const listen = (request: { method(): string; postData(): string | null }) => {
      const body = new URLSearchParams(request.postData() ?? '');
      if (request.method() === 'POST' && body.get('passkey') === 'options') asked.push(body.get('username') ?? '');
    };
    page.on('request', listen);
    const started = await start();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
    if (username === 'alice') await scan('sign in with a passkey');
    if (username !== '') await page.getByLabel('Username').fill(username);
    await authenticator.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: authenticator.id, enabled: true });
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const claims = await claimsOf(started);
    page.off('request', listen);
    return { claims, asked };
  }

  it('signs alice in with the passkey, username first', async () => {
    const { claims, asked } = await withButton('alice');
    expect(claims?.sub).toBe('u-1001');
    expect(claims?.amr).toEqual(['swk']);
    expect(asked).toContain('alice');
  });

  it('signs alice in with the passkey button without a username (a discoverable credential)', async () => {
    const { claims, asked } = await withButton('');
    expect(claims?.sub).toBe('u-1001');
    expect(asked.every((name) => name === '')).toBe(true);
    const { credentials } = await authenticator.cdp.send('WebAuthn.getCredentials', { authenticatorId: authenticator.id });
    expect(credentials[0]?.signCount).toBeGreaterThanOrEqual(3);
  });

  it('on the account page, removes her passkey and adds a new one, which then signs her in', async () => {
    // A navigation started now may be interrupted: by the browser's error page for the last
    // sign-in's callback (the app's address refuses the connection), or by the page's own
    // reload to the same address. Either way the page must end up on the account page.
    const account = `${demo.issuer}/account`;
    for (let attempt = 1; ; attempt++) {
      await page.goto(account).catch((err: unknown) => {
        if (!/interrupted by another navigation|ERR_ABORTED/.test(String(err))) throw err;
      });
      await page.waitForLoadState('load');
      if (page.url() === account || attempt >= 3) break;
    }
    expect(page.url()).toBe(account);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await expect(page.locator('#passkeys li').count()).resolves.toBe(1);
    await scan('account page');
    await page.getByRole('button', { name: 'Remove this passkey' }).click();
    await page.getByText('The passkey has been removed.').waitFor();
    await expect(page.locator('#passkeys li').count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('Your passkey has been added.').waitFor();
    await expect(page.locator('#passkeys li').count()).resolves.toBe(1);
    const { claims } = await withButton('');
    expect(claims?.sub).toBe('u-1001');
  });

  it('works without JavaScript for the password: the passkey part stays hidden', async () => {
    const plain = await browser.newContext({ javaScriptEnabled: false });
    const other = await plain.newPage();
    plain.on('request', (request) => {
      if (request.url().startsWith(`${REDIRECT}?`)) callbacks.push(request.url());
    });
    const started = await start(other);
    await expect(other.locator('#passkey').isHidden()).resolves.toBe(true);
    await other.getByLabel('Username').fill('bob');
    await other.getByLabel('Password').fill('bob-pass-1');
    await other.getByRole('button', { name: 'Continue' }).click();
    await other.getByRole('heading', { name: 'Add a passkey?' }).waitFor();
    await other.getByRole('button', { name: 'Not now' }).click();
    expect((await claimsOf(started, other))?.sub).toBe('u-1002');
    await plain.close();
  });

  it('logged no CSP violation', () => {
    expect(violations).toEqual([]);
  });
});
