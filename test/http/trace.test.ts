import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigFixture } from '../support/fixture.js';
import { LOGIN_PIPES } from '../support/pipes.js';
import { startServer, type RunningServer } from '../support/server.js';
import { CapturedLines, capturingLogger } from '../support/capture.js';

const TOKEN = 'trace-token-0123456789';
const SECRET = 'Tr0ub4dor&3-secret';
const TENANTS = [{ id: 'demo', allowedOperation: ['login'] }];

let fixture: ConfigFixture | undefined;
let server: RunningServer | undefined;
let logs: CapturedLines;
afterEach(async () => {
  await server?.close();
  fixture?.cleanup();
  server = undefined;
  fixture = undefined;
});

async function start(extra: Record<string, unknown>): Promise<RunningServer> {
  fixture = ConfigFixture.minimal(TENANTS, LOGIN_PIPES, extra);
  logs = new CapturedLines();
  server = await startServer({
    configFile: fixture.mainFile,
    logger: capturingLogger(logs),
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', TRACE_TOKEN: TOKEN },
  });
  return server;
}

describe('server debug trace', () => {
  it('is off by default: the header is ignored and nothing is traced', async () => {
    const s = await start({});
    const res = await s.call('login', { username: 'till-001', password: SECRET }, { 'x-authpipe-trace': '1' }, 'management');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-authpipe-trace')).toBeNull();
    expect(logs.named('trace')).toHaveLength(0);
  });

  it('writes one masked trace log line when enabled, and nothing to the caller', async () => {
    const s = await start({ trace: { enabled: true } });
    const res = await s.call(
      'login',
      { username: 'till-001', password: SECRET },
      { 'x-authpipe-trace': '1', 'x-request-id': 'req-42' },
      'management',
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-authpipe-trace')).toBeNull();
    const [line] = logs.named('trace');
    expect(line).toMatchObject({ requestId: 'req-42', trace: { pipe: 'login', status: 200 } });
    expect(line!.trace.steps.map((st: any) => [st.label, st.outcome])).toContainEqual(['otp-branch', 'skipped']);
    expect(logs.text).not.toContain(SECRET);
    // Without the request header, no trace.
    await s.call('login', { username: 'till-001' }, {}, 'management');
    expect(logs.named('trace')).toHaveLength(1);
  });

  it('is a switch of the management listener only: the public listener never traces', async () => {
    const s = await start({ trace: { enabled: true, output: 'header', token: TOKEN } });
    const res = await s.call('login', { username: 'till-001', password: SECRET }, { 'x-authpipe-trace': TOKEN });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-authpipe-trace')).toBeNull();
    expect(logs.named('trace')).toHaveLength(0);
    // The same call on the management listener runs the same pipe for the same tenant, traced.
    const traced = await s.call('login', { username: 'till-001', password: SECRET }, { 'x-authpipe-trace': TOKEN }, 'management');
    expect([traced.status, JSON.parse(traced.headers.get('x-authpipe-trace') as string).pipe]).toEqual([200, 'login']);
    // An unknown tenant there is refused as on the public listener.
    expect((await s.call('login', { username: 'a' }, { tenant: 'nobody' }, 'management')).body.errorTranslationKeys).toEqual([
      'UNKNOWN_TENANT',
    ]);
  });

  it('returns the trace in a response header only with the right token', async () => {
    const s = await start({ trace: { enabled: true, output: 'header', token: '${env:TRACE_TOKEN}' } });
    for (const wrong of ['1', `${TOKEN}x`, TOKEN.slice(1)]) {
      const res = await s.call('login', { username: 'till-001' }, { 'x-authpipe-trace': wrong }, 'management');
      expect([wrong, res.status, res.headers.get('x-authpipe-trace')]).toEqual([wrong, 200, null]);
    }
    expect(logs.named('trace')).toHaveLength(0);

    const ok = await s.call('login', { username: 'tïll-ü', password: SECRET }, { 'x-authpipe-trace': TOKEN }, 'management');
    const header = ok.headers.get('x-authpipe-trace') as string;
    expect(header).not.toContain(SECRET);
    expect(header).toMatch(/^[\x20-\x7e]+$/); // ASCII only: a valid header whatever the values
    const trace = JSON.parse(header);
    expect(trace.request).toMatchObject({ username: 'tïll-ü', password: '***' });
    expect(trace.steps.find((st: any) => st.valve === 'property-copy').changes).toContainEqual({
      scope: 'item',
      name: 'password',
      op: 'added',
      value: '***',
    });

    const refused = await s.call('login', { username: 'blocked' }, { 'x-authpipe-trace': TOKEN }, 'management');
    expect(refused.status).toBe(403);
    const refusedTrace = JSON.parse(refused.headers.get('x-authpipe-trace') as string);
    expect(refusedTrace).toMatchObject({ status: 403, code: 'ACCESS_DENIED' });
    expect(refusedTrace.steps.at(-1)).toMatchObject({ label: 'deny', outcome: 'refused', code: 'ACCESS_DENIED' });
    expect(refused.body).toEqual({
      status: 'Failure',
      errorTranslationKeys: ['ACCESS_DENIED'],
      requestId: refused.headers.get('x-request-id'),
    });
  });

  it('ignores the header from clients outside trace.clients, even with the token', async () => {
    const s = await start({ trace: { enabled: true, output: 'header', token: TOKEN, clients: ['192.0.2.0/24'] } });
    const res = await s.call('login', { username: 'till-001' }, { 'x-authpipe-trace': TOKEN }, 'management');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-authpipe-trace')).toBeNull();
    expect(logs.named('trace')).toHaveLength(0);
  });

  it('follows the active config: a reload turns it on', async () => {
    const s = await start({});
    expect((await s.call('login', { username: 'a' }, { 'x-authpipe-trace': '1' }, 'management')).status).toBe(200);
    expect(logs.named('trace')).toHaveLength(0);
    fixture!.writeMain({
      http_configuration: [{ id: 'http', host: '127.0.0.1', port: 0 }],
      modules: [
        { name: 'com.phenixidentity~phenix-api-authenticate', id: 'api', config: { http_configuration_ref: 'http', tenant: TENANTS } },
      ],
      pipes: '../pipes',
      log: { level: 'silent' },
      trace: { enabled: true },
    });
    expect(s.app.reload()).toMatchObject({ ok: true });
    await s.call('login', { username: 'a' }, { 'x-authpipe-trace': '1' }, 'management');
    expect(logs.named('trace')).toHaveLength(1);
  });

  it('refuses at load a header output without a token, or a bad client address', async () => {
    for (const [trace, pointer] of [
      [{ enabled: true, output: 'header' }, '/trace/output'],
      [{ enabled: true, clients: ['localhost'] }, '/trace/clients/0'],
      [{ enabled: true, token: 'short' }, '/trace/token'],
    ] as const) {
      const f = ConfigFixture.minimal(TENANTS, LOGIN_PIPES, { trace });
      try {
        await expect(startServer({ configFile: f.mainFile })).rejects.toMatchObject({ issues: [expect.objectContaining({ pointer })] });
      } finally {
        f.cleanup();
      }
    }
  });
});
