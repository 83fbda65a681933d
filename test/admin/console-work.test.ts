/**
 * An admin's everyday work in the console, in headless Chromium against a real server on a
 * real Redis: create a user and set its password in the masked form; the user signs in at the
 * hosted login, its session shows in the console and is ended there; wrong passwords lock it,
 * /admin/locked lists it, the console unlocks it. Create a sysapp (its secret shown once) and
 * rotate it, each secret working at the token endpoint. Rotate a signing key, create a pool
 * and add a step. Then the server restarts on the same Redis, and the console's audit still
 * shows every one of those changes with its diff, and no secret.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { describeWithChromium, launchChromium } from '../support/chromium.js';
import { ConfigFixture } from '../support/fixture.js';
import { freePort } from '../support/net.js';
import { describeWithRedis, RedisServer } from '../support/redis.js';
import { startServer, type RunningServer } from '../support/server.js';
import { CookieJar, authorizationRequest, discover, expectPage, follow, submit } from '../oidc/support.js';
import { adminToken, api, basic, editJson } from './support.js';

jest.setTimeout(90_000);
const PHC = /\$(scrypt|argon2|2[aby]|pbkdf2)\$/;
const ERIN_PASSWORD = 'erin-pass-5001';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

describeWithRedis('console work on Redis', () => {
  describeWithChromium('the console work browser test')('the console, for everyday work, in Chromium', () => {
    let redis: RedisServer;
    let fixture: ConfigFixture;
    let server: RunningServer | undefined;
    let browser: Browser;
    let page: Page;
    let ports: [number, number];
    const secrets: string[] = [];

    const start = async () => {
      server = await startServer({
        configFile: fixture.mainFile,
        env: { ...process.env, PORT: String(ports[0]), MANAGEMENT_PORT: String(ports[1]), HOST: '127.0.0.1', REDIS_URL: undefined },
      });
      return server;
    };
    const running = () => server as RunningServer;

    beforeAll(async () => {
      [redis, browser] = await Promise.all([RedisServer.start(), launchChromium()]);
      fixture = ConfigFixture.fromDemo();
      editJson(fixture, 'config/authpipe.json', (m) => {
        m.store = { type: 'redis', url: redis.url, command_timeout_ms: 2000 };
      });
      ports = [await freePort(), await freePort()];
      await start();
      page = await (await browser.newContext()).newPage();
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await server?.close();
      await redis?.stop();
      fixture?.cleanup();
    });

    /** Signs in through the hosted login; a tab still signed in at the issuer (a restart on the same Redis) resumes silently. */
    async function signIn(): Promise<void> {
      await page.goto(`http://localhost:${ports[1]}/console`);
      const overview = page.getByRole('heading', { level: 1, name: 'Overview' });
      const button = page.getByRole('button', { name: 'Sign in with demo' });
      await overview.or(button).waitFor();
      if (await overview.isVisible()) return;
      await button.click();
      await page.getByLabel('Username').fill('ops-admin');
      await page.getByLabel('Password').fill('ops-admin-pass');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    }

    async function open(hash: string, heading: string | RegExp): Promise<void> {
      await page.evaluate((h) => ((globalThis as any).location.hash = h), hash);
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    }

    /** axe-core in the page: no serious or critical violation. */
    async function scan(name: string): Promise<void> {
      await page.evaluate(AXE);
      const violations = await page.evaluate(async () => {
        const result = await (globalThis as any).axe.run((globalThis as any).document, { resultTypes: ['violations'] });
        return result.violations
          .filter((v: any) => v.impact === 'serious' || v.impact === 'critical')
          .map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`);
      });
      expect([name, violations]).toEqual([name, []]);
    }

    const status = (text: string | RegExp) => page.getByRole('status').filter({ hasText: text }).waitFor();

    /** Erin's sign-in at the hosted login (shop-web, the shoppers pool): the callback, or the page it stopped at. */
    async function erinLogin(password: string, jar = new CookieJar()) {
      const shopWeb = 'http://localhost:3000/callback';
      const config = await discover(`${running().url}/oidc/demo`, 'shop-web');
      const { url } = await authorizationRequest(config, shopWeb);
      return submit(jar, expectPage(await follow(jar, url, shopWeb)), { username: 'erin', password }, shopWeb);
    }

    const clientCredentials = (clientId: string, secret: string) =>
      fetch(`${running().url}/oidc/demo/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret) },
        body: 'grant_type=client_credentials',
      }).then((r) => r.status);

    it('signs in, creates a user and sets its password in a masked form', async () => {
      await signIn();
      await open('#/directory/users', 'Directory: Users');
      await page.getByLabel('User id (the subject of its tokens)').fill('u-5001');
      await page.getByLabel('Username').fill('erin');
      await page.getByRole('button', { name: 'Create user' }).click();
      await page.getByRole('heading', { level: 1, name: 'User u-5001' }).waitFor();
      const field = page.getByLabel(/New password of u-5001/);
      expect(await field.getAttribute('type')).toBe('password');
      await field.fill(ERIN_PASSWORD);
      await page.getByRole('button', { name: 'Set password' }).click();
      await status('Password of u-5001 set.');
      expect(readFileSync(`${fixture.dir}/config/directory.json`, 'utf8')).not.toContain(ERIN_PASSWORD);
    });

    it("shows the user's single sign-on session, and ends it", async () => {
      const jar = new CookieJar();
      expect(await erinLogin(ERIN_PASSWORD, jar)).toHaveProperty('callback');
      await open('#/directory/users', 'Directory: Users');
      await page.getByRole('link', { name: 'Open u-5001' }).click();
      const end = page.getByRole('button', { name: 'End the session of u-5001 in shop-web' });
      await end.waitFor();
      await scan('user-sessions');
      await end.click();
      await status('Session of u-5001 ended.');
      await page.getByText('No session.').waitFor();
      // The browser's session cookie names nothing now: the next sign-in asks for the password.
      const shopWeb = 'http://localhost:3000/callback';
      const config = await discover(`${running().url}/oidc/demo`, 'shop-web');
      expectPage(await follow(jar, (await authorizationRequest(config, shopWeb)).url, shopWeb));
    });

    it('the user locked by wrong passwords is listed as locked, and unlocked in the console', async () => {
      for (let i = 0; i < 5; i++) expect(await erinLogin(`wrong-${i}`)).toHaveProperty('page');
      expect(await erinLogin(ERIN_PASSWORD)).toHaveProperty('page');
      const token = await adminToken(running());
      const locked = await api(running(), 'GET', '/admin/locked', { token });
      expect(locked.body.accounts).toContainEqual({ kind: 'user', id: 'u-5001', lockedForSeconds: expect.any(Number) });
      await open('#/directory/users', 'Directory: Users');
      await page.locator('tr[data-id="u-5001"] .chip.bad').waitFor();
      await page.getByRole('link', { name: 'Open u-5001' }).click();
      await page.getByRole('button', { name: 'Unlock u-5001' }).click();
      await status('u-5001 is unlocked.');
      expect(await erinLogin(ERIN_PASSWORD)).toHaveProperty('callback');
    });

    it('a save names the version read: a change made meanwhile is refused (412), not overwritten', async () => {
      await open('#/directory/users', 'Directory: Users');
      await page.getByRole('link', { name: 'Open u-5001' }).click();
      await page.getByLabel('Full name').waitFor();
      const token = await adminToken(running());
      const read = await api(running(), 'GET', '/admin/directory/users/u-5001', { token });
      const behind = await api(running(), 'PATCH', '/admin/directory/users/u-5001', {
        token,
        ifMatch: read.headers.get('etag') as string,
        body: { name: 'Erin, from elsewhere' },
      });
      expect(behind.status).toBe(200);
      await page.getByLabel('Full name').fill('Erin Eriksson');
      await page.getByRole('button', { name: 'Save u-5001' }).click();
      await page.getByRole('alert').filter({ hasText: 'it changed since you read it' }).waitFor();
      expect(
        JSON.parse(readFileSync(`${fixture.dir}/config/directory.json`, 'utf8')).tenants.demo.users.find(
          (u: { id: string }) => u.id === 'u-5001',
        ).name,
      ).toBe('Erin, from elsewhere');
    });

    it('creates a sysapp whose secret is shown once, rotates it; each works at the token endpoint', async () => {
      await open('#/directory/clients', 'Directory: API clients');
      await scan('clients');
      await page.getByLabel('Client id').fill('report-bot');
      await page.getByRole('button', { name: 'Create client' }).click();
      await status('Client report-bot created: copy its secret now');
      const first = await page.getByLabel('New secret of report-bot').inputValue();
      secrets.push(first);
      expect(await clientCredentials('report-bot', first)).toBe(200);

      await open('#/directory/clients/report-bot', 'API client report-bot');
      expect(await page.content()).not.toContain(first);
      await page.getByRole('button', { name: 'Rotate secret of report-bot' }).click();
      await status('Secret of report-bot rotated');
      const second = await page.getByLabel('New secret of report-bot').inputValue();
      secrets.push(second);
      expect(second).not.toBe(first);
      expect(await clientCredentials('report-bot', second)).toBe(200);
      expect(await clientCredentials('report-bot', first)).toBe(401);
    });

    it('a late answer for the tab left is dropped: it never replaces the tab opened', async () => {
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      await page.route('**/admin/directory/tills', async (route) => {
        await held;
        await route.continue().catch(() => undefined);
      });
      const aborted = page.waitForEvent('requestfailed', (r) => r.url().endsWith('/admin/directory/tills'));
      await open('#/directory/tills', 'Directory: Tills');
      await open('#/directory/clients', 'Directory: API clients');
      await page.locator('tr[data-id="report-bot"]').waitFor();
      // The tills read was aborted when the tab changed, before its answer came.
      await aborted;
      release();
      await page.unroute('**/admin/directory/tills');
      expect(await page.locator('tr[data-id="till-001"]').count()).toBe(0);
      expect(await page.locator('tr[data-id="report-bot"]').count()).toBe(1);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Directory: API clients');
    });

    it('rotates a signing key, and adds a step to a new pool', async () => {
      await open('#/keys', 'Signing keys');
      await page.getByText(`http://127.0.0.1:${ports[0]}/oidc/demo`).waitFor();
      await page.locator('tr[data-kid]').first().waitFor();
      await scan('keys');
      const before = await page.locator('tr[data-kid]').count();
      await page.getByLabel('Algorithm of the new key').selectOption('ES256');
      await page.getByRole('button', { name: 'Rotate' }).click();
      await status(/New ES256 key .* published/);
      expect(await page.locator('tr[data-kid]').count()).toBe(before + 1);
      await page.locator('.chip.state-published').first().waitFor();
      // A key written moments ago may not sign yet: relying parties may not have it.
      await page
        .getByRole('button', { name: /^Activate / })
        .first()
        .click();
      await page.getByRole('alert').filter({ hasText: 'relying parties cache the JWKS' }).waitFor();

      await open('#/tenants', 'Tenants');
      await page.getByLabel('Tenant id (lower case)').fill('globex');
      await page.getByLabel('Display name').fill('Globex');
      await page.getByRole('button', { name: 'Create tenant' }).click();
      await status(`Tenant globex created; its issuer is http://127.0.0.1:${ports[0]}/oidc/globex.`);
      await page.locator('tr[data-id="globex"]').waitFor();
      await scan('tenants');

      await open('#/pools', 'User pools');
      await page.getByLabel('Pool id (lower case)').fill('kiosk');
      await page.getByLabel("First step's pipe").selectOption('login-password');
      await page.getByRole('button', { name: 'Create pool' }).click();
      await page.getByRole('heading', { level: 1, name: 'Pool kiosk' }).waitFor();
      await scan('pool');
      await page.getByRole('button', { name: 'Add a step' }).click();
      await page.getByLabel('Step 2: pipe', { exact: true }).selectOption('login-sms-verify');
      await page.getByLabel('Step 2: pipe run when it opens (optional)').selectOption('login-sms-send');
      await page.getByRole('button', { name: 'Save pool kiosk' }).click();
      await status('Pool kiosk saved.');
      const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
      expect(main.oidc.tenants.demo.pools.kiosk.steps.map((s: { operation: string; start?: string }) => [s.operation, s.start])).toEqual([
        ['login-password', undefined],
        ['login-sms-verify', 'login-sms-send'],
      ]);
    });

    it("after a restart on the same Redis, the console's audit shows those changes with their diffs and no secret", async () => {
      await running().close();
      server = undefined;
      await start();
      await signIn();
      await open('#/audit', 'Audit');
      await page.getByLabel('Event (prefix)').fill('admin.');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByRole('cell', { name: 'admin.session_ended' }).waitFor();
      await scan('audit-diffs');
      const table = await page.locator('main table').innerText();
      for (const change of [
        'id: globex',
        'action: create',
        'id: u-5001',
        'action: set-password',
        'id: report-bot',
        'action: rotate-secret',
        'resource: key',
        'resource: pool',
      ])
        expect([change, table.includes(change)]).toEqual([change, true]);
      expect(table).toContain('admin.account_unlocked');
      // Each change's diff, secrets masked.
      expect(table).toMatch(/password_hash: (\(none\)|"\*\*\*") → "\*\*\*"/);
      expect(table).toMatch(/secret_hash: "\*\*\*" → "\*\*\*"/);
      expect(table).toMatch(/\/oidc\/tenants\/demo\/pools\/kiosk\/steps: .*login-password.* → .*login-sms-verify/);
      const html = await page.content();
      for (const secret of [ERIN_PASSWORD, ...secrets]) expect(html).not.toContain(secret);
      expect(html).not.toMatch(PHC);
    });

    it('exports the filtered events as JSON lines, and filters by time', async () => {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Export as JSON lines' }).click(),
      ]);
      const lines = readFileSync((await download.path()) as string, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.length).toBeGreaterThan(5);
      expect(lines.every((e) => e.event.startsWith('admin.'))).toBe(true);
      expect(lines.some((e) => e.event === 'admin.session_ended' && e.account === 'u-5001')).toBe(true);
      await page.getByLabel('Since').fill('2099-01-01T00:00');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByRole('cell', { name: 'admin.session_ended' }).waitFor({ state: 'detached' });
      expect(await page.locator('main table tbody tr').count()).toBe(0);
    });
  });
});
