/**
 * The hosted login's two former dead ends: the username stays filled in after a wrong password
 * (the password does not), and once the SMS code's attempts are spent the page goes back to the
 * first step at the third wrong code and says so (FLOW_INVALID) instead of offering a code field
 * that can never pass.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { outboxOf, readOutbox } from '../otp/outbox.js';
import {
  CookieJar,
  discover,
  expectCallback,
  expectPage,
  openLogin,
  setSmsSendLimits,
  startOidcDemo,
  submit,
  type OidcDemo,
} from './support.js';

const PARTNERS = 'http://localhost:3002/callback';

describe('hosted login dead ends', () => {
  let demo: OidcDemo;
  beforeAll(async () => {
    demo = await startOidcDemo({
      // A fresh code right after the dead one.
      edit: (fixture) => setSmsSendLimits(fixture, { cooldown_seconds: 0 }),
    });
  });
  afterAll(() => demo?.close());

  async function start() {
    const jar = new CookieJar();
    return { jar, first: (await openLogin(jar, await discover(demo.issuer(), 'partner-portal'), PARTNERS)).page };
  }

  async function codeStep(jar: CookieJar, first: ReturnType<typeof expectPage>) {
    const before = readOutbox(demo.outbox).length;
    const page = expectPage(await submit(jar, first, { username: 'alice', password: 'alice-pass-1' }, PARTNERS));
    expect(page.html).toContain('name="otp"');
    const code = (await outboxOf(demo.outbox, before + 1))[before]?.code as string;
    return { page, code, wrong: code === '000000' ? '111111' : '000000' };
  }

  it('keeps the username after a wrong password, never the password', async () => {
    const { jar, first } = await start();
    const refused = expectPage(await submit(jar, first, { username: 'alice', password: 'wrong-password' }, PARTNERS));
    expect(refused.errorCode).toBe('INVALID_CREDENTIALS');
    expect(refused.html).toMatch(/<input id="f-0" name="username"[^>]* value="alice"/);
    expect(refused.html).toMatch(/<input id="f-1" name="password"[^>]* value=""[^>]* autofocus/);
  });

  it('goes back to the first step on the third wrong code, and a fresh sign-in sends a fresh code', async () => {
    const { jar, first } = await start();
    const { page, wrong } = await codeStep(jar, first);
    let current = page;
    for (let i = 0; i < 2; i++) {
      current = expectPage(await submit(jar, current, { otp: wrong }, PARTNERS));
      expect([current.status, current.errorCode, current.html.includes('name="otp"')]).toEqual([403, 'OTP_INVALID', true]);
    }
    // The third wrong code spends the transaction: the page no longer asks for a code that could never pass.
    const over = expectPage(await submit(jar, current, { otp: wrong }, PARTNERS));
    expect([over.status, over.errorCode]).toEqual([403, 'FLOW_INVALID']);
    expect(over.html).toContain('name="password"');
    expect(over.html).not.toContain('name="otp"');
    // Signing in again sends a new code (the SMS pipe's own limits allow it), and that one passes.
    const fresh = await codeStep(jar, over);
    expect(fresh.page.html).toContain('name="otp"');
    expectCallback(await submit(jar, fresh.page, { otp: fresh.code }, PARTNERS));
  });

  it('bounds "send a new code" by the hourly limit: the 11th code is refused, and the last one sent still signs in', async () => {
    const { jar, first } = await start();
    const before = readOutbox(demo.outbox).length;
    let page = expectPage(await submit(jar, first, { username: 'bob', password: 'bob-pass-1' }, PARTNERS));
    expect(page.html).toContain('name="resend"');
    // login-sms-send allows 10 codes an hour to one user: the step's own, then 9 more.
    for (let i = 0; i < 9; i++) {
      page = expectPage(await submit(jar, page, { resend: '1' }, PARTNERS));
      expect([page.status, page.errorCode]).toEqual([200, 'notice.code_sent']);
    }
    const refused = expectPage(await submit(jar, page, { resend: '1' }, PARTNERS));
    expect([refused.status, refused.errorCode]).toEqual([403, 'RATE_LIMITED']);
    expect(refused.html).toContain('name="otp"');
    const sent = await outboxOf(demo.outbox, before + 10);
    expect(sent.length - before).toBe(10);
    expectCallback(await submit(jar, refused, { otp: sent[before + 9]?.code as string }, PARTNERS));
  });
});
