import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { ManualClock } from '../support/clock.js';
import { MemoryStore } from '../../src/store/memory.js';
import { slowStore } from '../otp/slow-store.js';
import { tenantPrefix } from '../../src/store/store.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { codeFor, messageFor, readOutbox } from '../otp/outbox.js';

/**
 * otp-issue and otp-verify through real HTTP, with a bare recipient (user_by none) so no
 * directory is involved; directory users are covered in otp-directory.test.ts.
 */
const START = Date.UTC(2026, 0, 1);
let fixture: ConfigFixture;
let outbox: string;
let clock: ManualClock;
let server: RunningServer;
let mobileSeq = 0;

/** A fresh recipient per test, so cooldowns and hourly counts never leak between tests. */
function freshMobile(): string {
  mobileSeq += 1;
  return `+1555${String(1000000 + mobileSeq)}`;
}

beforeAll(async () => {
  fixture = ConfigFixture.minimal(
    [
      { id: 'demo', allowedOperation: ['otp-start', 'otp-verify'] },
      { id: 'acme', allowedOperation: ['otp-start', 'otp-verify'] },
    ],
    {
      'otp-verify': { valves: [{ name: 'otp-verify', config: { expects: 'recipient' } }], response: ['channel', 'recipient'] },
    },
  );
  outbox = join(fixture.dir, 'var', 'otp-outbox.jsonl');
  fixture.writePipe('otp-start', {
    valves: [{ name: 'otp-issue', config: { user_by: 'none', sender: { type: 'outbox', file: outbox } } }],
    response: ['transaction_id'],
  });
  clock = new ManualClock(START);
  server = await startServer({ configFile: fixture.mainFile, clock, store: slowStore(new MemoryStore(clock)) });
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

async function start(mobile: string, tenant = 'demo'): Promise<string> {
  const res = await server.call('otp-start', { mobile }, { tenant });
  expect(res.status).toBe(200);
  expect(Object.keys(res.body)).toEqual(['transaction_id']);
  return res.body.transaction_id as string;
}

const verify = (transaction_id: string, otp: string, tenant = 'demo') => server.call('otp-verify', { transaction_id, otp }, { tenant });

describe('otp-issue', () => {
  it('answers only a 192-bit transaction id, sends a 6-digit code, and stores only its hash', async () => {
    const mobile = freshMobile();
    const id = await start(mobile);
    expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const sent = [await messageFor(outbox, id)];
    expect(readOutbox(outbox).filter((m) => m.transaction_id === id)).toHaveLength(1);
    expect(sent[0]).toEqual({
      tenant: 'demo',
      recipient: mobile,
      channel: 'sms',
      code: expect.stringMatching(/^[0-9]{6}$/),
      transaction_id: id,
      at: new Date(clock.now()).toISOString(),
    });

    const stored = await server.app.store.get(`${tenantPrefix('demo')}otp:tx:${id}`);
    expect(stored).not.toBeNull();
    const record = JSON.parse(stored as string);
    expect(record).toMatchObject({ v: 1, r: mobile, c: 'sms', d: 6, e: clock.now() + 300_000 });
    expect(stored).not.toContain(`"${sent[0]?.code}"`);
    expect(Buffer.from(record.h, 'base64url')).toHaveLength(32);
    expect(await server.app.store.ttl(`${tenantPrefix('demo')}otp:tx:${id}`)).toBe(300_000);
  });

  it('gives every transaction its own id and an unpredictable code', async () => {
    const ids = new Set<string>();
    const codes = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const id = await start(freshMobile());
      ids.add(id);
      codes.add(await codeFor(outbox, id));
    }
    expect(ids.size).toBe(20);
    // 20 draws from 10^6: a repeat has probability ~2e-4; many repeats would mean a broken source.
    expect(codes.size).toBeGreaterThanOrEqual(19);
  });

  it('refuses a malformed recipient with INVALID_REQUEST naming it, and sends nothing', async () => {
    const before = readOutbox(outbox).length;
    for (const mobile of ['', '5550000001', '+0555000000', '+1555 000 0001', '+１５５５００００００１', '+1'.padEnd(1000, '5')]) {
      const res = await server.call('otp-start', { mobile });
      expect(res.status).toBe(403);
      expect(res.body.errorTranslationKeys).toEqual(['INVALID_REQUEST']);
      expect(res.body.erroneousProperties).toEqual(['mobile']);
    }
    expect((await server.call('otp-start', {})).body.errorTranslationKeys).toEqual(['INVALID_REQUEST']);
    expect(readOutbox(outbox)).toHaveLength(before);
  });

  it('holds a 30 s resend cooldown per recipient, with Retry-After', async () => {
    const mobile = freshMobile();
    await start(mobile);
    clock.advance(10_000);
    const again = await server.call('otp-start', { mobile });
    expect(again.status).toBe(403);
    expect(again.body.errorTranslationKeys).toEqual(['RATE_LIMITED']);
    expect(again.headers.get('retry-after')).toBe('20');
    await start(freshMobile()); // another recipient is not held back
    clock.advance(20_000);
    await start(mobile);
  });

  it('issues at most 5 codes per recipient per hour', async () => {
    const mobile = freshMobile();
    for (let i = 0; i < 5; i++) {
      await start(mobile);
      clock.advance(30_000);
    }
    const sixth = await server.call('otp-start', { mobile });
    expect(sixth.status).toBe(403);
    expect(sixth.body.errorTranslationKeys).toEqual(['RATE_LIMITED']);
    expect(Number(sixth.headers.get('retry-after'))).toBe(3600 - 150);
    clock.advance(3_600_000 - 150_000);
    await start(mobile);
  });

  it('keeps the limits per tenant', async () => {
    const mobile = freshMobile();
    await start(mobile, 'demo');
    await start(mobile, 'acme');
  });
});

describe('otp-verify', () => {
  it('accepts the right code once: reuse after success is refused', async () => {
    const mobile = freshMobile();
    const id = await start(mobile);
    const code = await codeFor(outbox, id);
    const ok = await verify(id, code);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ channel: 'sms', recipient: mobile });
    const again = await verify(id, code);
    expect(again.status).toBe(403);
    expect(again.body.errorTranslationKeys).toEqual(['OTP_INVALID']);
    expect(await server.app.store.get(`${tenantPrefix('demo')}otp:tx:${id}`)).toBeNull();
  });

  it('allows three attempts: the right code on the third passes, after three wrong ones it is dead', async () => {
    const first = await start(freshMobile());
    const code1 = await codeFor(outbox, first);
    const wrong1 = code1 === '000000' ? '000001' : '000000';
    for (let i = 0; i < 2; i++) {
      const res = await verify(first, wrong1);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ errorTranslationKeys: ['OTP_INVALID'], erroneousProperties: ['otp'] });
    }
    expect((await verify(first, code1)).status).toBe(200);

    const second = await start(freshMobile());
    const code2 = await codeFor(outbox, second);
    const wrong2 = code2 === '000000' ? '000001' : '000000';
    const tries = [];
    for (let i = 0; i < 3; i++) tries.push((await verify(second, wrong2)).body.erroneousProperties);
    // The last wrong try says the transaction is spent too: the caller starts again now, not one try later.
    expect(tries).toEqual([['otp'], ['otp'], ['otp', 'transaction_id']]);
    const late = await verify(second, code2);
    expect(late.status).toBe(403);
    expect(late.body).toMatchObject({ errorTranslationKeys: ['OTP_INVALID'], erroneousProperties: ['transaction_id'] });
  });

  it('expires after 300 s by the clock', async () => {
    // Codes are read as soon as delivered: the queue drops a code that expired before delivery.
    const early = await start(freshMobile());
    const earlyCode = await codeFor(outbox, early);
    clock.advance(299_999);
    expect((await verify(early, earlyCode)).status).toBe(200);

    const late = await start(freshMobile());
    const lateCode = await codeFor(outbox, late);
    clock.advance(300_000);
    const res = await verify(late, lateCode);
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['OTP_INVALID']);
  });

  it('gives exactly one success to 10 parallel verifies of the right code', async () => {
    const id = await start(freshMobile());
    const code = await codeFor(outbox, id);
    const answers = await Promise.all(Array.from({ length: 10 }, () => verify(id, code)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    const refused = answers.filter((a) => a.status !== 200);
    expect(refused).toHaveLength(9);
    for (const a of refused) expect(a.body.errorTranslationKeys).toEqual(['OTP_INVALID']);
  });

  it('checks at most 3 of 20 parallel guesses; the rest find the transaction dead', async () => {
    const id = await start(freshMobile());
    const code = await codeFor(outbox, id);
    const wrong = code === '111111' ? '222222' : '111111';
    const answers = await Promise.all(Array.from({ length: 20 }, () => verify(id, wrong)));
    const checked = answers.filter((a) => a.status === 403 && a.body.erroneousProperties?.[0] === 'otp');
    const dead = answers.filter((a) => a.status === 403 && a.body.erroneousProperties?.[0] === 'transaction_id');
    expect(checked).toHaveLength(3);
    expect(dead).toHaveLength(17);
    expect((await verify(id, code)).status).toBe(403);
  });

  it("refuses another tenant's transaction and leaves it usable by its own tenant", async () => {
    const id = await start(freshMobile(), 'demo');
    const code = await codeFor(outbox, id);
    for (let i = 0; i < 5; i++) {
      const res = await verify(id, code, 'acme');
      expect(res.status).toBe(403);
      expect(res.body.errorTranslationKeys).toEqual(['OTP_INVALID']);
    }
    expect((await verify(id, code, 'demo')).status).toBe(200);
  });

  it('refuses an unknown or malformed transaction id', async () => {
    for (const id of ['A'.repeat(32), 'x', '', '../otp:tx:foo', 'A'.repeat(1000), 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=']) {
      const res = await verify(id, '123456');
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ errorTranslationKeys: ['OTP_INVALID'], erroneousProperties: ['transaction_id'] });
    }
    const missing = await server.call('otp-verify', { otp: '123456' });
    expect(missing.body.errorTranslationKeys).toEqual(['OTP_INVALID']);
  });

  it('refuses malformed codes without spending an attempt', async () => {
    const id = await start(freshMobile());
    const code = await codeFor(outbox, id);
    const fullWidth = [...code].map((d) => String.fromCharCode(0xff10 + Number(d))).join('');
    const arabicIndic = [...code].map((d) => String.fromCharCode(0x0660 + Number(d))).join('');
    const bad = [
      ` ${code}`,
      `${code} `,
      `${code.slice(0, 3)} ${code.slice(3)}`,
      fullWidth,
      arabicIndic,
      'abcdef',
      `${code.slice(0, 5)}a`,
      code.slice(0, 5),
      `${code}0`,
      '',
      '1'.repeat(1000),
      `${code}\n`,
      `+${code.slice(1)}`,
      '1e5000',
    ];
    for (const otp of bad) {
      const res = await verify(id, otp);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ errorTranslationKeys: ['OTP_INVALID'], erroneousProperties: ['otp'] });
    }
    const noOtp = await server.call('otp-verify', { transaction_id: id });
    expect(noOtp.body).toMatchObject({ errorTranslationKeys: ['OTP_INVALID'], erroneousProperties: ['otp'] });
    // None of those counted: the right code still passes.
    expect((await verify(id, code)).status).toBe(200);
  });
});
