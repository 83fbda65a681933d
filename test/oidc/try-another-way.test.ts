/**
 * "Try another way": the demo's partners pool lets the SMS code step be passed with the
 * authenticator app instead. The page offers only the ways the step lists; a forged choice, a
 * choice on a step without alternatives and one inside a self-service flow are refused with
 * STEP_NOT_OFFERED, and the step stays as it was. Coming back to the SMS way sends a new code.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { base32Decode, totp } from '../../src/otp/hotp.js';
import { outboxOf, readOutbox } from '../otp/outbox.js';
import {
  CookieJar,
  discover,
  expectCallback,
  expectPage,
  follow,
  openLogin,
  setSmsSendLimits,
  startOidcDemo,
  submit,
  type LoginPage,
  type OidcDemo,
} from './support.js';

const PARTNERS = 'http://localhost:3002/callback';
const SHOP = 'http://localhost:3000/callback';

let demo: OidcDemo;
let aliceSecret: Buffer;
beforeAll(async () => {
  demo = await startOidcDemo({
    // Codes as often as the tests ask.
    edit: (fixture) => setSmsSendLimits(fixture, { cooldown_seconds: 0, max_per_hour: 100 }),
  });
  aliceSecret = base32Decode(readFileSync(join(demo.fixture.dir, 'config', 'secrets', 'alice.totp'), 'utf8').trim()) as Buffer;
});
afterAll(() => demo?.close());

/** A new browser (so the risk asks for the code) at the partners' code step. */
async function atCodeStep(): Promise<{ jar: CookieJar; page: LoginPage; code: string }> {
  const jar = new CookieJar();
  const { page: first } = await openLogin(jar, await discover(demo.issuer(), 'partner-portal'), PARTNERS);
  expect(first.html).not.toContain('name="way"');
  const before = readOutbox(demo.outbox).length;
  const page = expectPage(await submit(jar, first, { username: 'alice', password: 'alice-pass-1' }, PARTNERS));
  expect(page.html).toContain('name="otp"');
  const code = (await outboxOf(demo.outbox, before + 1))[before]?.code as string;
  return { jar, page, code };
}

const ways = (page: LoginPage) => [...page.html.matchAll(/name="way" value="([^"]+)"/g)].map((m) => m[1]);
/** Posts a "Try another way" choice with the page's csrf. */
const choose = (jar: CookieJar, page: LoginPage, way: string, stopAt = PARTNERS) => submit(jar, page, { way }, stopAt).then(expectPage);

describe('try another way', () => {
  it('offers the app on the SMS step, and the app code signs in', async () => {
    const { jar, page } = await atCodeStep();
    expect(ways(page)).toEqual(['app']);
    expect(page.html).toContain('name="resend"');
    const app = await choose(jar, page, 'app');
    expect(app.status).toBe(200);
    expect(app.html).toContain('Enter the code from your authenticator app');
    expect(app.html).toContain('name="otp"');
    // The app sends nothing: no "send a new code"; the SMS way is offered back.
    expect(app.html).not.toContain('name="resend"');
    expect(ways(app)).toEqual(['default']);
    // A wrong app code stays on the app's way.
    const right = totp(aliceSecret, Date.now());
    const wrong = expectPage(await submit(jar, app, { otp: right === '000000' ? '111111' : '000000' }, PARTNERS));
    expect([wrong.status, wrong.html.includes('Code from the app'), ways(wrong)]).toEqual([403, true, ['default']]);
    expectCallback(await submit(jar, wrong, { otp: right }, PARTNERS));
  });

  it('refuses a way the step does not list with STEP_NOT_OFFERED, and the step stays', async () => {
    const { jar, page, code } = await atCodeStep();
    for (const forged of ['passkey', 'APP', '', 'app '.repeat(3)]) {
      const refused = await choose(jar, page, forged);
      expect([refused.status, refused.errorCode]).toEqual([403, 'STEP_NOT_OFFERED']);
      expect(refused.html).toContain('Code from the SMS');
      expect(ways(refused)).toEqual(['app']);
    }
    // The SMS code still passes: the refused choices changed nothing.
    expectCallback(await submit(jar, page, { otp: code }, PARTNERS));
  });

  it('refuses a choice on a step without alternatives and inside a self-service flow', async () => {
    const jar = new CookieJar();
    const { page: first } = await openLogin(jar, await discover(demo.issuer(), 'partner-portal'), PARTNERS);
    const refused = await choose(jar, first, 'app');
    expect([refused.status, refused.errorCode]).toEqual([403, 'STEP_NOT_OFFERED']);
    expect(refused.html).toContain('name="password"');

    const shopper = new CookieJar();
    const { page: signIn } = await openLogin(shopper, await discover(demo.issuer(), 'shop-web'), SHOP);
    const signUp = expectPage(await follow(shopper, `${signIn.url}?flow=sign_up`, SHOP));
    expect(signUp.html).toContain('name="mobile"');
    const inFlow = await choose(shopper, signUp, 'default', SHOP);
    expect([inFlow.status, inFlow.errorCode]).toEqual([403, 'STEP_NOT_OFFERED']);
    expect(inFlow.html).toContain('name="mobile"');
  });

  it('coming back to the SMS way sends a new code, which signs in', async () => {
    const { jar, page } = await atCodeStep();
    const app = await choose(jar, page, 'app');
    const before = readOutbox(demo.outbox).length;
    const back = await choose(jar, app, 'default');
    expect(back.html).toContain('Code from the SMS');
    expect(ways(back)).toEqual(['app']);
    const code = (await outboxOf(demo.outbox, before + 1))[before]?.code as string;
    expectCallback(await submit(jar, back, { otp: code }, PARTNERS));
  });
});
