import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { silentLogger } from '../../src/logger.js';
import { createSender, type OtpMessage, type OtpSender } from '../../src/otp/senders/index.js';
import type { OutboundPolicy } from '../../src/outbound/policy.js';
import { policyFor } from '../support/outbound.js';
import { answer, hang, signatureValid, startGateway, type Gateway, type Received } from './webhook-server.js';

const SECRET = 'gateway-shared-secret-0123456789';
const message = (over: Partial<OtpMessage> = {}): OtpMessage => ({
  tenant: 'demo',
  recipient: '+15550000001',
  channel: 'sms',
  code: '042917',
  transaction_id: 'T'.repeat(32),
  at: '2026-01-01T00:00:00.000Z',
  ...over,
});

/** Builds a sender whose webhook URL, if any, is on the outbound allowlist. */
function build(config: Parameters<typeof createSender>[0], env: Record<string, string> = {}): OtpSender {
  const built = createSender(config, env, policyFor(typeof config.url === 'string' ? [config.url] : []));
  if ('pointer' in built) throw new Error(`${built.pointer}: ${built.message}`);
  return built.sender;
}

describe('webhook sender, against a real HTTP server', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway();
  });
  afterAll(() => gateway.close());

  // A timeout well above an answer's time on a loaded machine (300 ms was once missed by a
  // first answer in CI, whose late arrival then counted in the next test); the hanging
  // gateway's test sets its own short one.
  const webhook = (over: Record<string, unknown> = {}) =>
    build({ type: 'webhook', url: gateway.url, secret: SECRET, timeout_ms: 5000, retries: 2, backoff_ms: 10, ...over });

  it('POSTs the message as JSON, HMAC-signed, with the transaction as idempotency key', async () => {
    gateway.received.length = 0;
    gateway.behave(answer(202));
    await webhook().send(message(), silentLogger());
    expect(gateway.received).toHaveLength(1);
    const hit = gateway.received[0] as Received;
    expect(JSON.parse(hit.body)).toEqual(message());
    expect(hit.headers['content-type']).toBe('application/json');
    expect(hit.headers['idempotency-key']).toBe('T'.repeat(32));
    expect(signatureValid(hit, SECRET)).toBe(true);
    expect(signatureValid(hit, `${SECRET}x`)).toBe(false);
    expect(signatureValid({ ...hit, body: hit.body.replace('042917', '042918') }, SECRET)).toBe(false);
  });

  /** The error of one send, with whether the delivery queue may try again. */
  const failure = async (over: Record<string, unknown> = {}) => {
    try {
      await webhook(over).send(message(), silentLogger());
    } catch (err) {
      return { message: (err as Error).message, retryable: (err as { retryable?: boolean }).retryable };
    }
    throw new Error('the send did not fail');
  };

  it('one send is one attempt: a 5xx, 408 or 429 fails it as retryable (the delivery queue retries)', async () => {
    for (const status of [500, 503, 408, 429]) {
      gateway.received.length = 0;
      gateway.behave(answer(status));
      expect(await failure()).toEqual({ message: expect.stringContaining(`answered ${status}`), retryable: true });
      expect(gateway.received).toHaveLength(1);
    }
  });

  it('a 4xx other than 408 and 429 is final: not retryable', async () => {
    gateway.received.length = 0;
    gateway.behave(answer(400));
    expect(await failure()).toEqual({ message: expect.stringContaining('answered 400'), retryable: false });
    expect(gateway.received).toHaveLength(1);
  });

  it('times out, so a hanging gateway fails in bounded time, as retryable', async () => {
    gateway.received.length = 0;
    gateway.behave(hang);
    const started = Date.now();
    const result = await failure({ timeout_ms: 150 });
    const took = Date.now() - started;
    expect(result).toEqual({ message: expect.stringContaining('no complete answer within 150 ms'), retryable: true });
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(2000);
  });

  it('treats a redirect as a delivery failure: not followed, not retryable', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      gateway.received.length = 0;
      gateway.behave(answer(status, { location: `${gateway.url}/elsewhere` }));
      expect(await failure()).toEqual({ message: expect.stringContaining(`answered ${status}`), retryable: false });
      expect(gateway.received).toHaveLength(1);
    }
  });

  it('fails when nothing listens, without leaking the secret into the error', async () => {
    const closed = await startGateway();
    const url = closed.url;
    await closed.close();
    const err = await build({ type: 'webhook', url, secret: SECRET, timeout_ms: 300, retries: 1, backoff_ms: 0 })
      .send(message(), silentLogger())
      .then(
        () => null,
        (e: Error) => e,
      );
    expect(err).toBeInstanceOf(Error);
    expect(err?.message).not.toContain(SECRET);
  });
});

