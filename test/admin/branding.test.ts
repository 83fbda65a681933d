/**
 * Branding through the admin API and the console. A tenant's own branding at /admin/branding:
 * read and replaced under If-Match, audited; refused with an unknown member (400), an off-site
 * logo (422 at its pointer, nothing written), a stale ETag (412), a tenant admin naming another
 * tenant (403) or changing an operator's home tenant (403). Then in Chromium: the console's
 * pool page shows an off-site logo's refusal under the logo's field, saves the pool's display
 * name and accent colour, and the pool's hosted login shows both; the Tenants page saves the
 * tenant's display name, which a pool without its own shows.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { describeWithChromium, launchChromium } from '../support/chromium.js';
import { ConfigFixture } from '../support/fixture.js';
import { freePort } from '../support/net.js';
import { startServer, type RunningServer } from '../support/server.js';
import { authorizationRequest, discover } from '../oidc/support.js';
import { addOperatorAndTenantAdmin, adminToken, api } from './support.js';

jest.setTimeout(90_000);

let fixture: ConfigFixture;
let server: RunningServer;
let ports: [number, number];
/** admin-console of demo, listed as an operator. */
let operator: string;
/** demo-admin: in demo's Admin group, not an operator. */
let demoAdmin: string;

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  addOperatorAndTenantAdmin(fixture);
  ports = [await freePort(), await freePort()];
  server = await startServer({
    configFile: fixture.mainFile,
    env: { ...process.env, PORT: String(ports[0]), MANAGEMENT_PORT: String(ports[1]), HOST: '127.0.0.1', REDIS_URL: undefined },
  });
  operator = await adminToken(server);
  demoAdmin = await adminToken(server, 'demo', 'demo-admin');
}, 60_000);
afterAll(async () => {
  await server?.close();
  fixture?.cleanup();
});

const codeOf = (answer: { body: { errorTranslationKeys?: string[] } }) => answer.body.errorTranslationKeys?.[1];
const etag = (answer: { headers: Headers }) => answer.headers.get('etag') as string;
const mainText = () => readFileSync(fixture.mainFile, 'utf8');

describe("a tenant's branding in the admin API", () => {
  it('is read and replaced under If-Match by an admin of the tenant, and audited', async () => {
    const read = await api(server, 'GET', '/admin/branding', { token: operator, tenant: 'acme' });
    expect([read.status, read.body]).toEqual([200, {}]);
    const branding = { display_name: 'Acme', logo: '/oidc/acme/logo.svg', colors: { accent: '#0a7d4f', accent_text: '#ffffff' } };
    const missing = await api(server, 'PUT', '/admin/branding', { token: operator, tenant: 'acme', body: branding });
    expect([missing.status, codeOf(missing)]).toEqual([428, 'PRECONDITION_REQUIRED']);
    const saved = await api(server, 'PUT', '/admin/branding', { token: operator, tenant: 'acme', ifMatch: etag(read), body: branding });
    expect([saved.status, saved.body]).toEqual([200, branding]);
    expect(JSON.parse(mainText()).oidc.tenants.acme.branding).toEqual(branding);
    // The operator names the tenant with ?tenant= while its header names its own.
    const again = await api(server, 'GET', '/admin/branding?tenant=acme', { token: operator });
    expect([again.status, again.body, etag(again)]).toEqual([200, branding, etag(saved)]);
    // acme's door serves the theme of its colours.
    const theme = await fetch(`${server.url}/oidc/acme/assets/theme.css`);
    expect([theme.status, await theme.text()]).toEqual([200, expect.stringContaining('--ap-accent: #0a7d4f;')]);

    const audit = await api(server, 'GET', '/admin/audit?event=admin.config_changed', { token: operator, tenant: 'acme' });
    expect(audit.body.events).toContainEqual(expect.objectContaining({ event: 'admin.config_changed', resource: 'branding', id: 'acme' }));

    const stale = await api(server, 'PUT', '/admin/branding', { token: operator, tenant: 'acme', ifMatch: etag(read), body: {} });
    expect([stale.status, codeOf(stale)]).toEqual([412, 'PRECONDITION_FAILED']);
    const reset = await api(server, 'PUT', '/admin/branding', { token: operator, tenant: 'acme', ifMatch: etag(saved), body: {} });
    expect([reset.status, reset.body, Object.hasOwn(JSON.parse(mainText()).oidc.tenants.acme, 'branding')]).toEqual([200, {}, false]);
  });

  it('refuses an unknown member, a bad colour and an off-site logo, writing nothing', async () => {
    const read = await api(server, 'GET', '/admin/branding', { token: operator, tenant: 'acme' });
    const before = mainText();
    const put = (body: unknown) => api(server, 'PUT', '/admin/branding', { token: operator, tenant: 'acme', ifMatch: etag(read), body });
    const unknown = await put({ display_name: 'Acme', font: 'Comic Sans' });
    expect([unknown.status, codeOf(unknown), unknown.body.erroneousProperties]).toEqual([400, 'BAD_BODY', ['/font']]);
    const colour = await put({ colors: { accent: 'red; background: url(//evil.example/x)' } });
    expect([colour.status, codeOf(colour), colour.body.erroneousProperties]).toEqual([400, 'BAD_BODY', ['/colors/accent']]);
    for (const key of ['logo', 'stylesheet']) {
      const offSite = await put({ [key]: `https://evil.example/${key}` });
      expect([offSite.status, codeOf(offSite), offSite.body.issues]).toEqual([
        422,
        'CONFIG_REFUSED',
        [expect.objectContaining({ code: 'CONFIG_INVALID', pointer: `/oidc/tenants/acme/branding/${key}` })],
      ]);
    }
    expect(mainText()).toBe(before);
  });

  it("refuses a tenant admin another tenant's branding, and its operator's home tenant's changes", async () => {
    const read = await api(server, 'GET', '/admin/branding', { token: operator, tenant: 'acme' });
    const other = await api(server, 'GET', '/admin/branding?tenant=acme', { token: demoAdmin });
    expect([other.status, codeOf(other)]).toEqual([403, 'OTHER_TENANT']);
    const otherPut = await api(server, 'PUT', '/admin/branding?tenant=acme', {
      token: demoAdmin,
      ifMatch: etag(read),
      body: { display_name: 'Not yours' },
    });
    expect([otherPut.status, codeOf(otherPut)]).toEqual([403, 'OTHER_TENANT']);
    const own = await api(server, 'GET', '/admin/branding', { token: demoAdmin });
    expect(own.status).toBe(200);
    const home = await api(server, 'PUT', '/admin/branding', {
      token: demoAdmin,
      ifMatch: etag(own),
      body: { display_name: 'Mine-brand' },
    });
    expect([home.status, codeOf(home)]).toEqual([403, 'OPERATOR_ONLY']);
    expect(mainText()).not.toContain('Not yours');
    expect(mainText()).not.toContain('Mine-brand');
  });
});

