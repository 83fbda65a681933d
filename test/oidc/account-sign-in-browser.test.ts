/**
 * The account page's own sign-in in headless Chromium, where cookies, SameSite and the pages'
 * CSP (form-action on the redirects after a post) are the browser's: a shopper opens the account
 * page, presses "Sign in to your account", signs in on the shoppers pool's page, and lands on the
 * account page with this session listed; the page's "Sign out" of that session brings the
 * sign-in button back.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { describeWithChromium, launchChromium } from '../support/chromium.js';
import { startOidcDemo, type OidcDemo } from './support.js';

const describeBrowser = describeWithChromium('the account sign-in in Chromium');

describeBrowser('the account page signs a shopper in, in Chromium', () => {
  let demo: OidcDemo;
  let browser: Browser;
  beforeAll(async () => {
    [demo, browser] = await Promise.all([startOidcDemo(), launchChromium()]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  it('goes from the signed-out page through the hosted login to the page, and back after signing out', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    try {
      const answer = await page.goto(`${demo.issuer()}/account`);
      expect(answer?.status()).toBe(401);
      await page.getByRole('link', { name: 'Sign in to your account' }).click();
      await page.getByLabel('Username').fill('bob');
      await page.getByLabel('Password').fill('bob-pass-1');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Signed-in sessions' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/oidc/demo/account');
      expect(await page.locator('#sessions li').count()).toBe(1);
      expect(await page.locator('#sessions li strong').textContent()).toBe('(this browser)');

      await page.locator('#sessions li').getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('link', { name: 'Sign in to your account' }).waitFor();
      expect(violations).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
