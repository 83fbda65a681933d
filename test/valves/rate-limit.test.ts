import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../support/clock.js';
import { ConfigError } from '../../src/config-kit/issues.js';
import { createApp } from '../../src/app.js';
import { silentLogger } from '../../src/logger.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { MemoryStore } from '../../src/store/memory.js';
import { sample } from '../support/metrics-text.js';

/** rate-limit through real HTTP, with a clock the test moves. */
let fixture: ConfigFixture;
let server: RunningServer;
const clock = new ManualClock();
/** The keys of the counter writes the server makes: what a success costs the store. */
const counterWrites: string[] = [];
class RecordingStore extends MemoryStore {
  override incr(key: string, ttlMs: number, by?: number): Promise<number> {
    counterWrites.push(key);
    return super.incr(key, ttlMs, by);
  }
}

const limited = (key: string, limit: number, window: number, extra: Record<string, unknown> = {}) => ({
  valves: [
    { name: 'rate-limit', config: { key, limit, window_seconds: window, ...extra } },
    { name: 'property-set', config: { properties: { ok: 'yes' } } },
  ],
  response: ['ok'],
});

/** Counts failed calls only: `fail` refuses INVALID_CREDENTIALS, `deny` ACCESS_DENIED (not counted), else 200. */
const failureLimited = (key: string, limit: number, extra: Record<string, unknown> = {}) => ({
  valves: [
    { name: 'rate-limit', config: { key, limit, window_seconds: 60, count: 'failures', ...extra } },
    { name: 'refuse', exec_if: { '==': [{ var: 'request.outcome' }, 'fail'] }, config: { code: 'INVALID_CREDENTIALS' } },
    { name: 'refuse', exec_if: { '==': [{ var: 'request.outcome' }, 'deny'] }, config: { code: 'ACCESS_DENIED' } },
    { name: 'property-set', config: { properties: { ok: 'yes' } } },
  ],
  response: ['ok'],
});

beforeAll(async () => {
  fixture = ConfigFixture.minimal(
    [
      {
        id: 'demo',
        allowedOperation: [
          'by-ip',
          'by-user',
          'shared-a',
          'shared-b',
          'burst',
          'failures-by-ip',
          'failures-by-user',
          'failures-burst',
          'held',
          'failures-held',
        ],
      },
      { id: 'acme', allowedOperation: ['by-ip'] },
    ],
    {
      'by-ip': limited('{{request.client_ip}}', 3, 60),
      'by-user': limited('{{tenant.id}}:{{request.username}}', 2, 10, { erroneous_properties: ['username'] }),
      'shared-a': limited('{{request.client_ip}}', 3, 60, { bucket: 'shared' }),
      'shared-b': limited('{{request.client_ip}}', 3, 60, { bucket: 'shared' }),
      burst: limited('{{request.client_ip}}', 5, 60),
      'failures-by-ip': failureLimited('{{request.client_ip}}', 3),
      'failures-by-user': failureLimited('{{request.client_ip}}:{{request.username}}', 2),
      'failures-burst': failureLimited('{{request.client_ip}}', 4),
      held: limited('{{request.client_ip}}', 1, 60, { refusal_delay_ms: 400 }),
      'failures-held': failureLimited('{{request.client_ip}}', 1, { refusal_delay_ms: 400 }),
    },
  );
  server = await startServer({ configFile: fixture.mainFile, clock, store: new RecordingStore(clock) });
});

afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

