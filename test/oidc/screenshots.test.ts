/**
 * Every page of the hosted login, drawn by headless Chromium at 360 px and 1280 px wide, is
 * compared with the PNG stored in test/oidc/screenshots/ (pixelmatch, a small tolerance), and
 * scanned with axe-core: no serious or critical violation. `PAGES` is the table: a page is a
 * name and how a fresh browser reaches it, so a new page is one row. `UPDATE_SCREENSHOTS=1`
 * rewrites the stored PNGs (never under CI); a missing one fails, as does a changed one, with
 * the actual picture and the difference written to a temp folder.
 *
 * Deterministic by construction: a fresh browser context per page (no cookies, en-US, UTC,
 * reduced motion, device scale 1), one font (DejaVu Sans, a dependency of Chromium's
 * fontconfig; .ci/run installs it), a hidden caret, and fixed users, names and numbers. The CSP
 * is bypassed only to add that font rule; test/oidc/hosted-login.test.ts checks the CSP itself.
 * Each picture is cropped to the page's height (the viewport is short, the shot full-page).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'playwright-core';
import { seriousViolations } from '../support/axe.js';
import { describeWithChromium, launchChromium } from '../support/chromium.js';
import { outboxOf, readOutbox } from '../otp/outbox.js';
import { authorizationRequest, discover, setSmsSendLimits, startOidcDemo, type OidcDemo } from './support.js';
import { freePort } from '../support/net.js';
import { createAccount, newAccountId, updateAccount } from '../../src/accounts/registry.js';
import { hashPassword } from '../../src/credentials/hash.js';
import { addCredential } from '../../src/passkeys/store.js';
import { prefixedStore, tenantPrefix } from '../../src/store/store.js';

const FONT_FILE = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
/** The pictures are drawn in one font: without it they cannot match, so CI fails and elsewhere the file skips loudly. */
function describeBrowser(what: string): typeof describe | typeof describe.skip {
  if (existsSync(FONT_FILE)) return describeWithChromium(what);
  if (process.env.CI) throw new Error(`${FONT_FILE} is missing: CI must install Debian's fonts-dejavu-core package`);
  console.warn(`\n\n*** SKIPPING ${what}: ${FONT_FILE} is not installed ***\n`);
  return describe.skip;
}
const STORED = join(import.meta.dirname, 'screenshots');
const UPDATE = process.env.UPDATE_SCREENSHOTS === '1' && !process.env.CI;
const WIDTHS = [360, 1280] as const;
/** pixelmatch's per-pixel colour threshold, and the share of pixels that may still differ (anti-aliasing). */
const THRESHOLD = 0.1;
const MAX_DIFFERING = 0.002;
const FONT_RULE = '*, *::before, *::after { font-family: "DejaVu Sans" !important; }';
const STRONG = 'violet-Harbour-93-kettle';
jest.setTimeout(120_000);

/** How a fresh browser gets to a page. */
interface Walk {
  page: Page;
  demo: OidcDemo;
  /** The app's sign-in: its first hosted-login page. */
  signIn(app: 'shop-web' | 'partner-portal'): Promise<void>;
  /** Fills the inputs by name and presses the form's Continue; waits for `until`. */
  submit(values: Record<string, string>, until: string): Promise<void>;
  /** The code the outbox got after `before` messages. */
  codeAfter(before: number): Promise<string>;
}

const walkToCode = async (w: Walk) => {
  await w.signIn('partner-portal');
  await w.submit({ username: 'alice', password: 'alice-pass-1' }, 'input[name="otp"]');
};

async function signUpCode(w: Walk, username: string, mobile: string): Promise<number> {
  await w.signIn('shop-web');
  await w.page.click('#link-sign_up');
  await w.page.waitForSelector('input[name="mobile"]');
  const before = readOutbox(w.demo.outbox).length;
  await w.submit({ username, password: STRONG, mobile }, 'input[name="otp"]');
  return before;
}

