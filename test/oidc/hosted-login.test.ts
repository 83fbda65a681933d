/**
 * The hosted login's look in headless Chromium: the default theme loads as a versioned file
 * under a CSP without 'unsafe-inline' (no violation, the system font stack), the card fits a
 * 360 px phone without sideways scrolling, axe-core finds no serious or critical violation on
 * the login and code pages, and a pool's branding (logo from the templates folder's assets,
 * colours) shows. Screenshots go to AUTHPIPE_SCREENS (outside git) when set.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { seriousViolations } from '../support/axe.js';
import { describeWithChromium, launchChromium, recordCspViolations } from '../support/chromium.js';
import { outboxOf, readOutbox } from '../otp/outbox.js';
import { authorizationRequest, discover, startOidcDemo, type OidcDemo } from './support.js';

const describeBrowser = describeWithChromium('the browser tests of the hosted login');
const SCREENS = process.env.AUTHPIPE_SCREENS;
const LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="32"><rect width="120" height="32" fill="#0a7d4f"/></svg>';
jest.setTimeout(60_000);

describeBrowser('the hosted login in Chromium', () => {
  let demo: OidcDemo;
  let browser: Browser;
  let page: Page;
  const violations: string[] = [];

  beforeAll(async () => {
    [demo, browser] = await Promise.all([
      startOidcDemo({
        edit: (fixture) => {
          const main = fixture.readJson('config/authpipe.json') as any;
          main.oidc.templates_dir = 'login-look';
          main.oidc.tenants.demo.pools.partners.branding = {
            display_name: 'Partner portal',
            logo: '/oidc/demo/assets/logo.svg',
            colors: { accent: '#0a7d4f', accent_text: '#ffffff' },
          };
          fixture.writeMain(main);
          fixture.write('config/login-look/assets/logo.svg', LOGO);
        },
      }),
      launchChromium(),
    ]);
    page = await (await browser.newContext()).newPage();
    recordCspViolations(page, violations);
    if (SCREENS) mkdirSync(SCREENS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  async function open(app: 'shop-web' | 'partner-portal', port: number, extra: Record<string, string> = {}) {
    const config = await discover(demo.issuer(), app);
    const request = await authorizationRequest(config, `http://localhost:${port}/callback`, extra);
    return page.goto(request.url);
  }

  async function scan(name: string): Promise<void> {
    expect([name, await seriousViolations(page)]).toEqual([name, []]);
  }

  async function shoot(name: string): Promise<void> {
    if (!SCREENS) return;
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      await page.screenshot({ path: join(SCREENS, `hosted-login-${name}-${width}.png`), fullPage: true });
    }
  }

  it('serves the theme as a versioned file under a CSP without unsafe-inline, in the system font', async () => {
    const stylesheets: { url: string; status: number; cache: string | undefined }[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/assets/')) stylesheets.push({ url: r.url(), status: r.status(), cache: r.headers()['cache-control'] });
    });
    const response = await open('shop-web', 3000);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(await page.locator('[style], style, script').count()).toBe(0);
    expect(stylesheets).toEqual([
      {
        url: expect.stringMatching(/\/oidc\/demo\/assets\/style\.css\?v=[\w-]{12}$/),
        status: 200,
        cache: 'public, max-age=31536000, immutable',
      },
    ]);
    expect(await page.evaluate(() => (globalThis as any).getComputedStyle((globalThis as any).document.body).fontFamily)).toMatch(
      /^system-ui, -apple-system/,
    );
    expect(violations).toEqual([]);
    await scan('login');
    await shoot('login');
  });

  it('fits a 360 px phone without sideways scrolling, and keeps the card narrow on a desktop', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await open('shop-web', 3000);
    const phone = await page.evaluate(() => {
      const doc = (globalThis as any).document;
      const card = doc.querySelector('main').getBoundingClientRect();
      return { scroll: doc.documentElement.scrollWidth, left: card.left, right: card.right };
    });
    expect(phone.scroll).toBeLessThanOrEqual(360);
    expect(phone.left).toBeGreaterThanOrEqual(0);
    expect(phone.right).toBeLessThanOrEqual(360);
    const input = await page.getByLabel('Username').boundingBox();
    expect(input?.width).toBeGreaterThan(280);
    expect(input?.height).toBeGreaterThanOrEqual(44);
    await page.setViewportSize({ width: 1280, height: 800 });
    const desktop = await page.locator('main').boundingBox();
    expect(desktop?.width).toBeLessThanOrEqual(400);
  });

  it("shows a pool's logo and colours, and the code page passes axe", async () => {
    await open('partner-portal', 3002);
    const logo = page.getByRole('img', { name: 'Partner portal' });
    await expect(logo.getAttribute('src')).resolves.toMatch(/^\/oidc\/demo\/assets\/logo\.svg\?v=/);
    expect(await logo.evaluate((img: any) => img.naturalWidth)).toBe(120);
    const button = page.getByRole('button', { name: 'Continue' });
    expect(await button.evaluate((b: any) => (globalThis as any).getComputedStyle(b).backgroundColor)).toBe('rgb(10, 125, 79)');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-pass-1');
    const before = readOutbox(demo.outbox).length;
    await button.click();
    await page.getByLabel('Code from the SMS').waitFor();
    await outboxOf(demo.outbox, before + 1);
    await scan('code');
    await shoot('code');
    await page.getByLabel('Code from the SMS').fill('000000x');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('alert').waitFor();
    await scan('code-refused');
    expect(violations).toEqual([]);
  });
});