describe('rate-limit', () => {
  it('allows the limit, then refuses with RATE_LIMITED and Retry-After until the window ends', async () => {
    for (let i = 0; i < 3; i++) expect((await server.call('by-ip', {})).status).toBe(200);
    const refused = await server.call('by-ip', {});
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ status: 'Failure', errorTranslationKeys: ['RATE_LIMITED'] });
    expect(refused.headers.get('retry-after')).toBe('60');
    clock.advance(45_500);
    expect((await server.call('by-ip', {})).headers.get('retry-after')).toBe('15');
    clock.advance(14_500);
    expect((await server.call('by-ip', {})).status).toBe(200);
  });

  it('counts each tenant apart', async () => {
    for (let i = 0; i < 3; i++) expect((await server.call('by-ip', {}, { tenant: 'acme' })).status).toBe(200);
    expect((await server.call('by-ip', {}, { tenant: 'acme' })).status).toBe(403);
  });

  it('counts each key value apart, and names the configured properties', async () => {
    for (let i = 0; i < 2; i++) expect((await server.call('by-user', { username: 'alice' })).status).toBe(200);
    const refused = await server.call('by-user', { username: 'alice' });
    expect(refused.body).toMatchObject({ errorTranslationKeys: ['RATE_LIMITED'], erroneousProperties: ['username'] });
    expect(refused.headers.get('retry-after')).toBe('10');
    expect((await server.call('by-user', { username: 'bob' })).status).toBe(200);
    // A long caller-chosen value is hashed into the key, and still counted.
    const long = 'x'.repeat(5000);
    for (let i = 0; i < 2; i++) expect((await server.call('by-user', { username: long })).status).toBe(200);
    expect((await server.call('by-user', { username: long })).status).toBe(403);
  });

  it('shares a counter between operations naming the same bucket', async () => {
    expect((await server.call('shared-a', {})).status).toBe(200);
    expect((await server.call('shared-b', {})).status).toBe(200);
    expect((await server.call('shared-a', {})).status).toBe(200);
    expect((await server.call('shared-b', {})).status).toBe(403);
  });

  it('lets exactly the limit through when 20 calls race', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => server.call('burst', {})));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(5);
    expect(answers.filter((a) => a.status === 403 && a.body.errorTranslationKeys[0] === 'RATE_LIMITED')).toHaveLength(15);
  });

  it('count "failures": successes and uncounted refusals never count; the limit-th failure closes the door to everyone from there', async () => {
    for (let i = 0; i < 10; i++) expect((await server.call('failures-by-ip', {})).status).toBe(200);
    for (let i = 0; i < 5; i++)
      expect((await server.call('failures-by-ip', { outcome: 'deny' })).body.errorTranslationKeys).toEqual(['ACCESS_DENIED']);
    for (let i = 0; i < 3; i++)
      expect((await server.call('failures-by-ip', { outcome: 'fail' })).body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
    const refused = await server.call('failures-by-ip', {});
    expect(refused.status).toBe(403);
    expect(refused.body.errorTranslationKeys).toEqual(['RATE_LIMITED']);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Refusals by the limit itself do not extend it: the window's end frees the address.
    clock.advance(60_000);
    expect((await server.call('failures-by-ip', {})).status).toBe(200);
  });

  it('count "failures": a success or an uncounted refusal writes nothing to the store; a counted failure writes once', async () => {
    clock.advance(60_000);
    counterWrites.length = 0;
    for (let i = 0; i < 5; i++) expect((await server.call('failures-by-ip', {})).status).toBe(200);
    expect((await server.call('failures-by-ip', { outcome: 'deny' })).status).toBe(403);
    expect(counterWrites).toEqual([]);
    expect((await server.call('failures-by-ip', { outcome: 'fail' })).status).toBe(403);
    expect(counterWrites).toEqual([expect.stringMatching(/failurelimit:failures-by-ip:/)]);
  });

  it('count "failures" keyed by address and username: another user from the same address is not held up', async () => {
    for (let i = 0; i < 2; i++) expect((await server.call('failures-by-user', { username: 'mallory', outcome: 'fail' })).status).toBe(403);
    expect((await server.call('failures-by-user', { username: 'mallory' })).body.errorTranslationKeys).toEqual(['RATE_LIMITED']);
    expect((await server.call('failures-by-user', { username: 'alice' })).status).toBe(200);
  });

  it('count "failures": 20 failing calls racing get at most the limit through to the check', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => server.call('failures-burst', { outcome: 'fail' })));
    const codes = answers.map((a) => a.body.errorTranslationKeys[0]);
    expect(codes.filter((c) => c === 'INVALID_CREDENTIALS')).toHaveLength(4);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(16);
  });

  it('refusal_delay_ms holds a RATE_LIMITED refusal that long; calls under the limit and other refusals are not held', async () => {
    const timed = async (operation: string, body: Record<string, string> = {}) => {
      const started = performance.now();
      const answer = await server.call(operation, body);
      return {
        status: answer.status,
        code: answer.body.errorTranslationKeys?.[0],
        ms: performance.now() - started,
        retryAfter: answer.headers.get('retry-after'),
      };
    };
    const first = await timed('held');
    expect([first.status, first.ms < 300]).toEqual([200, true]);
    const over = await timed('held');
    expect([over.status, over.code, over.retryAfter]).toEqual([403, 'RATE_LIMITED', '60']);
    expect(over.ms).toBeGreaterThanOrEqual(390);
    // count "failures": the counted failure itself is answered at once; the limit's refusals after it are held.
    const failed = await timed('failures-held', { outcome: 'fail' });
    expect([failed.code, failed.ms < 300]).toEqual(['INVALID_CREDENTIALS', true]);
    const limitedFailure = await timed('failures-held', {});
    expect(limitedFailure.code).toBe('RATE_LIMITED');
    expect(limitedFailure.ms).toBeGreaterThanOrEqual(390);
    const metrics = await (await fetch(`${server.managementUrl}/metrics`)).text();
    expect(sample(metrics, 'authpipe_refusals_held_total{tenant="demo",result="held"}')).toBe(2);
  });

  it('refusal_delay_ms above 10 s fails the load with its pointer', () => {
    const error = loadError(limited('{{request.client_ip}}', 1, 1, { refusal_delay_ms: 10_001 }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]).toMatchObject({ pointer: '/valves/0/config/refusal_delay_ms' });
  });

  it('failure_codes without count "failures" fails the load with its pointer', () => {
    const error = loadError(limited('{{request.client_ip}}', 1, 1, { failure_codes: ['OTP_INVALID'] }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]).toMatchObject({ pointer: '/valves/0/config/failure_codes' });
  });

  it('a bad key template fails the load with its pointer', () => {
    const error = loadError(limited('{{nowhere.thing}}', 1, 1));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]).toMatchObject({
      pointer: '/valves/0/config/key',
      message: expect.stringContaining('nowhere'),
    });
  });
});

/** The load error of a one-pipe config, or undefined when it loads. */
function loadError(pipe: unknown): unknown {
  const bad = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['x'] }], { x: pipe });
  try {
    createApp({ configFile: bad.mainFile, logger: silentLogger() });
    return undefined;
  } catch (err) {
    return err;
  } finally {
    bad.cleanup();
  }
}
