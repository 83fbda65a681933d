import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { ManualClock } from '../support/clock.js';
import { approvalFixture, MANAGER_MOBILE, startApproval, type ApprovalFixture } from '../support/approval.js';
import { CapturedLines } from '../support/capture.js';
import { describeWithRedis, RedisServer } from '../support/redis.js';
import { startServer, type RunningServer } from '../support/server.js';
import { waitReady } from '../support/ready.js';

/**
 * The chained till login of the demo over real HTTP: a till starts (Basic), its store's
 * manager gets a code, the flow handle plus the code give the till a system token. Every
 * bad handle is a 403 FLOW_INVALID; the same suite runs on the memory store and on Redis.
 */
const FLOW_INVALID = ['FLOW_INVALID'];

interface Env {
  server: RunningServer;
  clock: ManualClock;
  outbox: string;
  audit: CapturedLines;
  start(till?: 'till-001' | 'till-201'): Promise<{ flowId: string; code: string }>;
}

function suite(store: () => Record<string, unknown> | undefined): Env {
  const env = {} as Env;
  let setup: ApprovalFixture;
  beforeAll(async () => {
    setup = approvalFixture((main) => {
      const s = store();
      if (s) main.store = s;
      // acme may call the verify operation, to show a demo handle is worthless there.
      main.modules[0].config.tenant.find((t: { id: string }) => t.id === 'acme').allowedOperation.push('till-approval-verify');
      main.modules[0].config.tenant
        .find((t: { id: string }) => t.id === 'demo')
        .allowedOperation.push('flow-peek', 'otp-start-any', 'approval-verify-any');
    });
    // An operation that restores flows (its own, from peek-start) but is not on the demo flow's continue_with list.
    setup.fixture.writePipe('flow-peek', { valves: [{ name: 'flow-restore', config: { into: 'item' } }], response: ['sub'] });
    setup.fixture.writePipe('peek-start', {
      valves: [
        { name: 'property-set', config: { properties: { sub: 'peeker' } } },
        { name: 'flow-save', config: { properties: ['sub'], continue_with: ['flow-peek'] } },
      ],
      response: ['flow_id'],
    });
    // The 500: a code sent to a bare recipient, redeemed where a directory user is expected.
    setup.fixture.writePipe('otp-start-any', {
      valves: [{ name: 'otp-issue', config: { user_by: 'none', cooldown_seconds: 0, sender: { type: 'outbox', file: setup.outbox } } }],
      response: ['transaction_id'],
    });
    setup.fixture.writePipe('approval-verify-any', {
      valves: [{ name: 'otp-verify', config: { issued_by: ['till-approval-start'] } }],
      response: ['sub'],
    });
    env.clock = new ManualClock(Date.now());
    env.outbox = setup.outbox;
    env.audit = new CapturedLines();
    env.server = await startServer({ configFile: setup.fixture.mainFile, clock: env.clock, auditStream: env.audit });
    await waitReady(env.server.managementUrl);
  });
  afterAll(async () => {
    await env.server?.close();
    setup?.fixture.cleanup();
  });
  env.start = (till: 'till-001' | 'till-201' = 'till-001') =>
    startApproval(env.server, env.outbox, till, MANAGER_MOBILE[till === 'till-001' ? 'store-01' : 'store-02']);
  const verify = (flow_id: string, otp: string, tenant = 'demo') => env.server.call('till-approval-verify', { flow_id, otp }, { tenant });

  it('till Basic, then the manager code: a 10-minute system token for the till with amr ["pwd","otp"] and approved_by', async () => {
    const { flowId, code } = await env.start();
    expect(flowId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const res = await verify(flowId, code);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      sub: 'till-001',
      approved_by: 'u-2001',
      access_group: 'POS',
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: '600',
    });
    for (const value of Object.values(res.body)) expect(typeof value).toBe('string');
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({
      sub: 'till-001',
      tenant: 'demo',
      store: 'store-01',
      kind: 'till',
      approved_by: 'u-2001',
      amr: ['pwd', 'otp'],
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(600);
    // The audit names the till the pipe established, not the manager whose code was checked.
    const success = env.audit.named('auth.success').filter((l) => l.operation === 'till-approval-verify');
    expect(success.at(-1)).toMatchObject({ subject: 'till-001' });
  });

  it('a replayed handle is refused', async () => {
    const { flowId, code } = await env.start();
    expect((await verify(flowId, code)).status).toBe(200);
    const again = await verify(flowId, code);
    expect(again.status).toBe(403);
    expect(again.body.errorTranslationKeys).toEqual(FLOW_INVALID);
    expect(again.body.erroneousProperties).toEqual(['flow_id']);
  });

  it('a wrong code ends the flow; the audit names the till', async () => {
    const { flowId, code } = await env.start();
    const wrong = await verify(flowId, code === '000000' ? '111111' : '000000');
    expect(wrong.status).toBe(403);
    expect(wrong.body.errorTranslationKeys).toEqual(['OTP_INVALID']);
    const failure = env.audit.named('auth.failure').find((l) => l.requestId === wrong.headers.get('x-request-id'));
    expect(failure).toMatchObject({ subject: 'till-001', code: 'OTP_INVALID' });
    expect((await verify(flowId, code)).body.errorTranslationKeys).toEqual(FLOW_INVALID);
  });

  it('an expired handle is refused', async () => {
    const { flowId, code } = await env.start();
    env.clock.advance(301_000);
    const res = await verify(flowId, code);
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(FLOW_INVALID);
  });

  it('a handle from another tenant is refused there and still works at home', async () => {
    const { flowId, code } = await env.start();
    const foreign = await verify(flowId, code, 'acme');
    expect(foreign.status).toBe(403);
    expect(foreign.body.errorTranslationKeys).toEqual(FLOW_INVALID);
    expect((await verify(flowId, code)).status).toBe(200);
  });

  it('an operation not on the continue_with list is refused and does not use the handle up', async () => {
    const { flowId, code } = await env.start();
    const peek = await env.server.call('flow-peek', { flow_id: flowId });
    expect(peek.status).toBe(403);
    expect(peek.body.errorTranslationKeys).toEqual(FLOW_INVALID);
    expect((await verify(flowId, code)).status).toBe(200);
  });

  it('forged, too long, short or malformed handles are refused', async () => {
    const { code } = await env.start();
    const forged = randomBytes(32).toString('base64url');
    for (const handle of [
      forged,
      `${forged}A`,
      forged.repeat(100),
      forged.slice(1),
      `${forged.slice(1)}=`,
      `${forged.slice(1)}/`,
      ' '.repeat(43),
    ]) {
      const res = await verify(handle, code);
      expect(res.status).toBe(403);
      expect(res.body.errorTranslationKeys).toEqual(FLOW_INVALID);
    }
    const missing = await env.server.call('till-approval-verify', { otp: code });
    expect(missing.status).toBe(403);
    expect(missing.body.errorTranslationKeys).toEqual(['INVALID_REQUEST']);
  });

  it('ten parallel continuations of one handle: exactly one wins', async () => {
    const { flowId, code } = await env.start();
    const results = await Promise.all(Array.from({ length: 10 }, () => verify(flowId, code)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 403 && r.body.errorTranslationKeys[0] === 'FLOW_INVALID')).toHaveLength(9);
  });

  it("a manager's code does not open another store's till flow", async () => {
    let a = await env.start('till-001');
    let b = await env.start('till-201');
    while (a.code === b.code) [a, b] = [await env.start('till-001'), await env.start('till-201')];
    const crossed = await verify(b.flowId, a.code);
    expect(crossed.status).toBe(403);
    expect(crossed.body.errorTranslationKeys).toEqual(['OTP_INVALID']);
    const own = await verify(a.flowId, a.code);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ sub: 'till-001', approved_by: 'u-2001' });
  });

  it("store-02's till is approved by store-02's manager", async () => {
    const { flowId, code } = await env.start('till-201');
    const res = await verify(flowId, code);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sub: 'till-201', approved_by: 'u-2002' });
    expect(decodeJwt(res.body.access_token)).toMatchObject({ store: 'store-02', approved_by: 'u-2002' });
  });

  it('a code for a bare recipient is a 403 at a verify that expects a directory user, not a 500', async () => {
    const issued = await env.server.call('otp-start-any', { mobile: '+15550004444' });
    expect(issued.status).toBe(200);
    const { readOutbox } = await import('../otp/outbox.js');
    const code = readOutbox(env.outbox).find((m) => m.transaction_id === issued.body.transaction_id)?.code as string;
    const res = await env.server.call('otp-verify', { transaction_id: issued.body.transaction_id, otp: code });
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['OTP_INVALID']);
  });

  it("a code otp-start sent is refused by a verify bound to till-approval-start's codes", async () => {
    const issued = await env.server.call('otp-start', { mobile: '+15550000002' });
    expect(issued.status).toBe(200);
    const res = await env.server.call('approval-verify-any', { transaction_id: issued.body.transaction_id, otp: '123456' });
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['OTP_INVALID']);
    expect(res.body.erroneousProperties).toEqual(['transaction_id']);
  });
  return env;
}

describe('till approval on the memory store', () => {
  suite(() => undefined);
});

describeWithRedis('till approval on Redis', () => {
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  const env = suite(() => ({ type: 'redis', url: (redis as RedisServer).url, command_timeout_ms: 2000 }));

  it('the handle is kept with its TTL under a hash of it, in the tenant', async () => {
    const { flowId } = await env.start();
    const key = `authpipe:{demo}:flow:${createHash('sha256').update(flowId).digest('base64url')}`;
    const pttl = Number(/^:(\d+)/.exec(await (redis as RedisServer).command('PTTL', key))?.[1]);
    expect(pttl).toBeGreaterThan(290_000);
    expect(pttl).toBeLessThanOrEqual(300_000);
    expect(await (redis as RedisServer).command('GET', key)).toContain('"ops":["till-approval-verify"]');
  });
});