async function forgotCode(w: Walk, username: string): Promise<number> {
  await w.signIn('shop-web');
  await w.page.click('#link-forgot_password');
  await w.page.waitForSelector('input[name="username"]');
  const before = readOutbox(w.demo.outbox).length;
  await w.submit({ username }, 'input[name="otp"]');
  return before;
}

/** bob signed in to the shop (the app's callback answered by the browser itself), then at the provider's sign-out. */
async function signedInAtLogout(w: Walk): Promise<void> {
  await w.page.route('http://localhost:3000/**', (route) => route.fulfill({ contentType: 'text/html', body: '<p id="app">signed in</p>' }));
  await w.signIn('shop-web');
  await w.submit({ username: 'bob', password: 'bob-pass-1' }, '#app');
  await w.page.goto(`${w.demo.issuer()}/session/end?client_id=shop-web`);
  await w.page.waitForSelector('button[name="logout"]');
}

/** A fixed time for every date an account page shows (the session's is the sign-in's own). */
const FIXED_WHEN = '2026-01-15 09:30 UTC';

/** A self-service account of the shoppers pool (its password is the account page's to change), with `passkey` named when given. */
async function shopperAccount(demo: OidcDemo, username: string, passkey?: string): Promise<void> {
  const services = demo.server.app.holder.current.services;
  const store = prefixedStore(services.store, tenantPrefix('demo'));
  const id = newAccountId();
  const account = { v: 1 as const, id, username, password_hash: await hashPassword(STRONG), pools: ['shoppers'], created: Date.now() };
  expect(await createAccount(services.directory, store, 'demo', { ...account, status: 'pending' }, 60_000)).toBe(true);
  expect(await updateAccount(store, { ...account, status: 'pending' }, { ...account, status: 'active' })).toBe(true);
  if (passkey !== undefined)
    expect(
      await addCredential(store, `pk-${username}`, {
        v: 1,
        u: id,
        k: 'AA',
        c: 0,
        t: ['internal'],
        hw: false,
        at: Date.parse(FIXED_WHEN.replace(' UTC', 'Z')),
        n: passkey,
      }),
    ).toBe(true);
}

/** `username` signed in to the shop (the app's callback answered by the browser itself). */
async function signedIn(w: Walk, username: string): Promise<void> {
  await w.page.route('http://localhost:3000/**', (route) => route.fulfill({ contentType: 'text/html', body: '<p id="app">signed in</p>' }));
  await w.signIn('shop-web');
  await w.submit({ username, password: STRONG }, '#app');
}

