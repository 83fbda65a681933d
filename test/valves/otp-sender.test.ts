import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import { ConfigError } from '../../src/config-kit/issues.js';
import { createApp } from '../../src/app.js';
import { ManualClock } from '../support/clock.js';
import { silentLogger } from '../../src/logger.js';
import { deadLetterKey } from '../../src/otp/delivery.js';
import { createSender } from '../../src/otp/senders/index.js';
import { sample } from '../support/metrics-text.js';
import { ConfigFixture } from '../support/fixture.js';
import { until } from '../support/until.js';
import { startServer, type RunningServer } from '../support/server.js';
import { outboundFor, policyFor } from '../support/outbound.js';
import { answer, hang, signatureValid, startGateway, type Gateway } from '../otp/webhook-server.js';

/**
 * otp-issue with the webhook sender, end to end: the answer never waits for the gateway nor
 * depends on it; deliveries go through the queue, with retries for what may pass, and a
 * dead letter, a metric and an audit event for what never will.
 */
const SECRET = 'gateway-shared-secret-0123456789';
let gateway: Gateway;

function heldQueuePipe(timeout: number, extra: Record<string, unknown>) {
  const sender = { type: 'webhook', url: gateway.url, secret: '${env:OTP_WEBHOOK_SECRET}', timeout_ms: timeout, retries: 1, backoff_ms: 0 };
  return {
    valves: [{ name: 'otp-issue', config: { user_by: 'none', sender: { ...sender, ...extra } } }],
    response: ['transaction_id'],
  };
}
let fixture: ConfigFixture;
let server: RunningServer;
const clock = new ManualClock();
const audit: Record<string, unknown>[] = [];

beforeAll(async () => {
  gateway = await startGateway();
  fixture = ConfigFixture.minimal(
    [{ id: 'demo', allowedOperation: ['otp-start', 'otp-start-2', 'otp-start-8', 'otp-verify'] }],
    {
      'otp-start': {
        valves: [
          {
            name: 'otp-issue',
            config: {
              user_by: 'none',
              sender: {
                type: 'webhook',
                url: gateway.url,
                secret: '${env:OTP_WEBHOOK_SECRET}',
                timeout_ms: 300,
                retries: 1,
                backoff_ms: 0,
              },
            },
          },
        ],
        response: ['transaction_id'],
      },
      // Queues of their own (their timeouts differ), slow to time out while a test holds their deliveries.
      'otp-start-2': heldQueuePipe(2001, { concurrency: 2 }),
      'otp-start-8': heldQueuePipe(2002, {}),
      'otp-verify': { valves: [{ name: 'otp-verify', config: { expects: 'recipient' } }], response: ['recipient'] },
    },
    { outbound: outboundFor(gateway.url) },
  );
  server = await startServer({
    configFile: fixture.mainFile,
    clock,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', OTP_WEBHOOK_SECRET: SECRET },
    auditStream: { write: (line: string) => void audit.push(JSON.parse(line) as Record<string, unknown>) },
  });
});
afterAll(async () => {
  await server.close();
  await gateway.close();
  fixture.cleanup();
});

/** The queue's id is a digest of the whole sender config (secret included), as the valve builds it. */
const queueId = () => {
  const built = createSender(
    { type: 'webhook', url: gateway.url, secret: SECRET, timeout_ms: 300, retries: 1, backoff_ms: 0 },
    {},
    policyFor([gateway.url]),
  );
  if (!('id' in built)) throw new Error(built.message);
  return built.id;
};
const deadLetters = async () => (await server.app.store.listRange(deadLetterKey(queueId()), 100)).map((t) => JSON.parse(t));
const deliveries = async (result: string) =>
  sample(
    await (server.app.metrics as NonNullable<typeof server.app.metrics>).registry.metrics(),
    `authpipe_otp_deliveries_total{tenant="demo",channel="sms",result="${result}"}`,
  ) ?? 0;

