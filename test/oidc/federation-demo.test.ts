/**
 * The demo's shoppers pool with its upstream (config/authpipe.json): "Sign in with Upstream"
 * beside the password form (a step's `alternatives`), and linking an existing account only
 * after the shopper proves it (federated-account's prove_local, then link-verify with
 * federated-link). The upstream is a real oidc-provider started here, in place of
 * examples/upstream-idp.mjs; the links are listed and removed through the admin API.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { adminRequest, adminToken } from '../access-groups/support.js';
import { describeWithChromium, launchChromium } from '../support/chromium.js';
import { freePort } from '../support/net.js';
import { startRealUpstream } from '../support/upstream-idp.js';
import {
  authorizationRequest,
  CookieJar,
  discover,
  expectCallback,
  expectPage,
  follow,
  submit,
  type OidcDemo,
  startOidcDemo,
} from './support.js';

const SHOP = 'http://localhost:3000/callback';
let demo: OidcDemo;
let upstreamPort: number;
let downPort: number;
let server: Server;
/** Who signs in at the upstream, and what it says of them. */
let upstreamUser = 'carol';
let claims: Record<string, unknown> = {};

beforeAll(async () => {
  [upstreamPort, downPort] = [await freePort(), await freePort()];
  demo = await startOidcDemo({
    edit(fixture) {
      const main = fixture.readJson('config/authpipe.json') as Record<string, any>;
      main.oidc.tenants.demo.upstreams.upstream.issuer = `http://127.0.0.1:${upstreamPort}`;
      // A second copy of the shoppers' pool whose upstream is down (nothing listens on its port).
      main.oidc.tenants.demo.upstreams.down = {
        ...main.oidc.tenants.demo.upstreams.upstream,
        issuer: `http://127.0.0.1:${downPort}`,
        timeout_ms: 500,
      };
      const shoppers = main.oidc.tenants.demo.pools.shoppers;
      main.oidc.tenants.demo.pools['shoppers-down'] = {
        steps: [{ ...shoppers.steps[0], upstream_alternatives: [{ upstream: 'down', operation: 'login-upstream' }] }, shoppers.steps[1]],
      };
      main.outbound.allow = [...new Set([...main.outbound.allow, `127.0.0.1:${upstreamPort}`, `127.0.0.1:${downPort}`])];
      fixture.writeMain(main);
      const directory = fixture.readJson('config/directory.json') as {
        tenants: { demo: { clients: unknown[]; users: { pools?: string[] }[] } };
      };
      directory.tenants.demo.clients.push({ client_id: 'shop-down', type: 'userapp', pool: 'shoppers-down', redirect_uris: [SHOP] });
      for (const user of directory.tenants.demo.users) if (user.pools?.includes('shoppers')) user.pools.push('shoppers-down');
      fixture.write('config/directory.json', directory);
    },
  });
  const callback = `${demo.issuer()}/federation/upstream/callback`;
  server = await startRealUpstream(
    upstreamPort,
    callback,
    () => upstreamUser,
    () => claims,
  );
  expect((server.address() as AddressInfo).port).toBe(upstreamPort);
}, 30_000);

afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  await demo?.close();
});

async function firstPage(app = 'shop-web') {
  const config = await discover(demo.issuer(), app);
  const request = await authorizationRequest(config, SHOP);
  const jar = new CookieJar();
  const page = expectPage(await follow(jar, request.url, SHOP));
  return { config, request, jar, page };
}

/** Presses "Sign in with <name>" (the alternative's own form) on `page`. */
function pressUpstream(started: Awaited<ReturnType<typeof firstPage>>, idp: string) {
  return submit(started.jar, started.page, { upstream: idp }, SHOP);
}

async function subOf(started: Awaited<ReturnType<typeof firstPage>>, callback: string): Promise<string> {
  const tokens = await client.authorizationCodeGrant(started.config, new URL(callback), {
    pkceCodeVerifier: started.request.verifier,
    expectedState: started.request.state,
    expectedNonce: started.request.nonce,
  });
  return tokens.claims()?.sub as string;
}

test('the shoppers page offers the upstream beside the password, and either signs in', async () => {
  const byPassword = await firstPage();
  expect(byPassword.page.html).toContain('name="password"');
  expect(byPassword.page.html).toContain('Sign in with Upstream');
  expect(
    await subOf(
      byPassword,
      expectCallback(await submit(byPassword.jar, byPassword.page, { username: 'bob', password: 'bob-pass-1' }, SHOP)),
    ),
  ).toBe('u-1002');

  upstreamUser = 'carol';
  claims = { email: 'carol@example.com', email_verified: true, name: 'Carol' };
  const byUpstream = await firstPage();
  expect(await subOf(byUpstream, expectCallback(await pressUpstream(byUpstream, 'upstream')))).toMatch(/^fed-/);
});

