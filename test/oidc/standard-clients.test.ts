/**
 * Two more relying-party libraries against the front door, as their users run them, each in
 * Chromium through the hosted login:
 * - express-openid-connect with its defaults (RS256 id_tokens, client_secret_basic, the code
 *   flow with PKCE) in a web app of its own (a node process: the library is CommonJS and
 *   requires openid-client 6, an ES module, which node loads and jest's module registry does not);
 * - oidc-client-ts in a single-page app served from its own origin (CORS included): it signs a
 *   user in, and UserManager.revokeTokens() revokes both tokens, which the door then refuses.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { ConfigParams } from 'express-openid-connect';
import type { UserManager } from 'oidc-client-ts';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import { describeWithChromium, launchChromium } from '../support/chromium.js';
import { freePort } from '../support/net.js';
import { discover, editClients, startOidcDemo, type OidcDemo } from './support.js';

const describeBrowser = describeWithChromium('express-openid-connect and oidc-client-ts in Chromium');

let demo: OidcDemo;
let browser: Browser;
let webPort: number;
let spaPort: number;
beforeAll(async () => {
  [webPort, spaPort] = [await freePort(), await freePort()];
  demo = await startOidcDemo({
    edit: (fixture) => {
      const directory = fixture.readJson('config/directory.json') as { tenants: { demo: { clients: Record<string, unknown>[] } } };
      const pos = directory.tenants.demo.clients.find((c) => c.client_id === 'pos-server-1') as Record<string, unknown>;
      editClients(fixture, {
        // A web app with a server side: confidential, with pos-server-1's secret (the fixture re-hashes by client id, so the hash is copied).
        'shop-express': {
          type: 'userapp',
          pool: 'shoppers',
          secret_hash: pos.secret_hash,
          redirect_uris: [`http://localhost:${webPort}/callback`],
        },
        // A single-page app: public, PKCE.
        'shop-spa': { type: 'userapp', pool: 'shoppers', redirect_uris: [`http://localhost:${spaPort}/callback.html`] },
      });
    },
  });
}, 60_000);
afterAll(() => demo?.close());

describeBrowser('standard relying parties in Chromium', () => {
  let web: ChildProcess;
  let spa: Server;
  beforeAll(async () => {
    browser = await launchChromium();
    // express-openid-connect's documented setup, and nothing more than the code flow: its default
    // response type (id_token) is the implicit flow, which the door does not offer.
    const config: ConfigParams = {
      issuerBaseURL: demo.issuer(),
      baseURL: `http://localhost:${webPort}`,
      clientID: 'shop-express',
      clientSecret: 'pos-server-1-secret',
      secret: 'a-session-secret-of-the-test-app-0123456789',
      authRequired: false,
      authorizationParams: { response_type: 'code', scope: 'openid profile email' },
    };
    const program = `
      import express from 'express';
      import { auth } from 'express-openid-connect';
      const app = express();
      app.use(auth(${JSON.stringify(config)}));
      app.get('/', (req, res) => res.json({ authenticated: req.oidc.isAuthenticated(), user: req.oidc.user ?? null }));
      app.listen(${webPort}, '127.0.0.1', () => console.log('listening'));
    `;
    web = spawn(process.execPath, ['--input-type=module', '-e', program], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      web.stdout?.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
      web.on('exit', (code) => reject(new Error(`the express app exited with ${code}`)));
    });

    const bundle = readFileSync(join(process.cwd(), 'node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js'));
    const settings = JSON.stringify({
      authority: demo.issuer(),
      client_id: 'shop-spa',
      redirect_uri: `http://localhost:${spaPort}/callback.html`,
      scope: 'openid profile offline_access',
    });
    const pages: Record<string, string> = {
      '/index.html': `<script src="/oidc.js"></script><script>window.manager = new oidc.UserManager(${settings});</script>`,
      '/callback.html': `<script src="/oidc.js"></script><script>window.manager = new oidc.UserManager(${settings});
        window.signedIn = manager.signinRedirectCallback().then((u) => ({ sub: u.profile.sub, access: u.access_token, refresh: u.refresh_token }));</script>`,
    };
    spa = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] as string;
      if (path === '/oidc.js') {
        res.setHeader('content-type', 'text/javascript');
        return void res.end(bundle);
      }
      res.setHeader('content-type', 'text/html');
      res.end(pages[path] ?? '');
    });
    await new Promise<void>((resolve) => spa.listen(spaPort, '127.0.0.1', resolve));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    web?.kill();
    if (spa) await new Promise((resolve) => spa.close(resolve));
  });

  it('express-openid-connect with its defaults signs alice in: login, the hosted login, the callback, a session', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`http://localhost:${webPort}/login`);
    await page.waitForSelector('input[name="password"]');
    await page.fill('input[name="username"]', 'alice');
    await page.fill('input[name="password"]', 'alice-pass-1');
    await page.click('button[type="submit"]');
    await page.waitForURL(`http://localhost:${webPort}/`);
    const body = JSON.parse((await page.textContent('body')) as string) as { authenticated: boolean; user: Record<string, unknown> };
    expect(body.authenticated).toBe(true);
    expect(body.user).toMatchObject({ sub: 'u-1001', preferred_username: 'alice' });
  }, 60_000);

  it('oidc-client-ts signs alice in, and revokeTokens() revokes the access and the refresh token', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`http://localhost:${spaPort}/index.html`);
    await page.evaluate(() => void (globalThis as unknown as { manager: UserManager }).manager.signinRedirect());
    await page.waitForSelector('input[name="password"]');
    await page.fill('input[name="username"]', 'alice');
    await page.fill('input[name="password"]', 'alice-pass-1');
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/callback\.html/);
    const user = await page.evaluate(
      () => (globalThis as unknown as { signedIn: Promise<{ sub: string; access: string; refresh: string }> }).signedIn,
    );
    expect(user.sub).toBe('u-1001');
    expect(user.refresh).toBeTruthy();

    await page.evaluate(() => (globalThis as unknown as { manager: UserManager }).manager.revokeTokens(['access_token', 'refresh_token']));

    const config = await discover(demo.issuer(), 'shop-spa');
    await expect(client.fetchUserInfo(config, user.access, 'u-1001')).rejects.toMatchObject({ status: 401 });
    await expect(client.refreshTokenGrant(config, user.refresh)).rejects.toMatchObject({ error: 'invalid_grant' });
  }, 60_000);
});
