import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../support/clock.js';
import { MemoryStore } from '../../src/store/memory.js';
import { slowStore } from '../otp/slow-store.js';
import { base32Encode, totp } from '../../src/otp/hotp.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';

/** totp-login on the shipped demo config (alice holds the RFC 6238 SHA1 seed) plus extra users. */
const ALICE = Buffer.from('12345678901234567890', 'ascii');
const STEP = 30_000;
let fixture: ConfigFixture;
let server: RunningServer;
// Ten seconds into a step, so "the step before/after" are whole steps away.
const clock = new ManualClock(Date.UTC(2026, 0, 1) + 10_000);
const secrets = new Map<string, Buffer>();
let userSeq = 0;

/** A new demo user with its own SHA1 secret, so replay and failure state never leak between tests. */
function user(): string {
  userSeq += 1;
  return `totp-user-${userSeq}`;
}

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  const directoryFile = join(fixture.dir, 'config', 'directory.json');
  const directory = JSON.parse(readFileSync(directoryFile, 'utf8'));
  for (let i = 1; i <= 20; i++) {
    const secret = randomBytes(20);
    secrets.set(`totp-user-${i}`, secret);
    directory.tenants.demo.users.push({ id: `u-t${i}`, username: `totp-user-${i}`, totp_secret: base32Encode(secret) });
  }
  const sha256 = randomBytes(32);
  const sha512 = randomBytes(64);
  secrets.set('erin', sha256);
  secrets.set('frank', sha512);
  directory.tenants.demo.users.push(
    { id: 'u-erin', username: 'erin', totp_secret: base32Encode(sha256) },
    { id: 'u-frank', username: 'frank', totp_secret: base32Encode(sha512) },
    { id: 'u-gone', username: 'gone', totp_secret: base32Encode(randomBytes(20)), status: 'disabled' },
    { id: 'u-case', username: 'case', email: 'case.user@example.com', totp_secret: base32Encode(randomBytes(20)) },
  );
  fixture.write('config/directory.json', directory);
  // The shipped totp-login's check, answering the subject (the shipped pipe answers tokens once minted).
  fixture.writePipe('totp-login-sub', {
    valves: [{ name: 'totp-verify', config: { user_by: 'username', algorithm: 'SHA1', digits: 6, window: 1 } }],
    response: ['sub'],
  });
  fixture.writePipe('totp-login-email', {
    valves: [{ name: 'totp-verify', config: { user_by: 'email' } }],
    response: ['sub'],
  });
  fixture.writePipe('totp-login-sha256', {
    valves: [{ name: 'totp-verify', config: { algorithm: 'SHA256', digits: 8 } }],
    response: ['sub'],
  });
  fixture.writePipe('totp-login-sha512', {
    valves: [{ name: 'totp-verify', config: { algorithm: 'SHA512', digits: 7, window: 0 } }],
    response: ['sub'],
  });
  const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
  for (const tenant of main.modules[0].config.tenant)
    tenant.allowedOperation.push('totp-login', 'totp-login-email', 'totp-login-sub', 'totp-login-sha256', 'totp-login-sha512');
  main.modules[0].config.tenant = main.modules[0].config.tenant.map((t: { allowedOperation: string[] }) => ({
    ...t,
    allowedOperation: [...new Set(t.allowedOperation)],
  }));
  fixture.writeMain(main);
  server = await startServer({ configFile: fixture.mainFile, clock, store: slowStore(new MemoryStore(clock)) });
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

/** The hashed failure-counter name of a directory user (test users are ids u-t<n>). */
const failKeyOf = (name: string) =>
  createHash('sha256')
    .update(`id\nu-t${name.replace('totp-user-', '')}`)
    .digest('base64url');

const login = (username: string, otp: string, operation = 'totp-login-sub', tenant = 'demo') =>
  server.call(operation, { username, otp }, { tenant });
const codeOf = (name: string, offsetSteps = 0) => totp(secrets.get(name) as Buffer, clock.now() + offsetSteps * STEP);

function expectRefused(res: { status: number; body: any }, code = 'OTP_INVALID'): void {
  expect(res.status).toBe(403);
  expect(res.body.errorTranslationKeys).toEqual([code]);
}

