import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { configLoader } from '../../src/app/config-loader.js';
import { loadConfig } from '../../src/config/load.js';
import { closeConfigServices } from '../../src/config/services.js';
import { systemClock } from '../../src/engine/clock.js';
import { silentLogger } from '../../src/logger.js';
import { createRegistry } from '../../src/valves/index.js';
import { ConfigFixture } from '../support/fixture.js';
import { outboundFor } from '../support/outbound.js';
import { startServer, type RunningServer } from '../support/server.js';
import { timerCensus, type TimerCensus } from '../support/timer-census.js';
import { until } from '../support/until.js';
import { signatureValid, startGateway, type Gateway } from './webhook-server.js';

/**
 * The load owns what it builds. A read-only load (validate in another environment, the admin
 * API's check of a change, a refused reload) with another webhook secret starts no worker or
 * timer and changes nothing live: the next code goes out signed with the live secret. A
 * reload to another sender retires the old config's worker once its grace period is over.
 * The gateway is a real HTTP server on loopback, listed in `outbound.allow`.
 */
const LIVE = 'live-webhook-secret-0123456789ab';
const OTHER = 'never-applied-secret-0123456789ab';
const NEXT = 'next-webhook-secret-0123456789abc';

let gateway: Gateway;
let fixture: ConfigFixture;
let server: RunningServer;
let census: TimerCensus;

const otpStart = (secret: string) => ({
  valves: [
    {
      name: 'otp-issue',
      config: { user_by: 'none', min_answer_ms: 0, sender: { type: 'webhook', url: gateway.url, secret, retries: 0 } },
    },
  ],
  response: ['transaction_id'],
});
const pipeFile = () => join(fixture.dir, 'pipes', 'otp-start.json');
const live = () => ({ intervals: census.intervals(), timeouts: census.timeouts() });

beforeAll(async () => {
  census = timerCensus();
  gateway = await startGateway();
  fixture = ConfigFixture.minimal(
    [{ id: 'demo', allowedOperation: ['otp-start'] }],
    { 'otp-start': otpStart('${env:OTP_WEBHOOK_SECRET}') },
    {
      outbound: outboundFor(gateway.url),
    },
  );
  server = await startServer({
    configFile: fixture.mainFile,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', OTP_WEBHOOK_SECRET: LIVE },
    retireGraceMs: 100,
  });
});
afterAll(async () => {
  await server.close();
  await gateway.close();
  fixture.cleanup();
  census.restore();
});

async function sendCode(mobile: string) {
  const seen = gateway.received.length;
  const res = await server.call('otp-start', { mobile });
  expect(res.status).toBe(200);
  await until(() => (gateway.received.length > seen ? true : undefined), 5000);
  return gateway.received[seen] as NonNullable<(typeof gateway.received)[number]>;
}

describe('a load owns what it builds', () => {
  it('a read-only load with another webhook secret starts nothing and changes nothing live', async () => {
    // The live worker polls already: the config was started when it was loaded.
    expect(server.app.holder.current.runtime.phase).toBe('started');
    const before = live();
    const runtime = () => ({ store: server.app.store, clock: systemClock, logger: silentLogger() });

    // validate, run where another secret is set
    const checked = loadConfig(fixture.mainFile, {
      registry: createRegistry(),
      runtime,
      env: { ...process.env, OTP_WEBHOOK_SECRET: OTHER },
      readOnly: true,
    });
    expect(checked.runtime.phase).toBe('built');
    expect(live()).toEqual(before); // not even for the moment before it is closed
    expect(checked.services.otpDelivery).toBeDefined();
    await closeConfigServices(checked.services);
    expect(checked.runtime.phase).toBe('closed');

    // the admin API's check of a change that writes another secret into the pipe
    const loader = configLoader(
      fixture.mainFile,
      { registry: server.app.registry, runtime, env: { ...process.env, OTP_WEBHOOK_SECRET: LIVE } },
      () => undefined,
    );
    expect(loader.check(new Map([[pipeFile(), JSON.stringify({ id: 'otp-start', ...otpStart(OTHER) })]]))).toEqual([]);

    // a reload refused (a broken pipe beside the changed one): the live config keeps serving
    const version = server.app.holder.current.version;
    fixture.writePipe('otp-start', otpStart(OTHER)).writePipe('broken', '{ not json');
    expect(server.app.reload().ok).toBe(false);
    expect(server.app.holder.current.version).toBe(version);
    rmSync(join(fixture.dir, 'pipes', 'broken.json'));
    fixture.writePipe('otp-start', otpStart('${env:OTP_WEBHOOK_SECRET}'));

    await new Promise((r) => setImmediate(r));
    expect(live()).toEqual(before);

    const received = await sendCode('+15550000301');
    expect(signatureValid(received, LIVE)).toBe(true);
    expect(signatureValid(received, OTHER)).toBe(false);
    // The send's own timers (HTTP keep-alive) come and go; workers are intervals, and none was added.
    expect(census.intervals()).toBe(before.intervals);
  });

  it("a reload to another sender closes the retired config's worker after its grace period", async () => {
    const old = server.app.holder.current;
    const before = live().intervals;
    fixture.writePipe('otp-start', otpStart(NEXT));
    expect(server.app.reload().ok).toBe(true);
    const current = server.app.holder.current;
    expect(current).not.toBe(old);
    // The new config's worker polls at once; the old one still serves calls that started on it.
    expect(census.intervals()).toBe(before + 1);
    await until(() => (old.runtime.phase === 'closed' ? true : undefined), 5000);
    await until(() => (census.intervals() === before ? true : undefined), 5000);
    expect(census.intervals()).toBe(before);
    expect(current.runtime.phase).toBe('started');

    const received = await sendCode('+15550000302');
    expect(signatureValid(received, NEXT)).toBe(true);
    expect(signatureValid(received, LIVE)).toBe(false);
  });
});