describeWithChromium('the console branding browser test')("a pool's branding in the console, in Chromium", () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it("saves a pool's display name and accent colour, which its hosted login shows; an off-site logo is refused at its field", async () => {
    await page.goto(`http://localhost:${ports[1]}/console`);
    await page.getByRole('button', { name: 'Sign in with demo' }).click();
    await page.getByLabel('Username').fill('ops-admin');
    await page.getByLabel('Password').fill('ops-admin-pass');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.evaluate(() => ((globalThis as any).location.hash = '#/pools/shoppers'));
    await page.getByRole('heading', { level: 1, name: 'Pool shoppers' }).waitFor();

    await page.getByLabel('Name shown on the login page').fill('Corner Shop');
    await page.getByLabel('Accent colour').fill('#0a7d4f');
    const logo = page.getByLabel('Logo URL');
    await logo.fill('https://cdn.example/logo.png');
    const before = mainText();
    await page.getByRole('button', { name: 'Save pool shoppers' }).click();
    // The issue is under the logo's field, which it describes.
    await page.locator('#pool-branding-logo-issue').filter({ hasText: 'not served by this server' }).waitFor();
    expect(await logo.getAttribute('aria-invalid')).toBe('true');
    expect(await logo.getAttribute('aria-describedby')).toContain('pool-branding-logo-issue');
    expect(mainText()).toBe(before);

    await logo.fill('');
    await page.getByRole('button', { name: 'Save pool shoppers' }).click();
    await page.getByRole('status').filter({ hasText: 'Pool shoppers saved.' }).waitFor();
    expect(await page.locator('#pool-branding-logo-issue').count()).toBe(0);
    const pool = JSON.parse(mainText()).oidc.tenants.demo.pools.shoppers;
    expect([pool.branding, pool.steps.length > 0]).toEqual([{ display_name: 'Corner Shop', colors: { accent: '#0a7d4f' } }, true]);

    // A shopper's browser, not signed in anywhere: the pool's hosted login.
    const shopper = await (await browser.newContext()).newPage();
    const config = await discover(`${server.url}/oidc/demo`, 'shop-web');
    await shopper.goto((await authorizationRequest(config, 'http://localhost:3000/callback')).url);
    await expect(shopper.locator('.brand-name').textContent()).resolves.toBe('Corner Shop');
    const button = shopper.getByRole('button', { name: 'Continue' });
    expect(await button.evaluate((b: any) => (globalThis as any).getComputedStyle(b).backgroundColor)).toBe('rgb(10, 125, 79)');
    await shopper.close();
  });

  it("saves the tenant's branding on the Tenants page, which a pool without its own shows", async () => {
    await page.evaluate(() => ((globalThis as any).location.hash = '#/tenants'));
    await page.getByRole('heading', { level: 1, name: 'Tenants' }).waitFor();
    await page.getByLabel('Name shown on the login page').fill('Demo Retail');
    await page.getByRole('button', { name: 'Save branding' }).click();
    await page.getByRole('status').filter({ hasText: 'Branding of demo saved.' }).waitFor();
    expect(JSON.parse(mainText()).oidc.tenants.demo.branding).toEqual({ display_name: 'Demo Retail' });

    const visitor = await (await browser.newContext()).newPage();
    const login = async (app: string, port: number) => {
      const config = await discover(`${server.url}/oidc/demo`, app);
      await visitor.goto((await authorizationRequest(config, `http://localhost:${port}/callback`)).url);
      return visitor.locator('.brand-name').textContent();
    };
    // The partners pool has no branding of its own; the shoppers pool's display name overrides the tenant's.
    await expect(login('partner-portal', 3002)).resolves.toBe('Demo Retail');
    await expect(login('shop-web', 3000)).resolves.toBe('Corner Shop');
    await visitor.close();
  });
});