/** The pages, each reached from a fresh browser (on the passkey demo when `passkeys`). Add a row for a new page. */
const PAGES: readonly { name: string; passkeys?: true; reach(w: Walk): Promise<void> }[] = [
  { name: 'sign-in', reach: (w) => w.signIn('shop-web') },
  {
    name: 'password-error',
    async reach(w) {
      await w.signIn('shop-web');
      await w.submit({ username: 'bob', password: 'not-bobs-password' }, '[role="alert"]');
    },
  },
  { name: 'code', reach: walkToCode },
  {
    name: 'try-another-way',
    async reach(w) {
      await walkToCode(w);
      await w.page.click('#way-app');
      await w.page.waitForSelector('#way-default');
    },
  },
  {
    name: 'sign-up',
    async reach(w) {
      await w.signIn('shop-web');
      await w.page.click('#link-sign_up');
      await w.page.waitForSelector('input[name="mobile"]');
    },
  },
  {
    name: 'sign-up-code',
    async reach(w) {
      await signUpCode(w, 'screen-shopper', '+46700009001');
    },
  },
  {
    name: 'forgot-password',
    async reach(w) {
      await w.signIn('shop-web');
      await w.page.click('#link-forgot_password');
      await w.page.waitForSelector('input[name="username"]');
    },
  },
  {
    name: 'forgot-password-code',
    async reach(w) {
      await forgotCode(w, 'nobody-by-this-name');
    },
  },
  {
    name: 'reset',
    async reach(w) {
      const sent = await signUpCode(w, 'screen-resetter', '+46700009002');
      await w.submit({ otp: await w.codeAfter(sent) }, '[role="status"]');
      const asked = await forgotCode(w, 'screen-resetter');
      await w.submit({ otp: await w.codeAfter(asked) }, 'input[name="new_password"]');
    },
  },
  {
    name: 'notice',
    async reach(w) {
      await w.page.goto(`${w.demo.issuer()}/interaction/no-such-sign-in`);
    },
  },
  { name: 'logout-confirm', reach: signedInAtLogout },
  {
    name: 'signed-out',
    async reach(w) {
      await signedInAtLogout(w);
      await w.page.click('button[name="logout"]');
      await w.page.waitForSelector('[data-code="signed_out"]');
    },
  },
  {
    name: 'error',
    async reach(w) {
      const query = new URLSearchParams({
        client_id: 'no-such-app',
        response_type: 'code',
        scope: 'openid',
        redirect_uri: 'http://localhost:3000/callback',
      });
      await w.page.goto(`${w.demo.issuer()}/auth?${query}`);
      await w.page.waitForSelector('[role="alert"]');
    },
  },
  {
    name: 'passkey-sign-in',
    passkeys: true,
    async reach(w) {
      await w.signIn('shop-web');
      await w.page.waitForSelector('#passkey-button', { state: 'visible' });
    },
  },
  {
    name: 'passkey-offer',
    passkeys: true,
    async reach(w) {
      await w.signIn('shop-web');
      await w.submit({ username: 'bob', password: 'bob-pass-1' }, '#passkey-button');
      await w.page.waitForSelector('#passkey-button', { state: 'visible' });
    },
  },
  {
    name: 'account',
    passkeys: true,
    async reach(w) {
      await shopperAccount(w.demo, 'screen-carol', 'Work laptop');
      await signedIn(w, 'screen-carol');
      await w.page.goto(`${w.demo.issuer()}/account`);
      await w.page.waitForSelector('#passkey-button', { state: 'visible' });
      // The session's date is the sign-in's own: drawn as a fixed one.
      await w.page.evaluate((fixed) => {
        const doc = (globalThis as any).document;
        const walker = doc.createTreeWalker(doc.body, 4 /* NodeFilter.SHOW_TEXT */);
        for (let node = walker.nextNode(); node; node = walker.nextNode())
          node.textContent = node.textContent.replace(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/g, fixed);
      }, FIXED_WHEN);
    },
  },
  {
    name: 'account-signed-out',
    async reach(w) {
      await w.page.goto(`${w.demo.issuer()}/account`);
      await w.page.waitForSelector('[data-code="login_required"]');
    },
  },
];

