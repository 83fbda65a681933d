import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../src/config/issues.js';
import { createApp } from '../../src/app.js';
import { ManualClock } from '../../src/engine/clock.js';
import { silentLogger } from '../../src/logger.js';
import { recipientKey } from '../../src/otp/recipient.js';
import { tenantPrefix } from '../../src/store/store.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { answer, hang, signatureValid, startGateway, type Gateway } from '../otp/webhook-server.js';

/** otp-issue with the webhook sender, end to end: a failed delivery leaves nothing behind. */
const SECRET = 'gateway-shared-secret-0123456789';
let gateway: Gateway;
let fixture: ConfigFixture;
let server: RunningServer;
const clock = new ManualClock();

beforeAll(async () => {
  gateway = await startGateway();
  fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['otp-start', 'otp-verify'] }], {
    'otp-start': {
      valves: [
        {
          name: 'otp-issue',
          config: { user_by: 'none', sender: { type: 'webhook', url: gateway.url, secret: '${env:OTP_WEBHOOK_SECRET}', timeout_ms: 200, retries: 1, backoff_ms: 0 } },
        },
      ],
      response: ['transaction_id'],
    },
    'otp-verify': { valves: [{ name: 'otp-verify' }], response: ['recipient'] },
  });
  server = await startServer({ configFile: fixture.mainFile, clock, env: { ...process.env, PORT: '0', HOST: '127.0.0.1', OTP_WEBHOOK_SECRET: SECRET } });
});
afterAll(async () => {
  await server.close();
  await gateway.close();
  fixture.cleanup();
});

const hourKey = (mobile: string) => `${tenantPrefix('demo')}otp:hour:${recipientKey('sms', mobile)}`;
const coolKey = (mobile: string) => `${tenantPrefix('demo')}otp:cool:${recipientKey('sms', mobile)}`;

describe('otp-issue with the webhook sender', () => {
  it('delivers a signed message and the code it carried verifies', async () => {
    gateway.received.length = 0;
    gateway.behave(answer(200));
    const res = await server.call('otp-start', { mobile: '+15550000101' });
    expect(res.status).toBe(200);
    const hit = gateway.received[0];
    expect(hit && signatureValid(hit, SECRET)).toBe(true);
    const sent = JSON.parse(hit?.body as string);
    expect(sent.transaction_id).toBe(res.body.transaction_id);
    expect((await server.call('otp-verify', { transaction_id: sent.transaction_id, otp: sent.code })).body).toEqual({ recipient: '+15550000101' });
  });

  it.each([
    ['answers 500', answer(500)],
    ['hangs', hang],
  ])('answers 500 COMMUNICATION_ERROR when the gateway %s, and records nothing as sent', async (_label, behaviour) => {
    const mobile = _label === 'hangs' ? '+15550000103' : '+15550000102';
    gateway.received.length = 0;
    gateway.behave(behaviour);
    const started = Date.now();
    const res = await server.call('otp-start', { mobile });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(res.status).toBe(500);
    expect(res.body.errorTranslationKeys).toEqual(['COMMUNICATION_ERROR']);
    expect(res.body.transaction_id).toBeUndefined();
    expect(gateway.received).toHaveLength(2);

    // No transaction: the code the gateway saw does not verify.
    const attempted = JSON.parse(gateway.received[0]?.body as string);
    const verify = await server.call('otp-verify', { transaction_id: attempted.transaction_id, otp: attempted.code });
    expect(verify.status).toBe(403);
    expect(verify.body).toMatchObject({ errorTranslationKeys: ['OTP_INVALID'], erroneousProperties: ['transaction_id'] });
    // No cooldown and no count: the recipient can be sent a code at once.
    expect(await server.app.store.get(coolKey(mobile))).toBeNull();
    expect(await server.app.store.get(hourKey(mobile))).toBe('0');
    gateway.behave(answer(200));
    expect((await server.call('otp-start', { mobile })).status).toBe(200);
    expect(await server.app.store.get(hourKey(mobile))).toBe('1');
  });
});

describe('sender problems are load errors naming the file and pointer', () => {
  const pipe = (sender: unknown) => ({ valves: [{ name: 'otp-issue', config: { user_by: 'none', sender } }], response: ['transaction_id'] });

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
      { file: 'pipes/otp-start.json', pointer: '/valves/0/config/sender/type', message: expect.stringContaining('NODE_ENV is production') },
    ]);
    expect(loadIssues({ type: 'log' }, { NODE_ENV: 'development' })).toEqual([]);
  });

  it('a webhook without secret, a stray setting, a bad URL', () => {
    expect(loadIssues({ type: 'webhook', url: 'https://sms.example/otp' })).toEqual([
      { file: 'pipes/otp-start.json', pointer: '/valves/0/config/sender', code: 'CONFIG_SCHEMA', message: 'missing required property "secret"' },
    ]);
    expect(loadIssues({ type: 'outbox', url: 'https://sms.example/otp' })[0]).toMatchObject({ pointer: '/valves/0/config/sender/url' });
    expect(loadIssues({ type: 'webhook', url: 'file:///etc/passwd', secret: SECRET })[0]).toMatchObject({ pointer: '/valves/0/config/sender/url' });
  });
});
