import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../support/clock.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { codeFor, messageFor, readOutbox } from '../otp/outbox.js';

/**
 * OTP login for directory users, on the shipped demo config (pipes/otp-start.json,
 * pipes/otp-verify.json, config/directory.json) plus a few extra pipes and users.
 */
let fixture: ConfigFixture;
let outbox: string;
let server: RunningServer;
const clock = new ManualClock(Date.UTC(2026, 0, 1));

function json(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  outbox = join(fixture.dir, 'var', 'otp-outbox.jsonl');
  const start = json(join(fixture.dir, 'pipes', 'otp-start.json'));
  const issue = start.valves.find((v: { name: string }) => v.name === 'otp-issue');
  expect(issue.config.sender).toEqual({ type: 'outbox', file: 'var/otp-outbox.jsonl' });
  issue.config.sender.file = outbox;
  fixture.writePipe('otp-start', start);
  const sender = { type: 'outbox', file: outbox };
  fixture.writePipe('otp-start-email', {
    valves: [{ name: 'otp-issue', config: { channel: 'email', sender } }],
    response: ['transaction_id'],
  });
  fixture.writePipe('otp-start-username', {
    valves: [{ name: 'otp-issue', config: { channel: 'sms', user_by: 'username', sender } }],
    response: ['transaction_id'],
  });
  fixture.writePipe('otp-verify-full', {
    valves: [{ name: 'otp-verify' }],
    response: ['sub', 'username', 'mobile', 'email', 'givenName', 'channel', 'recipient'],
  });

  const main = json(fixture.mainFile);
  const demo = main.modules[0].config.tenant.find((t: { id: string }) => t.id === 'demo');
  demo.allowedOperation.push('otp-start-email', 'otp-start-username', 'otp-verify-full');
  fixture.writeMain(main);

  const directoryFile = join(fixture.dir, 'config', 'directory.json');
  const directory = json(directoryFile);
  directory.tenants.demo.users.push(
    { id: 'u-9003', username: 'carol', mobile: '+15550009003', status: 'disabled' },
    { id: 'u-9004', username: 'dave', email: 'dave@example.com' },
  );
  fixture.write('config/directory.json', directory);
  server = await startServer({ configFile: fixture.mainFile, clock });
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

async function transaction(operation: string, body: Record<string, string>): Promise<string> {
  const res = await server.call(operation, body);
  expect(res.status).toBe(200);
  expect(Object.keys(res.body)).toEqual(['transaction_id']);
  expect(res.body.transaction_id).toMatch(/^[A-Za-z0-9_-]{32}$/);
  clock.advance(31_000); // past the resend cooldown for the next test
  return res.body.transaction_id as string;
}

describe('demo: otp-start and otp-verify', () => {
  it('sends alice a code on +15550000001; the shipped otp-verify accepts it once', async () => {
    const id = await transaction('otp-start', { mobile: '+15550000001' });
    const message = await messageFor(outbox, id);
    expect(message).toMatchObject({ tenant: 'demo', recipient: '+15550000001', channel: 'sms' });
    const verified = await server.call('otp-verify', { transaction_id: id, otp: await codeFor(outbox, id) });
    expect(verified.status).toBe(200);
    // A 30-minute user token for alice, with a refresh token.
    expect(Object.keys(verified.body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    expect(verified.body).toMatchObject({ token_type: 'Bearer', expires_in: '1800' });
    const claims = JSON.parse(Buffer.from(verified.body.access_token.split('.')[1], 'base64url').toString('utf8'));
    expect(claims).toMatchObject({ sub: 'u-1001', tenant: 'demo' });
    const refreshed = await server.call('token-refresh', { refresh_token: verified.body.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(verified.body.refresh_token);
    expect((await server.call('otp-verify', { transaction_id: id, otp: await codeFor(outbox, id) })).status).toBe(403);
  });

  it('verifies alice to her subject', async () => {
    const id = await transaction('otp-start', { mobile: '+15550000001' });
    const res = await server.call('otp-verify-full', { transaction_id: id, otp: await codeFor(outbox, id) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sub: 'u-1001', givenName: 'Alice' });
  });

  it("puts the user's properties on the item", async () => {
    const id = await transaction('otp-start', { mobile: '+15550000002' });
    const res = await server.call('otp-verify-full', { transaction_id: id, otp: await codeFor(outbox, id) });
    expect(res.body).toEqual({
      sub: 'u-1002',
      username: 'bob',
      mobile: '+15550000002',
      email: 'bob@example.com',
      givenName: 'Bob',
      channel: 'sms',
      recipient: '+15550000002',
    });
  });

  it('answers an unknown mobile exactly like a known one, and sends nothing', async () => {
    const before = readOutbox(outbox).length;
    const unknown = await transaction('otp-start', { mobile: '+15559999999' });
    expect(readOutbox(outbox)).toHaveLength(before);
    const known = await transaction('otp-start', { mobile: '+15550000001' });
    const knownCode = await codeFor(outbox, known);
    const wrong = knownCode === '000000' ? '000001' : '000000';
    // Same refusals, attempt by attempt, for the decoy and for a real transaction.
    for (let i = 0; i < 4; i++) {
      const a = await server.call('otp-verify-full', { transaction_id: unknown, otp: wrong });
      const b = await server.call('otp-verify-full', { transaction_id: known, otp: wrong });
      expect(a.status).toBe(403);
      expect({ ...a.body, requestId: '' }).toEqual({ ...b.body, requestId: '' });
    }
    // And the same rate limits: the cooldown holds for the unknown mobile too.
    await server.call('otp-start', { mobile: '+15559999998' });
    const again = await server.call('otp-start', { mobile: '+15559999998' });
    expect(again.status).toBe(403);
    expect(again.body.errorTranslationKeys).toEqual(['RATE_LIMITED']);
    clock.advance(31_000);
  });

  it('treats a disabled user like an unknown one', async () => {
    const before = readOutbox(outbox).length;
    await transaction('otp-start', { mobile: '+15550009003' });
    expect(readOutbox(outbox)).toHaveLength(before);
  });

  it('refuses a code whose user was disabled after it was sent (config reload)', async () => {
    const id = await transaction('otp-start', { mobile: '+15550000001' });
    const code = await codeFor(outbox, id);
    const directoryFile = join(fixture.dir, 'config', 'directory.json');
    const original = readFileSync(directoryFile, 'utf8');
    const directory = JSON.parse(original);
    directory.tenants.demo.users[0].status = 'disabled';
    fixture.write('config/directory.json', directory);
    try {
      expect(server.app.reload()).toMatchObject({ ok: true });
      const res = await server.call('otp-verify-full', { transaction_id: id, otp: code });
      expect(res.status).toBe(403);
      expect(res.body.errorTranslationKeys).toEqual(['OTP_INVALID']);
    } finally {
      fixture.write('config/directory.json', original);
      expect(server.app.reload()).toMatchObject({ ok: true });
    }
  });

  it('input-validate refuses extra or missing properties before any code is sent', async () => {
    for (const body of [{}, { mobile: '+15550000001', otp: '1' }, { mobile: '+155500000010000000' }]) {
      const res = await server.call('otp-start', body);
      expect(res.status).toBe(403);
      expect(res.body.errorTranslationKeys).toEqual(['INVALID_REQUEST']);
    }
    const malformed = await server.call('otp-start', { mobile: '15550000001' });
    expect(malformed.body).toMatchObject({ errorTranslationKeys: ['INVALID_REQUEST'], erroneousProperties: ['mobile'] });
  });

  it('is not allowed for acme (not in its allowedOperation)', async () => {
    const res = await server.call('otp-start', { mobile: '+15550000001' }, { tenant: 'acme' });
    expect(res.body.errorTranslationKeys).toEqual(['OPERATION_NOT_ALLOWED']);
  });
});

describe('recipients from the directory user', () => {
  it('email: looks the user up without regard to case and mails their stored address', async () => {
    const id = await transaction('otp-start-email', { email: 'Alice@Example.COM' });
    const message = await messageFor(outbox, id);
    expect(message).toMatchObject({ recipient: 'alice@example.com', channel: 'email' });
    const res = await server.call('otp-verify-full', { transaction_id: id, otp: await codeFor(outbox, id) });
    expect(res.body).toMatchObject({ sub: 'u-1001', channel: 'email', recipient: 'alice@example.com' });
  });

  it("by username: the code goes to the user's mobile", async () => {
    const id = await transaction('otp-start-username', { username: 'bob' });
    expect(await messageFor(outbox, id)).toMatchObject({ recipient: '+15550000002', channel: 'sms' });
  });

  it('by username, a user without a mobile gets the unknown answer and nothing is sent', async () => {
    const before = readOutbox(outbox).length;
    await transaction('otp-start-username', { username: 'dave' });
    await transaction('otp-start-username', { username: 'nobody' });
    expect(readOutbox(outbox)).toHaveLength(before);
  });

  it('refuses a missing lookup value', async () => {
    const res = await server.call('otp-start-username', {});
    expect(res.body).toMatchObject({ errorTranslationKeys: ['INVALID_REQUEST'], erroneousProperties: ['username'] });
  });
});
