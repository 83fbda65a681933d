/**
 * The hosted login's language over HTTP: ui_locales first, then Accept-Language, then the
 * pool's `language`; a malformed or unknown tag falls back; refusals keep their code in any language.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  authorizationRequest,
  CookieJar,
  discover,
  expectPage,
  follow,
  parsePage,
  startOidcDemo,
  submit,
  type OidcDemo,
} from './support.js';

const SHOP = 'http://localhost:3000/callback';
const PARTNERS = 'http://localhost:3002/callback';

describe('hosted login languages', () => {
  let demo: OidcDemo;
  beforeAll(async () => {
    demo = await startOidcDemo({
      edit: (fixture) => {
        const main = fixture.readJson('config/authpipe.json') as any;
        main.oidc.tenants.demo.pools.partners.language = 'sv';
        fixture.writeMain(main);
      },
    });
  });
  afterAll(() => demo?.close());

  async function open(app: 'shop-web' | 'partner-portal', extra: Record<string, string>, acceptLanguage?: string) {
    const jar = new CookieJar();
    const request = await authorizationRequest(await discover(demo.issuer(), app), app === 'shop-web' ? SHOP : PARTNERS, extra);
    const first = expectPage(await follow(jar, request.url, SHOP));
    // The interaction page again, as the browser sends it: with its Accept-Language.
    const res = await jar.fetch(first.url, acceptLanguage ? { headers: { 'accept-language': acceptLanguage } } : {});
    const page = parsePage(first.url, res.status, await res.text());
    return { jar, page, lang: /<html lang="([^"]+)"/.exec(page.html)?.[1] };
  }

  it.each([
    ['ui_locales first', { ui_locales: 'sv' }, 'de', 'sv', 'Logga in'],
    ['Accept-Language next', {}, 'fi, de-CH;q=0.9, sv;q=0.5', 'de', 'Anmelden'],
    ['English by default', {}, undefined, 'en', 'Sign in'],
    ['a malformed ui_locales, then Accept-Language', { ui_locales: '<sv>' }, 'x_y, sv', 'sv', 'Logga in'],
    ['unknown tags everywhere: the default', { ui_locales: 'tlh fi' }, 'xx-!!, *;q=0.5', 'en', 'Sign in'],
  ])('%s', async (_name, extra, accept, expected, title) => {
    const { page, lang } = await open('shop-web', extra, accept);
    expect(page.status).toBe(200);
    expect([lang, page.html.includes(`<h1>${title}</h1>`)]).toEqual([expected, true]);
    if (expected === 'sv') expect(page.html).toContain('Demobutik');
  });

  it("takes the pool's language when nothing else names one, and says a refusal by its code in it", async () => {
    const { jar, page, lang } = await open('partner-portal', {});
    expect(lang).toBe('sv');
    expect(page.html).toContain('<label for="f-0">Användarnamn</label>');
    const refused = expectPage(await submit(jar, page, { username: 'alice', password: 'wrong' }, PARTNERS));
    expect(refused.errorCode).toBe('INVALID_CREDENTIALS');
    expect(refused.html).toContain('Uppgifterna godtogs inte.');
  });
});
