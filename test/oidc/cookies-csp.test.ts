/**
 * Issue 24, item 7: session cookies are scoped to their tenant's door (acme's end_session does
 * not end demo's single sign-on), the provider's form_post page runs its script by a CSP nonce
 * (no 'unsafe-inline'), and the hosted login's CSP restricts form-action.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { authorizationRequest, CookieJar, discover, expectPage, follow, passwordLogin, startOidcDemo, type OidcDemo } from './support.js';

const SHOP_WEB = 'http://localhost:3000/callback';
let demo: OidcDemo;

beforeAll(async () => {
  demo = await startOidcDemo();
}, 60_000);
afterAll(() => demo?.close());

it("sets session cookies at /oidc/<tenant>, so acme's session/end leaves demo's sign-on alone", async () => {
  const web = await discover(demo.issuer(), 'shop-web');
  const jar = new CookieJar();
  const request = await authorizationRequest(web, SHOP_WEB);
  // A browser keeps each cookie at its path: the jar notes them.
  const pathOf = new Map<string, string>();
  const note = (res: Response) => {
    for (const line of res.headers.getSetCookie()) pathOf.set(line.split('=')[0] as string, /;\s*path=([^;]+)/i.exec(line)?.[1] ?? '/');
  };
  const fetched = jar.fetch.bind(jar);
  jar.fetch = async (url, init) => {
    const res = await fetched(url, init);
    note(res);
    return res;
  };
  await passwordLogin(jar, request.url, SHOP_WEB, 'alice', 'alice-pass-1');
  expect(pathOf.size).toBeGreaterThan(0);
  for (const path of pathOf.values()) expect(path.startsWith('/oidc/demo')).toBe(true);
  // acme's end_session, with only the cookies a browser sends there (those at a path above /oidc/acme).
  const atAcme = new CookieJar();
  for (const [name, value] of jar.cookies) if ('/oidc/acme/'.startsWith(pathOf.get(name) as string)) atAcme.cookies.set(name, value);
  const end = await atAcme.fetch(`${demo.issuer('acme')}/session/end`);
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(await end.text())?.[1];
  if (xsrf) {
    const done = await atAcme.fetch(`${demo.issuer('acme')}/session/end/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    });
    // What acme's answer sets or clears reaches demo's cookies only at a path above /oidc/demo.
    for (const line of done.headers.getSetCookie()) expect(/;\s*path=([^;]+)/i.exec(line)?.[1]).toBe('/oidc/acme');
  }
  // Still signed in at demo: the next authorization goes straight back to the app.
  const again = await authorizationRequest(web, SHOP_WEB);
  const result = await follow(jar, again.url, SHOP_WEB);
  expect('callback' in result).toBe(true);
});

it('serves the form_post page with a CSP nonce that its inline script carries', async () => {
  const web = await discover(demo.issuer(), 'shop-web');
  const jar = new CookieJar();
  const request = await authorizationRequest(web, SHOP_WEB, { response_mode: 'form_post' });
  const page = expectPage(await follow(jar, request.url, SHOP_WEB));
  const body = new URLSearchParams({ csrf: page.csrf as string, username: 'alice', password: 'alice-pass-1' }).toString();
  let res = await jar.fetch(new URL(page.action as string, page.url).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  for (let hops = 0; hops < 6 && res.status >= 300 && res.status < 400; hops++)
    res = await jar.fetch(new URL(res.headers.get('location') as string, demo.base).href);
  expect(res.status).toBe(200);
  const html = await res.text();
  expect(html).toContain(`action="${SHOP_WEB}"`);
  const csp = res.headers.get('content-security-policy') as string;
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
  expect(nonce).toBeDefined();
  expect(csp).not.toContain('unsafe-inline');
  expect(html).toContain(`<script nonce="${nonce}">`);
  expect(html).not.toContain('<script>');
});

it("sets form-action on the hosted login's pages: itself and the app's origin", async () => {
  const web = await discover(demo.issuer(), 'shop-web');
  const request = await authorizationRequest(web, SHOP_WEB);
  const jar = new CookieJar();
  let res = await jar.fetch(request.url);
  while (res.status >= 300 && res.status < 400) res = await jar.fetch(new URL(res.headers.get('location') as string, demo.base).href);
  expect(res.status).toBe(200);
  // And the demo's upstream, where its "Sign in with Upstream" button leads (a step's alternative).
  expect(res.headers.get('content-security-policy')).toMatch(/form-action 'self' http:\/\/localhost:3000 http:\/\/127\.0\.0\.1:4000(;|$)/);
});
