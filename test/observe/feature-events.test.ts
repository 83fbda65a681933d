import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { CapturedLines } from '../support/capture.js';
import { basic } from '../support/credentials.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { codeFor } from '../otp/outbox.js';
import { adminCall, adminToken } from '../access-groups/support.js';
import { sample } from '../support/metrics-text.js';

/**
 * The counters and audit events the feature valves raise (basic-auth lockout, otp-issue,
 * otp-verify, token-mint, token-refresh, token-revoke), on the shipped demo pipes.
 */
let fixture: ConfigFixture;
let server: RunningServer;
let outbox: string;
const audit = new CapturedLines();
const WRONG = 'not-the-password-1';

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  outbox = fixture.keepOutboxInside('otp-start');
  fixture.writePipe('logout', { valves: [{ name: 'token-revoke' }], response: [] });
  const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
  main.modules[0].config.tenant.find((t: { id: string }) => t.id === 'demo').allowedOperation.push('logout');
  main.log = { level: 'silent' };
  fixture.writeMain(main);
  server = await startServer({ configFile: fixture.mainFile, auditStream: audit });
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

async function scraped(series: string): Promise<number | undefined> {
  return sample(await (await fetch(`${server.managementUrl}/metrics`)).text(), series);
}

describe('feature metrics and audit events', () => {
  it('counts and audits a lockout', async () => {
    for (let i = 0; i < 5; i += 1) {
      const res = await server.call('till-login', {}, { authorization: basic('till-001', WRONG) });
      expect(res.status).toBe(403);
    }
    expect(await scraped('authpipe_lockouts_total{tenant="demo"}')).toBe(1);
    expect(audit.named('account.lockout')).toEqual([
      expect.objectContaining({ subject: 'till-001', tenant: 'demo', operation: 'till-login', kind: 'till', lockedSeconds: 60 }),
    ]);
    expect(audit.named('auth.failure').filter((l) => l.code === 'INVALID_CREDENTIALS')).toHaveLength(5);
  });

  it('counts OTPs issued and verified, and audits the tokens issued, refreshed and revoked', async () => {
    const started = await server.call('otp-start', { mobile: '+15550000001' });
    expect(started.status).toBe(200);
    const tx = started.body.transaction_id as string;
    const code = await codeFor(outbox, tx);
    const wrong = code === '000000' ? '111111' : '000000';
    expect((await server.call('otp-verify', { transaction_id: tx, otp: wrong })).status).toBe(403);
    const verified = await server.call('otp-verify', { transaction_id: tx, otp: code });
    expect(verified.status).toBe(200);
    expect((await server.call('otp-verify', { transaction_id: tx, otp: code })).status).toBe(403);
    expect(await scraped('authpipe_otp_issued_total{tenant="demo",channel="sms"}')).toBe(1);
    expect(await scraped('authpipe_otp_verified_total{tenant="demo",result="wrong_code"}')).toBe(1);
    expect(await scraped('authpipe_otp_verified_total{tenant="demo",result="ok"}')).toBe(1);
    expect(await scraped('authpipe_otp_verified_total{tenant="demo",result="bad_transaction"}')).toBe(1);

    const [issued] = audit.named('token.issued');
    expect(issued).toMatchObject({
      tenant: 'demo',
      operation: 'otp-verify',
      kind: 'user',
      requestId: verified.headers.get('x-request-id'),
    });
    const subject = issued!.subject as string;
    expect(subject).toBeTruthy();
    expect(await scraped('authpipe_tokens_issued_total{tenant="demo",kind="user"}')).toBe(1);

    const first = verified.body.refresh_token as string;
    const refreshed = await server.call('token-refresh', { refresh_token: first });
    expect(refreshed.status).toBe(200);
    expect(audit.named('token.refreshed')).toEqual([expect.objectContaining({ subject, operation: 'token-refresh' })]);
    // The old refresh token again: reuse revokes the login.
    expect((await server.call('token-refresh', { refresh_token: first })).status).toBe(403);
    expect(audit.named('token.revoked')).toEqual([expect.objectContaining({ subject, reason: 'reuse' })]);
    expect(await scraped('authpipe_tokens_refreshed_total{tenant="demo"}')).toBe(1);
    expect(await scraped('authpipe_tokens_revoked_total{tenant="demo",reason="reuse"}')).toBe(1);

    // Another user's login (alice's resend cooldown still runs), then logout.
    const again = await server.call('otp-start', { mobile: '+15550000002' });
    const tx2 = again.body.transaction_id as string;
    const login = await server.call('otp-verify', { transaction_id: tx2, otp: await codeFor(outbox, tx2) });
    expect((await server.call('logout', { refresh_token: login.body.refresh_token })).status).toBe(200);
    expect(audit.named('token.revoked')[1]).toMatchObject({
      subject: audit.named('token.issued')[1]!.subject,
      reason: 'logout',
      operation: 'logout',
    });
    expect(audit.named('token.issued')[1]!.subject).not.toBe(subject);
    expect(await scraped('authpipe_tokens_revoked_total{tenant="demo",reason="logout"}')).toBe(1);

    // No secret reaches the audit log: codes, tokens, passwords.
    for (const secret of [code, first, refreshed.body.refresh_token, refreshed.body.access_token, login.body.refresh_token, WRONG]) {
      expect(audit.text).not.toContain(secret);
    }
  });
});

describe('admin changes', () => {
  it('audits an access-group change made through the admin API, with the admin as subject', async () => {
    const adminAudit = new CapturedLines();
    const demo = ConfigFixture.fromDemo();
    const admin = await startServer({ configFile: demo.mainFile, auditStream: adminAudit });
    try {
      const token = await adminToken(admin);
      const res = await adminCall(admin, 'POST', '', { token, body: { id: 'kiosk', name: 'Kiosk' } });
      expect(res.status).toBe(201);
      const [changed] = adminAudit.named('admin.access_groups_changed');
      expect(changed).toMatchObject({
        subject: 'admin-console',
        tenant: 'demo',
        group: 'kiosk',
        version: admin.app.holder.current.version,
      });
      expect(adminAudit.named('admin.config_reloaded')).toEqual([expect.objectContaining({ subject: 'api', version: changed!.version })]);
      expect(adminAudit.text).not.toContain(token);
    } finally {
      await admin.close();
      demo.cleanup();
    }
  });
});