test('with the upstream down its button answers a coded page, and the password still signs in', async () => {
  const started = await firstPage('shop-down');
  const begun = Date.now();
  const shown = expectPage(await pressUpstream(started, 'down'));
  expect(Date.now() - begun).toBeLessThan(3000);
  expect([shown.status, shown.errorCode]).toEqual([502, 'COMMUNICATION_ERROR']);
  expect(shown.html).toContain('name="password"');
  const back = expectCallback(await submit(started.jar, shown, { username: 'bob', password: 'bob-pass-1' }, SHOP));
  expect(await subOf(started, back)).toBe('u-1002');
});

test('an unverified email matching alice links only after alice proves her account; the link is listed and removable', async () => {
  upstreamUser = 'dave';
  claims = { email: 'alice@example.com', email_verified: false, name: 'Dave' };
  // Proving another account (bob) does not link dave to it: the sign-in starts again.
  const wrong = await firstPage();
  const proof = expectPage(await pressUpstream(wrong, 'upstream'));
  expect(proof.html).toContain('Sign in once more to link your accounts');
  const refused = expectPage(await submit(wrong.jar, proof, { username: 'bob', password: 'bob-pass-1' }, SHOP));
  expect(refused.status).toBe(403);

  const started = await firstPage();
  const asked = expectPage(await pressUpstream(started, 'upstream'));
  expect(
    await subOf(started, expectCallback(await submit(started.jar, asked, { username: 'alice', password: 'alice-pass-1' }, SHOP))),
  ).toBe('u-1001');
  // Linked: the next sign-in through the upstream is alice at once.
  const again = await firstPage();
  expect(await subOf(again, expectCallback(await pressUpstream(again, 'upstream')))).toBe('u-1001');

  const token = await adminToken(demo.server);
  const listed = await adminRequest(demo.server, 'GET', '/admin/directory/users/u-1001/links', { token });
  expect(listed.status).toBe(200);
  const links = (listed.body as { links: { id: string; upstream: string; upstream_sub: string; how: string }[] }).links;
  expect(links).toEqual([expect.objectContaining({ upstream: 'upstream', upstream_sub: 'dave', how: 'password' })]);
  const removed = await adminRequest(demo.server, 'DELETE', `/admin/directory/users/u-1001/links/${encodeURIComponent(links[0]!.id)}`, {
    token,
  });
  expect(removed.status).toBe(204);
  expect(
    (await adminRequest(demo.server, 'DELETE', `/admin/directory/users/u-1001/links/${encodeURIComponent(links[0]!.id)}`, { token }))
      .status,
  ).toBe(404);
  expect(
    ((await adminRequest(demo.server, 'GET', '/admin/directory/users/u-1001/links', { token })).body as { links: unknown[] }).links,
  ).toEqual([]);
  // Unlinked: proof is asked for again.
  const after = await firstPage();
  expect(expectPage(await pressUpstream(after, 'upstream')).html).toContain('Sign in once more to link your accounts');
});

describeWithChromium('the demo shoppers through the upstream in Chromium')('in Chromium', () => {
  /** One sign-in to shop-web in a fresh browser context (no single sign-on carried over): the subject it ends with. */
  async function browserSignIn(act: (page: import('playwright-core').Page) => Promise<void>): Promise<string> {
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext()).newPage();
      const config = await discover(demo.issuer(), 'shop-web');
      const request = await authorizationRequest(config, SHOP);
      const callback = page.waitForRequest((r) => r.url().startsWith(`${SHOP}?`), { timeout: 20_000 });
      await page.goto(request.url);
      await act(page);
      const tokens = await client.authorizationCodeGrant(config, new URL((await callback).url()), {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
      });
      return tokens.claims()?.sub as string;
    } finally {
      await browser.close();
    }
  }
  const pressUpstreamIn = (page: import('playwright-core').Page) => page.getByRole('button', { name: 'Sign in with Upstream' }).click();

  test('carol signs in through the upstream (an account made just in time), then again (the same account)', async () => {
    upstreamUser = 'carol-browser';
    claims = { email: 'carol.browser@example.com', email_verified: true, name: 'Carol' };
    const first = await browserSignIn(pressUpstreamIn);
    expect(first).toMatch(/^fed-/);
    expect(await browserSignIn(pressUpstreamIn)).toBe(first);
  }, 60_000);

  test("erin's unverified email matches bob: she proves bob's account, and the link is made", async () => {
    upstreamUser = 'erin';
    claims = { email: 'bob@example.com', email_verified: false, name: 'Erin' };
    const sub = await browserSignIn(async (page) => {
      await pressUpstreamIn(page);
      await page.getByRole('heading', { name: 'Sign in once more to link your accounts' }).waitFor();
      await page.getByLabel('Username').fill('bob');
      await page.getByLabel('Password').fill('bob-pass-1');
      await page.getByRole('button', { name: 'Continue' }).click();
    });
    expect(sub).toBe('u-1002');
    expect(await browserSignIn(pressUpstreamIn)).toBe('u-1002');
  }, 60_000);
});