describeBrowser('the hosted-login screenshots')('the hosted login, page by page', () => {
  let demo: OidcDemo;
  /** The demo with passkeys on the shoppers pool, reached at localhost (WebAuthn's rp id is a domain). */
  let passkeyDemo: OidcDemo;
  let browser: Browser;
  let failures: string | undefined;
  /** Where a differing picture and its diff go: a temp folder, made at the first one. */
  const failureDir = () => (failures ??= mkdtempSync(join(tmpdir(), 'authpipe-screens-')));

  beforeAll(async () => {
    [demo, browser] = await Promise.all([
      startOidcDemo({
        edit(fixture) {
          fixture.keepOutboxInside('signup-send', 'forgot-send');
          // A code to alice for each page that needs one.
          setSmsSendLimits(fixture, { cooldown_seconds: 0, max_per_hour: 100 });
        },
      }),
      launchChromium(),
    ]);
    passkeyDemo = await startPasskeyDemo();
    if (UPDATE) mkdirSync(STORED, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    await passkeyDemo?.close();
  });

  async function startPasskeyDemo(): Promise<OidcDemo> {
    const port = await freePort();
    const started = await startOidcDemo({
      edit(fixture) {
        const main = fixture.readJson('config/authpipe.json') as any;
        main.oidc.public_url = `http://localhost:${port}`;
        main.oidc.tenants.demo.pools.shoppers.passkeys = {
          sign_in_options: 'passkey-sign-in-options',
          sign_in: 'passkey-sign-in',
          enrol_options: 'passkey-enrol-options',
          enrol: 'passkey-enrol',
        };
        fixture.writeMain(main);
      },
      app: { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', REDIS_URL: undefined } },
    });
    return { ...started, issuer: (tenant = 'demo') => `http://localhost:${port}/oidc/${tenant}` };
  }

  async function walk(demo: OidcDemo): Promise<Walk> {
    const context = await browser.newContext({
      bypassCSP: true,
      deviceScaleFactor: 1,
      locale: 'en-US',
      timezoneId: 'UTC',
      reducedMotion: 'reduce',
      viewport: { width: 1280, height: 800 },
    });
    const page = await context.newPage();
    return {
      page,
      demo,
      async signIn(app) {
        const redirect = `http://localhost:${app === 'shop-web' ? 3000 : 3002}/callback`;
        await page.goto((await authorizationRequest(await discover(demo.issuer(), app), redirect)).url);
        await page.waitForSelector('input[name="username"]');
      },
      async submit(values, until) {
        for (const [name, value] of Object.entries(values)) await page.fill(`form >> nth=0 >> input[name="${name}"]`, value);
        await page.locator('form').first().locator('button[type="submit"]').click();
        await page.waitForSelector(until);
      },
      async codeAfter(before) {
        return (await outboxOf(demo.outbox, before + 1))[before]?.code as string;
      },
    };
  }

  /** The page at `width`, cropped to its height, against the stored PNG; the reason when it differs. */
  async function compare(page: Page, name: string, width: number): Promise<string | undefined> {
    await page.setViewportSize({ width, height: 200 });
    const shot = await page.screenshot({ fullPage: true, animations: 'disabled', caret: 'hide' });
    const file = join(STORED, `${name}-${width}.png`);
    if (UPDATE) {
      writeFileSync(file, shot);
      return undefined;
    }
    if (!existsSync(file)) return `${file} is missing: run with UPDATE_SCREENSHOTS=1 and commit it`;
    const want = PNG.sync.read(readFileSync(file));
    const got = PNG.sync.read(shot);
    const keep = () => writeFileSync(join(failureDir(), `${name}-${width}.png`), shot);
    if (want.width !== got.width || want.height !== got.height) {
      keep();
      return `${name}-${width}: ${got.width}×${got.height}, stored ${want.width}×${want.height} (actual in ${failures})`;
    }
    const diff = new PNG({ width: got.width, height: got.height });
    const differing = pixelmatch(want.data, got.data, diff.data, got.width, got.height, { threshold: THRESHOLD });
    if (differing <= MAX_DIFFERING * got.width * got.height) return undefined;
    keep();
    writeFileSync(join(failureDir(), `${name}-${width}.diff.png`), PNG.sync.write(diff));
    return `${name}-${width}: ${differing} pixels differ (actual and diff in ${failures})`;
  }

  for (const { name, passkeys, reach } of PAGES)
    it(`${name}: matches its stored pictures and has no serious or critical axe violation`, async () => {
      const w = await walk(passkeys ? passkeyDemo : demo);
      try {
        await reach(w);
        expect([name, await seriousViolations(w.page)]).toEqual([name, []]);
        await w.page.addStyleTag({ content: FONT_RULE });
        const problems: string[] = [];
        for (const width of WIDTHS) {
          const problem = await compare(w.page, name, width);
          if (problem) problems.push(problem);
        }
        expect(problems).toEqual([]);
      } finally {
        await w.page.context().close();
      }
    });
});
