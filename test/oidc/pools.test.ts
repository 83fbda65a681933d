/**
 * User pools over plain HTTP (one cookie jar is one browser): single sign-on between apps of
 * one pool, a login prompt for an app of another pool, and pool membership of users.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  authorizationRequest,
  CookieJar,
  discover,
  expectCallback,
  expectPage,
  follow,
  passwordLogin,
  startOidcDemo,
  type OidcDemo,
} from './support.js';

let demo: OidcDemo;
beforeAll(async () => {
  demo = await startOidcDemo();
});
afterAll(() => demo?.close());

describe('user pools', () => {
  it('shares a login between apps of one pool and prompts for another pool', async () => {
    const jar = new CookieJar();
    const web = await authorizationRequest(await discover(demo.issuer(), 'shop-web'), 'http://localhost:3000/callback');
    await passwordLogin(jar, web.url, 'http://localhost:3000/callback', 'alice', 'alice-pass-1');
    const app = await authorizationRequest(await discover(demo.issuer(), 'shop-app'), 'http://localhost:3001/callback');
    expect(expectCallback(await follow(jar, app.url, 'http://localhost:3001/callback'))).toContain('code=');
    const portal = await authorizationRequest(await discover(demo.issuer(), 'partner-portal'), 'http://localhost:3002/callback');
    const page = expectPage(await follow(jar, portal.url, 'http://localhost:3002/callback'));
    expect(page.status).toBe(200);
    expect(page.html).toContain('name="password"');
  });
});