describe('totp-login (demo)', () => {
  it('logs alice in with the code of her RFC 6238 seed, through the shipped pipe', async () => {
    expect((await login('alice', totp(ALICE, clock.now()), 'totp-login')).status).toBe(200);
    expectRefused(await login('alice', totp(ALICE, clock.now()), 'totp-login'));
    clock.advance(STEP);
    const res = await login('alice', totp(ALICE, clock.now()));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'u-1001' });
  });

  it('refuses a replay of an accepted code within its window, and of an earlier step', async () => {
    const name = user();
    const now = codeOf(name);
    const before = codeOf(name, -1);
    expect((await login(name, now)).status).toBe(200);
    expectRefused(await login(name, now));
    clock.advance(STEP); // still inside the accepted code's window
    expectRefused(await login(name, now));
    expectRefused(await login(name, before));
    expect((await login(name, codeOf(name))).status).toBe(200); // the next step is new
  });

  it('a double submit of the code just accepted is refused without counting as a failure', async () => {
    const name = user();
    const code = codeOf(name);
    expect((await login(name, code)).status).toBe(200);
    // Ten double clicks: each refused, none counted, so the user is never locked out by them.
    for (let i = 0; i < 10; i++) expectRefused(await login(name, code));
    expect(await server.app.store.get(`authpipe:{demo}:totp:fail:${failKeyOf(name)}`)).toBe('0');
    clock.advance(STEP);
    // One step later that code is still refused (a replay) and counts; the new one works.
    expect((await login(name, codeOf(name))).status).toBe(200);
  });

  it('gives exactly one success to 10 parallel logins with one code', async () => {
    const name = user();
    const code = codeOf(name);
    const answers = await Promise.all(Array.from({ length: 10 }, () => login(name, code)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    // The others are replays, or, past 5 in flight, over the failure budget (counted before the check).
    for (const a of answers.filter((x) => x.status !== 200)) {
      expect(a.status).toBe(403);
      expect(['OTP_INVALID', 'RATE_LIMITED']).toContain(a.body.errorTranslationKeys[0]);
    }
    clock.advance(300_000);
  });

  it('accepts one step either side, and not two', async () => {
    const early = user();
    expect((await login(early, codeOf(early, -1))).status).toBe(200);
    const late = user();
    expect((await login(late, codeOf(late, 1))).status).toBe(200);
    const far = user();
    expectRefused(await login(far, codeOf(far, -2)));
    expectRefused(await login(far, codeOf(far, 2)));
  });

  it('refuses malformed codes without counting them as failures', async () => {
    const name = user();
    const code = codeOf(name);
    const fullWidth = [...code].map((d) => String.fromCharCode(0xff10 + Number(d))).join('');
    const bad = [
      ` ${code}`,
      `${code.slice(0, 3)} ${code.slice(3)}`,
      fullWidth,
      'abcdef',
      code.slice(0, 5),
      `${code}1`,
      '',
      '1'.repeat(1000),
      `${code}\t`,
    ];
    for (const otp of bad) {
      const res = await login(name, otp);
      expectRefused(res);
      expect(res.body.erroneousProperties).toEqual(['otp']);
    }
    expect((await login(name, code)).status).toBe(200);
  });

  it('answers an unknown user, a user without a secret and a disabled user like a wrong code', async () => {
    const name = user();
    const wrongCode = codeOf(name, 5);
    const reference = await login(name, wrongCode);
    expectRefused(reference);
    for (const username of ['nobody', 'bob', 'gone']) {
      const res = await login(username, '123456');
      expect({ ...res.body, requestId: '' }).toEqual({ ...reference.body, requestId: '' });
    }
    const missing = await server.call('totp-login', { otp: '123456' });
    expect(missing.body).toMatchObject({ errorTranslationKeys: ['INVALID_REQUEST'], erroneousProperties: ['username'] });
  });

  it('locks a user out after 5 failures for 5 minutes, even with the right code', async () => {
    const name = user();
    for (let i = 0; i < 5; i++) expectRefused(await login(name, codeOf(name, 10 + i)));
    const locked = await login(name, codeOf(name));
    expectRefused(locked, 'RATE_LIMITED');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    clock.advance(300_000);
    expect((await login(name, codeOf(name))).status).toBe(200);
  });

  it('counts failures per user, however an email lookup is spelt', async () => {
    const spellings = [
      'case.user@example.com',
      'Case.User@example.com',
      'CASE.USER@EXAMPLE.COM',
      'case.USER@example.com',
      'Case.user@Example.com',
    ];
    for (const email of spellings) expectRefused(await server.call('totp-login-email', { email, otp: '000000' }));
    expectRefused(await server.call('totp-login-email', { email: 'cAse.user@example.com', otp: '000000' }), 'RATE_LIMITED');
  });

  it('counts 20 parallel wrong guesses against the limit: at most 5 are checked', async () => {
    const name = user();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => login(name, codeOf(name, 10 + i))));
    expect(answers.filter((a) => a.body.errorTranslationKeys?.[0] === 'OTP_INVALID')).toHaveLength(5);
    expect(answers.filter((a) => a.body.errorTranslationKeys?.[0] === 'RATE_LIMITED')).toHaveLength(15);
    clock.advance(300_000);
  });

  it('locks unknown users out the same way (no enumeration through the limit)', async () => {
    for (let i = 0; i < 5; i++) expectRefused(await login('nobody-at-all', '123456'));
    expectRefused(await login('nobody-at-all', '123456'), 'RATE_LIMITED');
    clock.advance(300_000);
  });

  it("is bound to the tenant's directory", async () => {
    clock.advance(STEP);
    expectRefused(await login('alice', totp(ALICE, clock.now()), 'totp-login-sub', 'acme'));
  });
});

describe('totp-verify with SHA256 and SHA512', () => {
  it('SHA256, 8 digits', async () => {
    const code = totp(secrets.get('erin') as Buffer, clock.now(), { algorithm: 'SHA256', digits: 8 });
    expect((await login('erin', code, 'totp-login-sha256')).body).toEqual({ sub: 'u-erin' });
    expectRefused(await login('erin', code.slice(0, 6), 'totp-login-sha256'));
  });

  it('SHA512, 7 digits, window 0', async () => {
    const secret = secrets.get('frank') as Buffer;
    expectRefused(await login('frank', totp(secret, clock.now() - STEP, { algorithm: 'SHA512', digits: 7 }), 'totp-login-sha512'));
    const res = await login('frank', totp(secret, clock.now(), { algorithm: 'SHA512', digits: 7 }), 'totp-login-sha512');
    expect(res.body).toEqual({ sub: 'u-frank' });
  });
});
