/**
 * The hosted login decides pool membership at the first step: a right password for a pool the
 * account is not in is refused there, with the page and code of a wrong password, and never
 * opens a further step; those refusals count apart from the account's own lockout, so guesses
 * on a public pool's page cannot lock a staff account out of its pool.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CookieJar,
  discover,
  expectCallback,
  expectPage,
  openLogin,
  submit,
  startOidcDemo,
  type LoginPage,
  type OidcDemo,
} from './support.js';

let demo: OidcDemo;
beforeAll(async () => {
  demo = await startOidcDemo();
});
afterAll(() => demo?.close());

const APPS = {
  'shop-web': 'http://localhost:3000/callback',
  'partner-portal': 'http://localhost:3002/callback',
  'authpipe-console': 'http://127.0.0.1:9090/console/callback',
} as const;

async function loginPage(jar: CookieJar, app: keyof typeof APPS): Promise<LoginPage> {
  return (await openLogin(jar, await discover(demo.issuer(), app), APPS[app])).page;
}

/** The alert's code and text, and the page's form fields: what a browser sees of a refusal. */
const refusalOf = (page: LoginPage) => ({
  status: page.status,
  code: page.errorCode,
  message: /role="alert"[^>]*>([^<]*)</.exec(page.html)?.[1],
  fields: [...page.html.matchAll(/<input id="[^"]+" name="([^"]+)"/g)].map((m) => m[1]),
});

describe('pool membership at the first step', () => {
  it.each([
    ['shop-web', 'ops-admin', 'ops-admin-pass', 'alice'],
    ['partner-portal', 'ops-admin', 'ops-admin-pass', 'alice'],
    ['authpipe-console', 'alice', 'alice-pass-1', 'ops-admin'],
  ] as const)('%s: %s with the right password reads as a wrong password', async (app, outsider, password, member) => {
    const jar = new CookieJar();
    const page = await loginPage(jar, app);
    const right = expectPage(await submit(jar, page, { username: outsider, password }, APPS[app]));
    const wrong = expectPage(await submit(jar, right, { username: member, password: 'not-the-password' }, APPS[app]));
    const unknown = expectPage(await submit(jar, wrong, { username: 'nobody-at-all', password }, APPS[app]));
    expect(refusalOf(right)).toEqual(refusalOf(wrong));
    expect(refusalOf(unknown)).toEqual(refusalOf(wrong));
    // The shoppers pool (shop-web) offers "Remember me" beside the two fields.
    const fields = app === 'shop-web' ? ['username', 'password', 'remember'] : ['username', 'password'];
    expect(refusalOf(right)).toMatchObject({ status: 403, code: 'INVALID_CREDENTIALS', fields });
  });

  it('no SMS is sent for a user of another pool on the partners page', async () => {
    const jar = new CookieJar();
    const page = await loginPage(jar, 'partner-portal');
    const after = expectPage(await submit(jar, page, { username: 'ops-admin', password: 'ops-admin-pass' }, APPS['partner-portal']));
    expect(after.html).not.toContain('name="otp"');
    // The same interaction still takes a member on to the SMS step.
    const member = expectPage(await submit(jar, after, { username: 'alice', password: 'alice-pass-1' }, APPS['partner-portal']));
    expect(member.html).toContain('name="otp"');
  });

  it('guesses for ops-admin on the public shop page do not lock him out of the staff pool', async () => {
    const jar = new CookieJar();
    let page = await loginPage(jar, 'shop-web');
    for (let i = 0; i < 7; i++) {
      page = expectPage(await submit(jar, page, { username: 'ops-admin', password: `guess-${i}` }, APPS['shop-web']));
      expect(page.errorCode).toBe('INVALID_CREDENTIALS');
    }
    // Right password, still refused on shop-web, and still nothing locked for the staff pool.
    page = expectPage(await submit(jar, page, { username: 'ops-admin', password: 'ops-admin-pass' }, APPS['shop-web']));
    expect(page.errorCode).toBe('INVALID_CREDENTIALS');
    const staff = new CookieJar();
    const console = await loginPage(staff, 'authpipe-console');
    expect(
      expectCallback(await submit(staff, console, { username: 'ops-admin', password: 'ops-admin-pass' }, APPS['authpipe-console'])),
    ).toContain('code=');
  });

  it('guesses by a member of the pool still count towards the account lockout', async () => {
    const jar = new CookieJar();
    let page = await loginPage(jar, 'shop-web');
    for (let i = 0; i < 5; i++) page = expectPage(await submit(jar, page, { username: 'bob', password: `guess-${i}` }, APPS['shop-web']));
    page = expectPage(await submit(jar, page, { username: 'bob', password: 'bob-pass-1' }, APPS['shop-web']));
    expect(page.errorCode).toBe('INVALID_CREDENTIALS');
  });
});
