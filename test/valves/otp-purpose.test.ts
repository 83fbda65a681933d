import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../support/clock.js';
import { basic } from '../support/credentials.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { messageFor, outboxOf, readOutbox } from '../otp/outbox.js';

/**
 * One-time codes per operation and purpose (issue 24, item 4), on the shipped demo pipes:
 * public otp-start, till-approval-start (to a store manager) and login-sms-send (the partners'
 * hosted-login step) each keep their own cooldown and hourly count per recipient, a refused
 * otp-start starts no cooldown, and a code is redeemed only where its purpose is expected.
 * The shipped limits are kept; only the senders write to a temp outbox.
 */
const MANAGER = { id: 'u-2001', mobile: '+15550000101' };
let fixture: ConfigFixture;
let outbox: string;
let server: RunningServer;
const clock = new ManualClock(Date.UTC(2026, 0, 1));

function redirectSender(operation: string): void {
  const file = join(fixture.dir, 'pipes', `${operation}.json`);
  const pipe = JSON.parse(readFileSync(file, 'utf8'));
  const issue = pipe.valves.find((v: { name: string }) => v.name === 'otp-issue');
  expect(issue.config.sender).toEqual({ type: 'outbox', file: 'var/otp-outbox.jsonl' });
  issue.config.sender = { type: 'outbox', file: outbox };
  fixture.writePipe(operation, pipe);
}

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  outbox = join(fixture.dir, 'var', 'otp-outbox.jsonl');
  for (const operation of ['otp-start', 'till-approval-start', 'login-sms-send']) redirectSender(operation);
  const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
  main.log = { level: 'silent' };
  // The hosted login's SMS step, called over PUT here so the test can send its codes directly.
  main.modules[0].config.tenant.find((t: { id: string }) => t.id === 'demo').allowedOperation.push('login-sms-send', 'login-sms-verify');
  fixture.writeMain(main);
  server = await startServer({ configFile: fixture.mainFile, clock });
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

/** The message an operation's last call sent (waits for the delivery queue). */
async function sentBy(res: { status: number; body: Record<string, unknown> }, before: number) {
  expect(res.status).toBe(200);
  const sent = (await outboxOf(outbox, before + 1)).slice(before);
  expect(sent).toHaveLength(1);
  return sent[0] as NonNullable<(typeof sent)[0]>;
}

const otpStart = (mobile: string) => server.call('otp-start', { mobile });
const approvalStart = () => server.call('till-approval-start', {}, { authorization: basic('till-001', 'till-001-pass') });
const smsStep = (sub: string) => server.call('login-sms-send', { login_sub: sub });

describe('one-time codes per operation and purpose', () => {
  it('otp-start accepted then refused for a number: the approval and the sign-in step still send to it', async () => {
    const first = await otpStart(MANAGER.mobile);
    expect((await messageFor(outbox, first.body.transaction_id as string)).recipient).toBe(MANAGER.mobile);
    const again = await otpStart(MANAGER.mobile);
    expect(again.status).toBe(403);
    expect(again.body.errorTranslationKeys).toEqual(['RATE_LIMITED']);

    let before = readOutbox(outbox).length;
    expect((await sentBy(await approvalStart(), before)).recipient).toBe(MANAGER.mobile);
    before = readOutbox(outbox).length;
    expect((await sentBy(await smsStep(MANAGER.id), before)).recipient).toBe(MANAGER.mobile);

    // otp-start's hourly count used up for the number: the other operations still send.
    for (let i = 0; i < 5; i++) {
      clock.advance(31_000);
      await otpStart(MANAGER.mobile);
    }
    const hourly = await otpStart(MANAGER.mobile);
    expect(hourly.status).toBe(403);
    expect(hourly.body.errorTranslationKeys).toEqual(['RATE_LIMITED']);
    before = readOutbox(outbox).length;
    expect((await sentBy(await approvalStart(), before)).recipient).toBe(MANAGER.mobile);
    before = readOutbox(outbox).length;
    expect((await sentBy(await smsStep(MANAGER.id), before)).recipient).toBe(MANAGER.mobile);
    clock.advance(3_600_000); // every window of this test has passed
  });

  it('a refused otp-start starts no cooldown: the first second of the next hour sends', async () => {
    const mobile = '+15550000003';
    for (let i = 0; i < 5; i++) {
      expect((await otpStart(mobile)).status).toBe(200);
      if (i < 4) clock.advance(30_000);
    }
    clock.advance(3_600_000 - 4 * 30_000 - 5_000); // 5 s before the hour ends
    const refused = await otpStart(mobile);
    expect(refused.status).toBe(403);
    expect(refused.body.errorTranslationKeys).toEqual(['RATE_LIMITED']);
    expect(refused.headers.get('retry-after')).toBe('5');
    clock.advance(5_000);
    // Had the refusal claimed the 30 s cooldown, this would be refused for 25 s more.
    expect((await otpStart(mobile)).status).toBe(200);
    clock.advance(3_600_000);
  });

  it('an approval code is refused at the public otp-verify (and still approves at till-approval-verify)', async () => {
    const before = readOutbox(outbox).length;
    const started = await approvalStart();
    const sent = await sentBy(started, before);
    const res = await server.call('otp-verify', { transaction_id: sent.transaction_id, otp: sent.code });
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['OTP_INVALID']);
    expect(res.body.erroneousProperties).toEqual(['transaction_id']);
    expect(res.body.access_token).toBeUndefined();
    const approved = await server.call('till-approval-verify', { flow_id: started.body.flow_id as string, otp: sent.code });
    expect(approved.status).toBe(200);
    expect(approved.body.approved_by).toBe(MANAGER.id);
    clock.advance(31_000);
  });

  it("a hosted-login step's code is refused at the public otp-verify; otp-start's code is refused at the step", async () => {
    let before = readOutbox(outbox).length;
    const step = await sentBy(await smsStep(MANAGER.id), before);
    const atPublic = await server.call('otp-verify', { transaction_id: step.transaction_id, otp: step.code });
    expect(atPublic.status).toBe(403);
    expect(atPublic.body.errorTranslationKeys).toEqual(['OTP_INVALID']);

    before = readOutbox(outbox).length;
    const pub = await sentBy(await otpStart(MANAGER.mobile), before);
    const atStep = await server.call('login-sms-verify', { transaction_id: pub.transaction_id, otp: pub.code });
    expect(atStep.status).toBe(403);
    expect(atStep.body.errorTranslationKeys).toEqual(['OTP_INVALID']);
    // Each where it belongs.
    expect((await server.call('login-sms-verify', { transaction_id: step.transaction_id, otp: step.code })).status).toBe(200);
    expect((await server.call('otp-verify', { transaction_id: pub.transaction_id, otp: pub.code })).status).toBe(200);
  });
});
