import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigFixture } from '../support/fixture.js';
import { LOGIN_PIPES } from '../support/pipes.js';
import { startServer, type RunningServer } from '../support/server.js';
import { sample } from '../support/metrics-text.js';

const TENANTS = [
  { id: 'demo', allowedOperation: ['login'] },
  { id: 'acme', allowedOperation: ['login'] },
];

async function scrape(s: RunningServer): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${s.managementUrl}/metrics`);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('GET /metrics', () => {
  let fixture: ConfigFixture;
  let server: RunningServer;
  beforeAll(async () => {
    fixture = ConfigFixture.minimal(TENANTS, LOGIN_PIPES);
    server = await startServer({ configFile: fixture.mainFile });
    await server.call('login', { username: 'till-001', password: 'pw-123456' });
    await server.call('login', { username: 'till-002' }, { tenant: 'acme' });
    await server.call('login', { username: 'blocked' });
    await server.call('login', { username: 'x' }, { tenant: 'evil-tenant-4711' });
    await server.call('nothing-here', { username: 'x' });
  });
  afterAll(async () => {
    await server.close();
    fixture.cleanup();
  });

  it('counts calls by tenant, operation, outcome and code', async () => {
    const { status, type, text } = await scrape(server);
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(text, 'authpipe_calls_total{tenant="demo",operation="login",outcome="success",code="",door="put"}')).toBe(1);
    expect(sample(text, 'authpipe_calls_total{tenant="acme",operation="login",outcome="success",code="",door="put"}')).toBe(1);
    expect(sample(text, 'authpipe_calls_total{tenant="demo",operation="login",outcome="refused",code="ACCESS_DENIED",door="put"}')).toBe(1);
    expect(sample(text, 'authpipe_calls_total{tenant="",operation="",outcome="refused",code="UNKNOWN_TENANT",door="put"}')).toBe(1);
    expect(sample(text, 'authpipe_calls_total{tenant="demo",operation="",outcome="refused",code="OPERATION_NOT_ALLOWED",door="put"}')).toBe(
      1,
    );
    // What a caller sends never becomes a label value.
    expect(text).not.toContain('evil-tenant-4711');
    expect(text).not.toContain('nothing-here');
  });

  it('has latency histograms per pipe and per valve, nested pipes included, and counts skips', async () => {
    const { text } = await scrape(server);
    expect(sample(text, 'authpipe_pipe_duration_seconds_count{pipe="login",outcome="success"}')).toBe(2);
    expect(sample(text, 'authpipe_pipe_duration_seconds_count{pipe="login",outcome="refused"}')).toBe(1);
    expect(sample(text, 'authpipe_pipe_duration_seconds_bucket{le="+Inf",pipe="login",outcome="success"}')).toBe(2);
    expect(sample(text, 'authpipe_pipe_duration_seconds_sum{pipe="login",outcome="success"}')).toBeGreaterThan(0);
    expect(sample(text, 'authpipe_valve_duration_seconds_count{pipe="login",valve="0:input-validate",outcome="ran"}')).toBe(3);
    expect(sample(text, 'authpipe_valve_duration_seconds_count{pipe="shared",valve="set-group",outcome="ran"}')).toBe(3);
    expect(sample(text, 'authpipe_valve_duration_seconds_count{pipe="login",valve="deny",outcome="refused"}')).toBe(1);
    expect(sample(text, 'authpipe_valve_skips_total{pipe="login",valve="otp-branch"}')).toBe(3);
    expect(sample(text, 'authpipe_valve_skips_total{pipe="login",valve="deny"}')).toBe(2);
  });

  it('exports the counters valves increment through services.metrics, and process metrics', async () => {
    const metrics = server.app.holder.current.services.metrics;
    if (!metrics) throw new Error('a loaded config always carries services.metrics');
    metrics.inc('lockouts', { tenant: 'demo' });
    metrics.inc('otp_issued', { tenant: 'demo', channel: 'sms' }, 2);
    metrics.inc('otp_verified', { tenant: 'demo', result: 'ok' });
    metrics.inc('tokens_issued', { tenant: 'acme', kind: 'user' });
    metrics.inc('tokens_issued', { kind: 'user', tenant: 'acme' });
    // Mistakes never throw into a call: an undeclared label is dropped, a negative step ignored.
    expect(() => metrics.inc('lockouts', { tenant: 'demo', user: 'x' } as never, -1)).not.toThrow();
    expect(() => metrics.inc('no_such_counter' as never)).not.toThrow();
    const { text } = await scrape(server);
    expect(sample(text, 'authpipe_lockouts_total{tenant="demo"}')).toBe(1);
    expect(sample(text, 'authpipe_otp_issued_total{tenant="demo",channel="sms"}')).toBe(2);
    expect(sample(text, 'authpipe_otp_verified_total{tenant="demo",result="ok"}')).toBe(1);
    expect(sample(text, 'authpipe_tokens_issued_total{tenant="acme",kind="user"}')).toBe(2);
    // A counter without labels shows 0 before anything counts.
    expect(sample(text, 'authpipe_store_counters_refused_total')).toBe(0);
    expect(text).toMatch(/^# TYPE authpipe_tokens_revoked_total counter$/m);
    expect(text).toMatch(/^authpipe_process_resident_memory_bytes \d+/m);
    expect(sample(text, 'authpipe_config_reloads_total{result="success"}')).toBe(1);
  });
});

describe('metrics settings and store errors', () => {
  it('counts store errors while /readyz reports the store down (a Redis nobody listens for)', async () => {
    const fixture = ConfigFixture.minimal(TENANTS, LOGIN_PIPES, { store: { type: 'redis', url: 'redis://127.0.0.1:1' } });
    const server = await startServer({ configFile: fixture.mainFile, env: { PORT: '0', HOST: '127.0.0.1' } });
    try {
      const ready = await fetch(`${server.managementUrl}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'unavailable', store: 'down', version: server.app.holder.current.version });
      await expect(server.app.store.incr('k', 1000)).rejects.toThrow();
      const { text } = await scrape(server);
      expect(sample(text, 'authpipe_store_errors_total{op="ping"}')).toBe(1);
      expect(sample(text, 'authpipe_store_errors_total{op="incr"}')).toBe(1);
    } finally {
      await server.close();
      fixture.cleanup();
    }
  });

  it('answers a plain 404 to clients outside metrics.clients', async () => {
    const fixture = ConfigFixture.minimal(TENANTS, LOGIN_PIPES, { metrics: { clients: ['192.0.2.0/24'] } });
    const server = await startServer({ configFile: fixture.mainFile });
    try {
      const { status, text } = await scrape(server);
      expect(status).toBe(404);
      expect(JSON.parse(text)).toEqual({ status: 'NotFound' });
      // The allow-list is read from the active config: a reload opens it to loopback.
      fixture.writeMain({ ...JSON.parse(JSON.stringify(baseMain())), metrics: { clients: ['127.0.0.0/8', '::1'] } });
      expect(server.app.reload()).toMatchObject({ ok: true });
      expect((await scrape(server)).status).toBe(200);
    } finally {
      await server.close();
      fixture.cleanup();
    }
  });

  it('has no /metrics when disabled, and calls still work', async () => {
    const fixture = ConfigFixture.minimal(TENANTS, LOGIN_PIPES, { metrics: { enabled: false } });
    const server = await startServer({ configFile: fixture.mainFile });
    try {
      expect(server.app.metrics).toBeUndefined();
      expect((await scrape(server)).status).toBe(404);
      expect((await server.call('login', { username: 'till-001' })).status).toBe(200);
    } finally {
      await server.close();
      fixture.cleanup();
    }
  });

  it('refuses a bad address in metrics.clients at load, naming the pointer', async () => {
    const fixture = ConfigFixture.minimal(TENANTS, LOGIN_PIPES, { metrics: { clients: ['10.0.0.0/99'] } });
    try {
      await expect(startServer({ configFile: fixture.mainFile })).rejects.toMatchObject({
        issues: [expect.objectContaining({ pointer: '/metrics/clients/0', message: expect.stringContaining('prefix length') })],
      });
    } finally {
      fixture.cleanup();
    }
  });
});

function baseMain() {
  return {
    http_configuration: [{ id: 'http', host: '127.0.0.1', port: 0 }],
    modules: [
      { name: 'com.phenixidentity~phenix-api-authenticate', id: 'api', config: { http_configuration_ref: 'http', tenant: TENANTS } },
    ],
    pipes: '../pipes',
    store: { type: 'memory' },
    log: { level: 'silent' },
  };
}
