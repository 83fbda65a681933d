/**
 * Two more relying-party libraries against the front door, as their users run them, each in
 * Chromium through the hosted login:
 * - express-openid-connect with its defaults (RS256 id_tokens, client_secret_basic, the code
 *   flow with PKCE) in a web app of its own (a node process: the library is CommonJS and
 *   requires openid-client 6, an ES module, which node loads and jest's module registry does not);
 * - oidc-client-ts in a single-page app served from its own origin (CORS included): it signs a
 *   user in, and UserManager.revokeTokens() revokes both tokens, which the door then refuses;
 *   and the same under jsdom with node's webcrypto and fetch (in a node process: jsdom 29
 *   requires an ES module too).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createInterface } from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { ConfigParams } from 'express-openid-connect';
import type { UserManager, UserManagerSettings } from 'oidc-client-ts';
import type { JSDOM } from 'jsdom';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import { describeWithChromium, launchChromium } from '../support/chromium.js';
import { freePort } from '../support/net.js';
import { CookieJar, discover, editClients, passwordLogin, startOidcDemo, type OidcDemo } from './support.js';

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

describe('oidc-client-ts under jsdom', () => {
  it('signs alice in, and revokeTokens() revokes the access and the refresh token', async () => {
    const settings: UserManagerSettings = {
      authority: demo.issuer(),
      client_id: 'shop-web',
      redirect_uri: 'http://localhost:3000/callback',
      scope: 'openid profile offline_access',
    };
    const domOptions: ConstructorParameters<typeof JSDOM>[1] = { url: 'http://localhost:3000/' };
    // What oidc-client-ts reads of a browser: jsdom's window (its storage), node's webcrypto as window.crypto; fetch is node's.
    const program = `
      import { JSDOM } from 'jsdom';
      import { createInterface } from 'node:readline';
      const dom = new JSDOM('<!doctype html><html><body></body></html>', ${JSON.stringify(domOptions)});
      Object.defineProperty(dom.window, 'crypto', { value: globalThis.crypto });
      globalThis.window = dom.window;
      const { UserManager, OidcClient } = await import('oidc-client-ts');
      const manager = new UserManager(${JSON.stringify(settings)});
      const request = await new OidcClient(manager.settings).createSigninRequest({});
      console.log(JSON.stringify({ url: request.url }));
      for await (const callback of createInterface({ input: process.stdin })) {
        const user = await manager.signinRedirectCallback(callback);
        await manager.revokeTokens(['access_token', 'refresh_token']);
        console.log(JSON.stringify({ sub: user.profile.sub, access: user.access_token, refresh: user.refresh_token }));
        break;
      }
      process.exit(0);
    `;
    const rp = spawn(process.execPath, ['--input-type=module', '-e', program], { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const lines = createInterface({ input: rp.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
      const next = async () => JSON.parse(((await lines.next()).value as string | undefined) ?? 'null') as Record<string, string> | null;
      const started = await next();
      // The browser's part: the hosted login, then the app's callback URL handed to oidc-client-ts.
      const callback = await passwordLogin(new CookieJar(), started?.url as string, settings.redirect_uri, 'alice', 'alice-pass-1');
      rp.stdin?.write(`${callback}\n`);
      const user = await next();
      expect(user?.sub).toBe('u-1001');
      expect(user?.refresh).toBeTruthy();

      const config = await discover(demo.issuer(), 'shop-web');
      await expect(client.fetchUserInfo(config, user?.access as string, 'u-1001')).rejects.toMatchObject({ status: 401 });
      await expect(client.refreshTokenGrant(config, user?.refresh as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    } finally {
      rp.kill();
    }
  }, 30_000);
});
