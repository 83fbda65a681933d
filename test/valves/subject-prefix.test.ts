import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ManualClock } from '../support/clock.js';
import { base32Decode, totp } from '../../src/otp/hotp.js';
import { basic } from '../support/credentials.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';

/**
 * Valves that put a subject on the item can write it under a prefix, so a flow holds two
 * identities at once: the till from basic-auth, and an approver from idp-lookup or
 * totp-verify, neither overwriting the other. On the demo directory.
 */
let fixture: ConfigFixture;
let server: RunningServer;
const clock = new ManualClock(Date.UTC(2026, 0, 1));
const ALICE_SECRET = base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ') as Buffer;

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  fixture.writePipe('two-ids', {
    valves: [
      { name: 'basic-auth', config: { kind: 'till', from: ['header'] } },
      { name: 'idp-lookup', config: { source: 'directory', by: 'username', value: '{{request.approver}}', prefix: 'approver_' } },
    ],
    response: ['sub', 'store', 'approver_id', 'approver_username', 'approver_givenName'],
  });
  fixture.writePipe('till-as', {
    valves: [{ name: 'basic-auth', config: { kind: 'till', from: ['header'], prefix: 'till_' } }],
    response: ['till_sub', 'till_store', 'till_kind'],
  });
  fixture.writePipe('totp-approve', {
    valves: [
      { name: 'basic-auth', config: { kind: 'till', from: ['header'] } },
      { name: 'totp-verify', config: { user_by: 'username', user: '{{request.approver}}', prefix: 'approver_' } },
    ],
    response: ['sub', 'approver_sub', 'approver_username'],
  });
  const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
  main.modules[0].config.tenant.find((t: { id: string }) => t.id === 'demo').allowedOperation.push('two-ids', 'till-as', 'totp-approve');
  main.log = { level: 'silent' };
  fixture.writeMain(main);
  server = await startServer({ configFile: fixture.mainFile, clock });
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

const TILL = { authorization: basic('till-001', 'till-001-pass') };

describe('subject prefixes', () => {
  it('idp-lookup with a prefix puts the approver beside the till', async () => {
    const res = await server.call('two-ids', { approver: 'manager-01' }, TILL);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      sub: 'till-001',
      store: 'store-01',
      approver_id: 'u-2001',
      approver_username: 'manager-01',
      approver_givenName: 'Maja',
    });
  });

  it('an unknown approver is still the refusal idp-lookup gives', async () => {
    const res = await server.call('two-ids', { approver: 'nobody' }, TILL);
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
  });

  it('basic-auth with a prefix leaves sub alone', async () => {
    const res = await server.call('till-as', {}, TILL);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ till_sub: 'till-001', till_store: 'store-01', till_kind: 'till' });
  });

  it('totp-verify with a prefix keeps the till as sub', async () => {
    const res = await server.call('totp-approve', { approver: 'alice', otp: totp(ALICE_SECRET, clock.now()) }, TILL);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'till-001', approver_sub: 'u-1001', approver_username: 'alice' });
  });

  it('a prefix that is not a plain name fails the load', async () => {
    const bad = ConfigFixture.fromDemo();
    try {
      bad.writePipe('till-login', { valves: [{ name: 'basic-auth', config: { kind: 'till', prefix: 'a.b' } }], response: [] });
      await expect(startServer({ configFile: bad.mainFile })).rejects.toThrow(/till-login\.json: \/valves\/0\/config\/prefix/);
    } finally {
      bad.cleanup();
    }
  });
});