describe('webhook destinations: only hosts and ports on outbound.allow', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway();
  });
  afterAll(() => gateway.close());

  const webhookAt = (url: string, policy: OutboundPolicy | undefined) =>
    createSender({ type: 'webhook', url, secret: SECRET, timeout_ms: 1000, retries: 1, backoff_ms: 0 }, {}, policy);
  const sendOutcome = async (url: string, policy: OutboundPolicy) => {
    const built = webhookAt(url, policy);
    if (!('sender' in built)) throw new Error(built.message);
    return built.sender.send(message(), silentLogger()).then(
      () => 'sent',
      (err: Error & { retryable?: boolean }) => ({ message: err.message, retryable: err.retryable }),
    );
  };
  /** A fake DNS answer: the only thing a test cannot provoke for real. */
  const resolvesTo = (address: string, family: number) => () => Promise.resolve([{ address, family }]);
  const named = () => `http://sms.example.com:${new URL(gateway.url).port}/otp`;

  it.each(['http://127.0.0.1:8089/otp', 'http://169.254.169.254/latest/meta-data', 'http://[::1]:8089/otp', 'https://10.0.0.1/otp'])(
    '%s, not listed: CONFIG_OUTBOUND at /url, before anything is sent',
    (url) => {
      const listed = policyFor(['https://sms.example.com/otp', 'http://127.0.0.1:8090/']);
      expect(webhookAt(url, listed)).toEqual({
        pointer: '/url',
        code: 'CONFIG_OUTBOUND',
        message: expect.stringContaining('outbound.allow'),
      });
      // Without the feature's policy (hand-built services), nothing is allowed.
      expect(webhookAt(url, undefined)).toMatchObject({ code: 'CONFIG_OUTBOUND' });
    },
  );

  it('a listed name that resolves to loopback is refused when it connects: final, and nothing reaches the server', async () => {
    gateway.received.length = 0;
    gateway.behave(answer(200));
    const outcome = await sendOutcome(named(), policyFor([named()], [], resolvesTo('127.0.0.1', 4)));
    expect(outcome).toEqual({ message: expect.stringContaining('resolves to 127.0.0.1 (loopback)'), retryable: false });
    expect(gateway.received).toHaveLength(0);
  });

  it('judges an IPv4-mapped answer as its IPv4 address', async () => {
    const outcome = await sendOutcome(named(), policyFor([named()], [], resolvesTo('::ffff:169.254.169.254', 6)));
    expect(outcome).toMatchObject({ message: expect.stringContaining('(link-local)'), retryable: false });
  });

  it('localhost, listed by name only, is refused (real resolution)', async () => {
    gateway.received.length = 0;
    const url = `http://localhost:${new URL(gateway.url).port}/otp`;
    expect(await sendOutcome(url, policyFor([url]))).toMatchObject({ message: expect.stringContaining('(loopback)'), retryable: false });
    expect(gateway.received).toHaveLength(0);
  });

  it('a name under outbound.internal connects to the address it was checked at (the fake answer: no second lookup)', async () => {
    gateway.received.length = 0;
    gateway.behave(answer(200));
    expect(await sendOutcome(named(), policyFor([named()], ['sms.example.com'], resolvesTo('127.0.0.1', 4)))).toBe('sent');
    expect(gateway.received).toHaveLength(1);
    expect(gateway.received[0]?.headers.host).toBe(new URL(named()).host);
  });
});

describe('sender config checks', () => {
  it('refuses the log sender when NODE_ENV is production, at its /type', () => {
    const built = createSender({ type: 'log' }, { NODE_ENV: 'production' }, undefined);
    expect(built).toEqual({ pointer: '/type', code: 'CONFIG_INVALID', message: expect.stringContaining('production') });
    expect('sender' in createSender({ type: 'log' }, { NODE_ENV: 'development' }, undefined)).toBe(true);
  });

  it('refuses webhook URLs that are not http(s) or carry credentials', () => {
    expect(createSender({ type: 'webhook', url: 'ftp://x/y', secret: SECRET }, {}, undefined)).toMatchObject({ pointer: '/url' });
    expect(createSender({ type: 'webhook', url: 'not a url', secret: SECRET }, {}, undefined)).toMatchObject({ pointer: '/url' });
    expect(createSender({ type: 'webhook', url: 'https://u:p@x/y', secret: SECRET }, {}, undefined)).toMatchObject({ pointer: '/url' });
  });
});

describe('outbox and log senders', () => {
  it('outbox appends one JSON line per message, creating the folder, readable by the owner only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'authpipe-outbox-'));
    try {
      const file = join(dir, 'deep', 'var', 'outbox.jsonl');
      const sender = build({ type: 'outbox', file });
      await Promise.all(Array.from({ length: 50 }, (_, i) => sender.send(message({ code: String(i).padStart(6, '0') }), silentLogger())));
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(50);
      expect(new Set(lines.map((l) => (JSON.parse(l) as OtpMessage).code)).size).toBe(50);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('outbox fails (rejects) when the file cannot be written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'authpipe-outbox-'));
    try {
      // The "folder" is a file: mkdir and append both fail.
      const blocker = join(dir, 'blocker');
      await build({ type: 'outbox', file: blocker }).send(message(), silentLogger());
      await expect(build({ type: 'outbox', file: join(blocker, 'x.jsonl') }).send(message(), silentLogger())).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('log writes the code to the log at warn level', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    await build({ type: 'log' }).send(message(), logger);
    const entry = JSON.parse(lines[0] as string);
    expect(entry.level).toBe(40);
    expect(entry.otp_delivery).toMatchObject({ code: '042917', recipient: '+15550000001' });
  });
});
