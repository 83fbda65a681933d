/**
 * The console in headless Chromium (playwright-core, the system browser): sign in through the
 * hosted login as the demo's ops-admin (staff pool, PKCE), at localhost and a port of its own
 * (the directory lists 127.0.0.1:9090 only), open till-login and see its valves, break a valve's config and see the server's issue at its pointer, fix it, save a
 * pipe and see a PUT call behave as saved, run a dry run and read its trace, create an access
 * group and allocate a store, unlock a locked till, and scan every page with axe-core (no
 * serious or critical violation). Screenshots go to AUTHPIPE_SCREENS (outside git) when set.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { seriousViolations } from '../support/axe.js';
import { describeWithChromium, launchChromium, recordCspViolations } from '../support/chromium.js';
import { ConfigFixture } from '../support/fixture.js';
import { freePort } from '../support/net.js';
import { startServer, type RunningServer } from '../support/server.js';
import { basic } from './support.js';
import { prefixedStore, tenantPrefix } from '../../src/store/store.js';
import { indexLink, linkKey } from '../../src/oidc/federated-accounts.js';
import { CookieJar, authorizationRequest, discover, expectPage, follow, submit } from '../oidc/support.js';

const describeBrowser = describeWithChromium('the console browser tests');
const SCREENS = process.env.AUTHPIPE_SCREENS;
jest.setTimeout(60_000);

describeBrowser('the console in Chromium', () => {
  let fixture: ConfigFixture;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const cspViolations: string[] = [];
  const scanned: string[] = [];

  beforeAll(async () => {
    fixture = ConfigFixture.fromDemo();
    // The directory lists only 127.0.0.1:9090 for the console: at localhost and another port it
    // signs in all the same (the provider lets it back to each name of the management listener).
    const [port, managementPort] = [await freePort(), await freePort()];
    [server, browser] = await Promise.all([
      startServer({
        configFile: fixture.mainFile,
        env: { ...process.env, PORT: String(port), MANAGEMENT_PORT: String(managementPort), HOST: '127.0.0.1', REDIS_URL: undefined },
      }),
      launchChromium(),
    ]);
    page = await (await browser.newContext()).newPage();
    recordCspViolations(page, cspViolations);
    if (SCREENS) mkdirSync(SCREENS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    fixture?.cleanup();
  });

  /** No serious or critical axe-core violation on the page; a screenshot when AUTHPIPE_SCREENS is set. */
  async function scan(name: string): Promise<void> {
    expect([name, await seriousViolations(page)]).toEqual([name, []]);
    scanned.push(name);
    if (SCREENS) await page.screenshot({ path: join(SCREENS, `console-${name}.png`), fullPage: true });
  }

  async function open(hash: string, heading: string | RegExp): Promise<void> {
    await page.evaluate((h) => ((globalThis as any).location.hash = h), hash);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  }

  /** Replaces the editor's text as a user would: select all, type. */
  async function typeIntoEditor(text: string): Promise<void> {
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(text);
  }

  it('signs in through the hosted login of the staff pool; the tokens stay in memory', async () => {
    await page.goto(`http://localhost:${new URL(server.managementUrl).port}/console`);
    const headers = (await page.reload())?.headers() ?? {};
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(headers['x-frame-options']).toBe('DENY');
    await page.getByRole('button', { name: 'Sign in with demo' }).waitFor();
    await scan('signin');
    await page.getByRole('button', { name: 'Sign in with demo' }).click();
    await page.getByLabel('Username').fill('ops-admin');
    await page.getByLabel('Password').fill('ops-admin-pass');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await expect(page.getByText('u-ops')).toBeTruthy();
    await page.getByRole('heading', { name: /Calls of demo/ }).waitFor();
    await scan('overview');
  });

  /** What the page keeps where scripts can read it: localStorage, and sessionStorage as [key, value] pairs. */
  const storage = () =>
    page.evaluate(() => {
      const { localStorage, sessionStorage } = globalThis as any;
      return { local: localStorage.length, session: Object.entries(sessionStorage) };
    });

  it('stays signed in across a reload, from the live session (prompt=none), with no token stored', async () => {
    // Only the tenant's name marks the tab as signed in: no token, no code verifier left behind.
    expect(await storage()).toEqual({ local: 0, session: [['authpipe-console-tenant', 'demo']] });
    const authorizations: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/oidc/demo/auth')) authorizations.push(r.url());
    });
    await open('#/pipes', 'Pipes');
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Pipes' }).waitFor();
    expect(page.url()).toMatch(/\/console#\/pipes$/);
    expect(authorizations).toHaveLength(1);
    expect(new URL(authorizations[0] as string).searchParams.get('prompt')).toBe('none');
    expect(await storage()).toEqual({ local: 0, session: [['authpipe-console-tenant', 'demo']] });
    page.removeAllListeners('request');
  });

  it('shows till-login as a diagram; a valve shows its config and its settings', async () => {
    await open('#/pipes', 'Pipes');
    await scan('pipes');
    await page.getByRole('link', { name: 'till-login', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Pipe till-login' }).waitFor();
    // The steps render after the heading, once the pipe has loaded: wait for the last one.
    await page.locator('ol.diagram li.step[data-valve="token-mint"]').waitFor();
    expect(await page.locator('ol.diagram li.step').evaluateAll((els) => els.map((e) => e.getAttribute('data-valve')))).toEqual([
      'rate-limit',
      'basic-auth',
      'access-group',
      'token-mint',
    ]);
    await page.getByRole('button', { name: /#1 basic-auth/ }).click();
    await page.getByRole('heading', { name: '#1 basic-auth' }).waitFor();
    expect(await page.getByLabel('Config of step 1').textContent()).toContain('"kind": "till"');
    await page.getByText('Longer passwords are refused before hashing.').waitFor();
    await scan('pipe-till-login');
  });

  it('refuses a broken valve config with the issue at its pointer, then saves the fix', async () => {
    const pipe = JSON.parse(readFileSync(join(fixture.dir, 'pipes', 'till-login.json'), 'utf8'));
    await page.getByRole('link', { name: 'Edit till-login' }).click();
    await page.getByRole('heading', { level: 1, name: 'Edit pipe till-login' }).waitFor();
    await page.locator('.cm-content').waitFor();
    await scan('editor');
    pipe.valves[1].config.kind = 'tilll';
    await typeIntoEditor(JSON.stringify(pipe, null, 2));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('alert').filter({ hasText: 'Not saved' }).waitFor();
    const issue = page.locator('.issues li').filter({ hasText: '/valves/1/config/kind' });
    await issue.waitFor();
    // The editor underlines the value the pointer names.
    await page.locator('.cm-lintRange-error').first().waitFor();
    expect(await page.locator('.cm-lintRange-error').first().textContent()).toBe('"tilll"');
    if (SCREENS) await page.screenshot({ path: join(SCREENS, 'console-editor-issue.png'), fullPage: true });
    expect(JSON.parse(readFileSync(join(fixture.dir, 'pipes', 'till-login.json'), 'utf8')).valves[1].config.kind).toBe('till');
    pipe.valves[1].config.kind = 'till';
    pipe.description = 'Edited in the console.';
    await typeIntoEditor(JSON.stringify(pipe, null, 2));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    expect(JSON.parse(readFileSync(join(fixture.dir, 'pipes', 'till-login.json'), 'utf8')).description).toBe('Edited in the console.');
  });

  it('a pipe saved in the console is what the next PUT call runs', async () => {
    const echo = JSON.parse(readFileSync(join(fixture.dir, 'pipes', 'echo.json'), 'utf8'));
    echo.valves = echo.valves.map((v: any) =>
      v.name === 'property-set' ? { ...v, config: { properties: { tenant: 'console-{{tenant.id}}' } } } : v,
    );
    await open('#/edit/echo', 'Edit pipe echo');
    await page.locator('.cm-content').waitFor();
    await typeIntoEditor(JSON.stringify(echo, null, 2));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    expect((await server.call('echo', { username: 'a' })).body).toMatchObject({ username: 'a', tenant: 'console-demo' });
  });

  it('runs a dry run and shows its masked trace valve by valve', async () => {
    await open('#/try?operation=till-login', 'Try it');
    await page.getByLabel('Body (a flat JSON object of strings)').fill('{"username":"till-001","password":"till-001-pass"}');
    await page.getByRole('button', { name: 'Run as a dry run' }).click();
    await page.getByRole('heading', { name: /Answer: 200/ }).waitFor();
    const steps = await page.locator('ol.timeline > li strong').allTextContents();
    expect(steps.map((s) => s.trim())).toEqual(['#0 rate-limit', '#1 basic-auth', '#2 access-group', '#3 token-mint']);
    expect(await page.locator('ol.timeline').textContent()).toContain('+ item.sub = "till-001"');
    expect(await page.content()).not.toContain('till-001-pass"}</');
    expect(await page.getByLabel('Answer body').textContent()).toContain('"access_token": "***"');
    await scan('try-it');
  });

  it('creates an access group and allocates a store to it', async () => {
    await open('#/access-groups', 'Access groups');
    await scan('access-groups');
    await page.getByLabel('Name', { exact: true }).fill('Kiosk');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { level: 1, name: 'Access group Kiosk' }).waitFor();
    await page.getByLabel('Data API customer').selectOption('read');
    await page.getByRole('button', { name: 'Save permissions' }).click();
    await page.getByRole('status').filter({ hasText: 'Permissions saved' }).waitFor();
    await page.getByLabel('Allocate a store').selectOption('store-02');
    await page.getByRole('button', { name: 'Allocate' }).click();
    await page.getByRole('status').filter({ hasText: 'store-02 allocated to Kiosk' }).waitFor();
    await page.getByRole('button', { name: 'Remove store-02' }).waitFor();
    const directory = JSON.parse(readFileSync(join(fixture.dir, 'config', 'directory.json'), 'utf8'));
    expect(directory.tenants.demo.stores.find((s: { id: string }) => s.id === 'store-02').access_group).toBe('kiosk');
    await scan('access-group-detail');
  });

  it('unlocks a locked till from the directory', async () => {
    const login = (password: string) => server.call('till-login', {}, { authorization: basic('till-003', password) });
    for (let i = 0; i < 5; i++) await login(`wrong-${i}`);
    expect((await login('till-003-pass')).status).toBe(403);
    await open('#/directory/tills', 'Directory: Tills');
    await page.getByRole('button', { name: 'Unlock till-003' }).waitFor();
    await scan('directory');
    await page.getByRole('button', { name: 'Unlock till-003' }).click();
    await page.getByRole('status').filter({ hasText: 'till-003 is unlocked' }).waitFor();
    expect((await login('till-003-pass')).status).toBe(200);
  });

  it('shows whether a user has a password, never its hash', async () => {
    await open('#/directory/users', 'Directory: Users');
    await page.locator('tr[data-id="u-1001"] .chip', { hasText: 'password set' }).waitFor();
    await page.locator('tr[data-id="u-1003"] .chip', { hasText: 'no password' }).waitFor();
    const text = await page.locator('main').innerText();
    expect(text).not.toMatch(/\$(scrypt|argon2|2[aby]|pbkdf2)|_hash|totp_secret/);
  });

  it("lists a user's links to upstream identities and removes one", async () => {
    // A link as the hosted login makes it (federation-demo.test.ts makes one through a real upstream).
    const store = prefixedStore(server.app.holder.current.services.store, tenantPrefix('demo'));
    await store.set(linkKey('upstream', 'dave'), 'u-1001');
    await indexLink(store, 'u-1001', { upstream: 'upstream', upstream_sub: 'dave', how: 'password' }, Date.now());
    await open('#/directory/users/u-1001', 'User u-1001');
    await page.getByRole('button', { name: 'Remove link to upstream' }).waitFor();
    await scan('user-links');
    await page.getByRole('button', { name: 'Remove link to upstream' }).click();
    await page.getByRole('status').filter({ hasText: 'The link to upstream (dave) is removed' }).waitFor();
    await page.getByText('No upstream identity is linked to u-1001.').waitFor();
    expect(await store.get(linkKey('upstream', 'dave'))).toBeNull();
  });

  it('lists the audit events, and every page passed axe without a CSP violation', async () => {
    await open('#/audit', 'Audit');
    await page.getByLabel('Event (prefix)').fill('admin.');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('cell', { name: 'admin.account_unlocked' }).waitFor();
    await scan('audit');
    expect(scanned).toEqual([
      'signin',
      'overview',
      'pipes',
      'pipe-till-login',
      'editor',
      'try-it',
      'access-groups',
      'access-group-detail',
      'directory',
      'user-links',
      'audit',
    ]);
    expect(cspViolations).toEqual([]);
  });

  /** A shopper's sign-in at the hosted login (shop-web, the shoppers pool): the callback URL, or the page it stopped at. */
  async function shopperLogin(username: string, password: string) {
    const shopWeb = 'http://localhost:3000/callback';
    const config = await discover(`${server.url}/oidc/demo`, 'shop-web');
    const jar = new CookieJar();
    const { url } = await authorizationRequest(config, shopWeb);
    const page = expectPage(await follow(jar, url, shopWeb));
    return submit(jar, page, { username, password }, shopWeb);
  }

  it('creates a user, sets its password in a masked form; the user signs in, locks, and is unlocked here', async () => {
    await open('#/directory/users', 'Directory: Users');
    await page.getByLabel('User id (the subject of its tokens)').fill('u-4001');
    await page.getByLabel('Username').fill('dora');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { level: 1, name: 'User u-4001' }).waitFor();
    const field = page.getByLabel(/New password of u-4001/);
    expect([await field.getAttribute('type'), await field.getAttribute('autocomplete')]).toEqual(['password', 'new-password']);
    await scan('directory-record');
    await field.fill('short');
    await page.getByRole('button', { name: 'Set password' }).click();
    // The browser's own check (minlength) stops it; the server would answer 400 all the same.
    expect(await field.evaluate((el) => (el as any).validity.tooShort)).toBe(true);
    await field.fill('dora-pass-4001');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('status').filter({ hasText: 'Password of u-4001 set.' }).waitFor();
    expect(readFileSync(join(fixture.dir, 'config', 'directory.json'), 'utf8')).not.toContain('dora-pass-4001');
    expect(await shopperLogin('dora', 'dora-pass-4001')).toHaveProperty('callback');

    for (let i = 0; i < 5; i++) expect(await shopperLogin('dora', `wrong-${i}`)).toHaveProperty('page');
    expect(await shopperLogin('dora', 'dora-pass-4001')).toHaveProperty('page');
    await open('#/directory/users', 'Directory: Users');
    await page.getByRole('link', { name: 'Open u-4001' }).click();
    await page.getByRole('heading', { level: 1, name: 'User u-4001' }).waitFor();
    await page.getByRole('button', { name: 'Unlock u-4001' }).click();
    await page.getByRole('status').filter({ hasText: 'u-4001 is unlocked.' }).waitFor();
    expect(await shopperLogin('dora', 'dora-pass-4001')).toHaveProperty('callback');
  });

  it("rotates a client's secret, shown once, which the token endpoint then takes; edits a userapp's redirect URIs", async () => {
    await open('#/directory/clients/pos-server-1', 'API client pos-server-1');
    await page.getByRole('button', { name: 'Rotate secret of pos-server-1' }).click();
    await page.getByRole('status').filter({ hasText: 'Secret of pos-server-1 rotated' }).waitFor();
    const secret = await page.getByLabel('New secret of pos-server-1').inputValue();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const token = await fetch(`${server.url}/oidc/demo/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('pos-server-1', secret) },
      body: 'grant_type=client_credentials',
    });
    expect(token.status).toBe(200);
    // Leaving the page forgets it.
    await open('#/directory/clients/shop-web', 'API client shop-web');
    expect(await page.content()).not.toContain(secret);
    await page
      .getByLabel('Redirect URIs (one a line)', { exact: true })
      .fill('http://localhost:3000/callback\nhttps://shop.example.com/callback');
    await page.getByRole('button', { name: 'Save shop-web' }).click();
    await page.getByRole('status').filter({ hasText: 'shop-web saved.' }).waitFor();
    const directory = JSON.parse(readFileSync(join(fixture.dir, 'config', 'directory.json'), 'utf8'));
    expect(directory.tenants.demo.clients.find((c: { client_id: string }) => c.client_id === 'shop-web').redirect_uris).toEqual([
      'http://localhost:3000/callback',
      'https://shop.example.com/callback',
    ]);
    expect(cspViolations).toEqual([]);
  });

  it('signs out of the single sign-on session: the next sign-in asks for the password, a reload does not sign in', async () => {
    await open('#/overview', 'Overview');
    const [logout] = await Promise.all([
      page.waitForRequest((r) => r.url().includes('/oidc/demo/session/end')),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    const asked = new URL(logout.url()).searchParams;
    expect([asked.get('client_id'), asked.get('post_logout_redirect_uri')]).toEqual([
      'authpipe-console',
      `http://localhost:${new URL(server.managementUrl).port}/console`,
    ]);
    expect(asked.get('id_token_hint')).toMatch(/^ey/);
    await page.getByRole('button', { name: 'Sign in with demo' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console');
    expect(await storage()).toEqual({ local: 0, session: [] });
    await page.reload();
    await page.getByRole('button', { name: 'Sign in with demo' }).waitFor();
    await page.getByRole('button', { name: 'Sign in with demo' }).click();
    await page.getByLabel('Password').waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('a reload after the session ended elsewhere shows the sign-in page, with no error', async () => {
    await page.getByLabel('Username').fill('ops-admin');
    await page.getByLabel('Password').fill('ops-admin-pass');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    // The session's cookies go (as when it ends at the issuer); the tab's marker stays.
    await page.context().clearCookies();
    await page.reload();
    await page.getByRole('button', { name: 'Sign in with demo' }).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await storage()).toEqual({ local: 0, session: [] });
  });
});
