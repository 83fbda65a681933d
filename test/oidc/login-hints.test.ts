/**
 * What an app's authorization request tells the hosted login (OpenID Connect Core §3.1.2.1),
 * driven with openid-client over real HTTP: `login_hint` fills the first page's username,
 * `ui_locales` chooses the page's language before the browser's. (`acr_values` reaches every
 * step's pipe as the request property `acr_values`: see step-up.test.ts, where the demo's
 * partners pool asks for the SMS code when an app sends `mfa`.)
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  authorizationRequest,
  CookieJar,
  discover,
  expectCallback,
  loadIssuesOf,
  parsePage,
  startOidcDemo,
  submit,
  type OidcDemo,
} from './support.js';
import { ConfigFixture } from '../support/fixture.js';

const SHOP_WEB = 'http://localhost:3000/callback';

let demo: OidcDemo;
beforeAll(async () => {
  demo = await startOidcDemo();
});
afterAll(() => demo?.close());

async function firstPage(extra: Record<string, string>, headers: Record<string, string> = {}) {
  const request = await authorizationRequest(await discover(demo.issuer(), 'shop-web'), SHOP_WEB, extra);
  const jar = new CookieJar();
  // The browser sends its Accept-Language with every request: the authorization request and the page it leads to.
  const started = await jar.fetch(request.url, { headers });
  const pageUrl = new URL(started.headers.get('location') as string, request.url).href;
  const res = await jar.fetch(pageUrl, { headers });
  return { jar, page: parsePage(pageUrl, res.status, await res.text()) };
}

const inputValue = (html: string, name: string) =>
  new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(html)?.[0].match(/value="([^"]*)"/)?.[1];
const langOf = (html: string) => /<html lang="([^"]+)"/.exec(html)?.[1];

describe('login_hint', () => {
  it('fills the username of the first page, and the sign-in goes on with it', async () => {
    const { jar, page } = await firstPage({ login_hint: 'alice' });
    expect(inputValue(page.html, 'username')).toBe('alice');
    expect(inputValue(page.html, 'password') ?? '').toBe('');
    expectCallback(await submit(jar, page, { username: inputValue(page.html, 'username') as string, password: 'alice-pass-1' }, SHOP_WEB));
  });

  it('is escaped, never markup', async () => {
    const { page } = await firstPage({ login_hint: '"><script>x</script>' });
    expect(page.html).not.toContain('<script>x</script>');
    expect(inputValue(page.html, 'username')).toBe('&quot;&gt;&lt;script&gt;x&lt;/script&gt;');
  });

  it('leaves the page empty without one, and ignores one too long for the field', async () => {
    expect(inputValue((await firstPage({})).page.html, 'username') ?? '').toBe('');
    expect(inputValue((await firstPage({ login_hint: 'a'.repeat(5000) })).page.html, 'username') ?? '').toBe('');
  });
});

describe('ui_locales', () => {
  it.each([
    ['sv', 'sv'],
    ['de-DE en', 'de'],
    ['fr sv', 'sv'],
  ])('ui_locales=%s shows the page in %s', async (uiLocales, lang) => {
    const { page } = await firstPage({ ui_locales: uiLocales }, { 'accept-language': 'en' });
    expect(langOf(page.html)).toBe(lang);
  });

  it('comes before Accept-Language; an unknown one falls back to it', async () => {
    expect(langOf((await firstPage({ ui_locales: 'de' }, { 'accept-language': 'sv' })).page.html)).toBe('de');
    expect(langOf((await firstPage({ ui_locales: 'fr' }, { 'accept-language': 'sv' })).page.html)).toBe('sv');
  });
});

describe('acr_values at load', () => {
  it('refuses a form field named acr_values: the login sets it (CONFIG_INVALID)', async () => {
    const fixture = ConfigFixture.fromDemo();
    try {
      const main = fixture.readJson('config/authpipe.json') as {
        oidc: { tenants: { demo: { pools: { shoppers: { steps: { fields: { name: string }[] }[] } } } } };
      };
      main.oidc.tenants.demo.pools.shoppers.steps[0]?.fields.push({ name: 'acr_values' });
      fixture.writeMain(main);
      expect(await loadIssuesOf(fixture)).toEqual([
        expect.objectContaining({ code: 'CONFIG_INVALID', pointer: '/oidc/tenants/demo/pools/shoppers/steps/0/fields/2/name' }),
      ]);
    } finally {
      fixture.cleanup();
    }
  });
});