describe('otp-issue with the webhook sender, through the delivery queue', () => {
  it('delivers a signed message and the code it carried verifies', async () => {
    gateway.received.length = 0;
    gateway.behave(answer(200));
    const res = await server.call('otp-start', { mobile: '+15550000101' });
    expect(res.status).toBe(200);
    const hit = await until(() => gateway.received[0]);
    expect(signatureValid(hit, SECRET)).toBe(true);
    const sent = JSON.parse(hit.body);
    expect(sent.transaction_id).toBe(res.body.transaction_id);
    expect((await server.call('otp-verify', { transaction_id: sent.transaction_id, otp: sent.code })).body).toEqual({
      recipient: '+15550000101',
    });
    expect(await until(async () => ((await deliveries('delivered')) >= 1 ? true : undefined))).toBe(true);
  });

  it.each([
    ['answers 500', answer(500), 2],
    ['hangs', hang, 2],
    ['redirects', answer(307, { location: 'http://127.0.0.1:1/elsewhere' }), 1],
  ])(
    'when the gateway %s the caller gets the usual 200 at once; the job is retried if it may pass, then dead-lettered, counted and audited',
    async (label, behaviour, attempts) => {
      const mobile = `+1555000020${['answers 500', 'hangs', 'redirects'].indexOf(label as string)}`;
      gateway.received.length = 0;
      gateway.behave(behaviour);
      const failedBefore = await deliveries('failed');
      const started = Date.now();
      const res = await server.call('otp-start', { mobile });
      // The answer keeps otp-issue's 100 ms floor and never waits for the gateway (300 ms to time out).
      expect(Date.now() - started).toBeLessThan(250);
      expect(res.status).toBe(200);
      expect(res.body.transaction_id).toMatch(/^[A-Za-z0-9_-]{32}$/);
      const dead = await until(async () => (await deadLetters()).find((d) => d.transaction_id === res.body.transaction_id));
      expect(gateway.received).toHaveLength(attempts);
      expect(dead).toMatchObject({ tenant: 'demo', channel: 'sms', attempts });
      expect(JSON.stringify(dead)).not.toContain(JSON.parse(gateway.received[0]?.body as string).code);
      expect(await deliveries('failed')).toBe(failedBefore + 1);
      expect(audit.filter((e) => e.event === 'otp.delivery_failed' && e.attempts === attempts).length).toBeGreaterThanOrEqual(1);
      gateway.behave(answer(200));
    },
  );
});

describe('deliveries in flight at once', () => {
  it.each([
    ['8 by default', 'otp-start-8', 8, '+1555000031'],
    ["the webhook's concurrency", 'otp-start-2', 2, '+1555000032'],
  ])('a worker keeps %s going, no more, and delivers every code', async (_label, operation, most, prefix) => {
    // The gateway holds every request until the test lets it go.
    const held: ServerResponse[] = [];
    gateway.received.length = 0;
    gateway.behave((_req, res) => void held.push(res));
    const calls = await Promise.all(
      Array.from({ length: 12 }, (_, i) => server.call(operation as string, { mobile: `${prefix}${String(i).padStart(2, '0')}` })),
    );
    expect(calls.map((c) => c.status)).toEqual(Array(12).fill(200));
    await until(() => held.length === most || undefined, 5000);
    // Several beats later, still no more than that.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(held.length).toBe(most);
    gateway.behave(answer(200));
    for (const res of held.splice(0)) res.writeHead(200).end('{}');
    await until(() => gateway.received.length === 12 || undefined, 5000);
  });
});

describe('sender problems are load errors naming the file and pointer', () => {
  const pipe = (sender: unknown) => ({
    valves: [{ name: 'otp-issue', config: { user_by: 'none', sender } }],
    response: ['transaction_id'],
  });

  function loadIssues(sender: unknown, env: Record<string, string> = {}) {
    const fx = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['otp-start'] }], { 'otp-start': pipe(sender) });
    try {
      createApp({ configFile: fx.mainFile, logger: silentLogger(), env });
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.issues.map((i) => ({ ...i, file: i.file.replace(/^.*\/pipes\//, 'pipes/') }));
    } finally {
      fx.cleanup();
    }
  }

  it('the log sender with NODE_ENV=production', () => {
    expect(loadIssues({ type: 'log' }, { NODE_ENV: 'production' })).toEqual([
      {
        file: 'pipes/otp-start.json',
        pointer: '/valves/0/config/sender/type',
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('NODE_ENV is production'),
      },
    ]);
    expect(loadIssues({ type: 'log' }, { NODE_ENV: 'development' })).toEqual([]);
  });

  it('a webhook without secret, a stray setting, a bad URL', () => {
    expect(loadIssues({ type: 'webhook', url: 'https://sms.example/otp' })).toEqual([
      {
        file: 'pipes/otp-start.json',
        pointer: '/valves/0/config/sender',
        code: 'CONFIG_SCHEMA',
        message: 'missing required property "secret"',
      },
    ]);
    expect(loadIssues({ type: 'outbox', url: 'https://sms.example/otp' })[0]).toMatchObject({ pointer: '/valves/0/config/sender/url' });
    expect(loadIssues({ type: 'outbox', concurrency: 4 })[0]).toMatchObject({ pointer: '/valves/0/config/sender/concurrency' });
    expect(loadIssues({ type: 'webhook', url: 'https://sms.example/otp', secret: SECRET, concurrency: 0 })[0]).toMatchObject({
      pointer: '/valves/0/config/sender/concurrency',
      code: 'CONFIG_SCHEMA',
    });
    expect(loadIssues({ type: 'webhook', url: 'file:///etc/passwd', secret: SECRET })[0]).toMatchObject({
      pointer: '/valves/0/config/sender/url',
    });
  });

  it('a webhook to a host and port the main file does not list in outbound.allow', () => {
    expect(loadIssues({ type: 'webhook', url: 'http://169.254.169.254/latest', secret: SECRET })).toEqual([
      {
        file: 'pipes/otp-start.json',
        pointer: '/valves/0/config/sender/url',
        code: 'CONFIG_OUTBOUND',
        message: expect.stringContaining('169.254.169.254:80 is not on outbound.allow'),
      },
    ]);
  });
});
