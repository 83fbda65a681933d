import { once } from 'node:events';
import { afterEach, describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { CapturedLines } from '../support/capture.js';

/** A pipe whose answer names the config version it ran on. */
const versioned = (v: string) => ({ valves: [{ name: 'property-set', config: { properties: { v } } }], response: ['v'] });

let fixture: ConfigFixture | undefined;
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  fixture?.cleanup();
  server = undefined;
  fixture = undefined;
});

async function readyz(s: RunningServer): Promise<any> {
  return (await fetch(`${s.managementUrl}/readyz`)).json();
}

async function waitFor<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('readyz: why a reload was refused', () => {
  it('is shown only to readyz.clients; everyone else sees that and when, not why', async () => {
    fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['echo'] }], { echo: versioned('v0') }, { readyz: { clients: ['192.0.2.7'] } });
    server = await startServer({ configFile: fixture.mainFile });
    fixture.writePipe('echo', { valves: [{ name: 'no-such-valve' }], response: ['v'] });
    expect(server.app.reload('test').ok).toBe(false);
    const outsider = await readyz(server);
    expect(outsider).toMatchObject({ status: 'ready', version: server.app.holder.current.version, lastReloadError: { count: 1 } });
    expect(typeof outsider.lastReloadError.at).toBe('string');
    expect(outsider.lastReloadError).not.toHaveProperty('issues');
    expect(JSON.stringify(outsider)).not.toContain('echo.json');
  });

  it('refuses a readyz.clients entry that is not an address or range, at load', async () => {
    fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['echo'] }], { echo: versioned('v0') }, { readyz: { clients: ['10.0.0.0/33'] } });
    await expect(startServer({ configFile: fixture.mainFile })).rejects.toThrow(/\/readyz\/clients\/0/);
  });
});

describe('hot reload', () => {
  it('serves every call across 20 reloads, one of them invalid, with zero failures', async () => {
    fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['echo'] }], { echo: versioned('v0') });
    server = await startServer({ configFile: fixture.mainFile });
    const s = server;
    const valid = new Set(['v0']);
    const seen = new Map<string, number>();
    const failures: unknown[] = [];
    let calls = 0;
    let running = true;
    const worker = async () => {
      while (running) {
        try {
          const res = await s.call('echo', {});
          calls += 1;
          if (res.status !== 200 || !valid.has(res.body.v)) failures.push({ status: res.status, body: res.body });
          else seen.set(res.body.v, (seen.get(res.body.v) ?? 0) + 1);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const workers = Array.from({ length: 6 }, worker);

    // Calls answered since the last reload: each config serves some before the next swap,
    // however slow the machine is.
    const servedSome = async () => {
      const mark = calls;
      while (calls < mark + 8 && failures.length === 0) await new Promise((r) => setTimeout(r, 5));
    };
    for (let i = 1; i <= 20; i += 1) {
      await servedSome();
      if (i === 10) {
        fixture.writePipe('echo', { valves: [{ name: 'no-such-valve' }], response: ['v'] });
        const result = s.app.reload('test');
        expect(result.ok).toBe(false);
        const status = await readyz(s);
        expect(status.version).toBe(s.app.holder.current.version);
        expect(status.lastReloadError.issues[0]).toMatchObject({ pointer: '/valves/0/name' });
        expect(status.lastReloadError.issues[0].file).toMatch(/pipes\/echo\.json$/);
        expect((await s.call('echo', {})).body).toEqual({ v: 'v9' });
      } else {
        valid.add(`v${i}`);
        fixture.writePipe('echo', versioned(`v${i}`));
        expect(s.app.reload('test')).toMatchObject({ ok: true });
      }
    }
    await servedSome();
    running = false;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThanOrEqual(21 * 8);
    // Calls were in flight across the swaps: every valid version answered some of them.
    expect([...seen.keys()].sort()).toEqual([...valid].sort());
    expect((await s.call('echo', {})).body).toEqual({ v: 'v20' });
    expect((await readyz(s)).lastReloadError).toBeNull();
    const metrics = await (await fetch(`${s.managementUrl}/metrics`)).text();
    expect(metrics).toContain('authpipe_config_reloads_total{result="success"} 20'); // 19 reloads + the first load
    expect(metrics).toContain('authpipe_config_reloads_total{result="failure"} 1');
    expect(metrics).toContain(`authpipe_config_info{version="${s.app.holder.current.version}"} 1`);
  });

  it('finishes a call in flight on the config it started with', async () => {
    fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['echo'] }], { echo: versioned('old') });
    server = await startServer({ configFile: fixture.mainFile });
    const { port } = server.server.address() as AddressInfo;
    const body = '{"a":"b"}';
    const socket = connect(port, '127.0.0.1');
    const answer = new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c) => chunks.push(c)).on('close', () => resolve(Buffer.concat(chunks).toString()));
    });
    // Headers now, body later: the call has started and is waiting for its body.
    const arrived = once(server.server, 'request');
    socket.write(`PUT /api/authentication/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\ntenant: demo\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n{"a"`);
    await arrived;
    fixture.writePipe('echo', versioned('new'));
    expect(server.app.reload('test')).toMatchObject({ ok: true });
    expect((await server.call('echo', {})).body).toEqual({ v: 'new' });
    socket.write(body.slice(4));
    const raw = await answer;
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(raw.endsWith('{"v":"old"}')).toBe(true);
  });

  it('watches config and pipe files, debounces, and keeps the last good config on a bad edit', async () => {
    const audit = new CapturedLines();
    fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['echo'] }], { echo: versioned('w0') }, { reload: { debounce_ms: 100 } });
    server = await startServer({ configFile: fixture.mainFile, auditStream: audit });
    server.app.watch();
    const s = server;
    const first = s.app.holder.current.version;

    // A burst of writes is one reload.
    for (let i = 1; i <= 5; i += 1) fixture.writePipe('echo', versioned(`w${i}`));
    const after = await waitFor(() => readyz(s), (r) => r.version !== first);
    expect(after.version).not.toBe(first);
    expect((await s.call('echo', {})).body).toEqual({ v: 'w5' });
    await new Promise((r) => setTimeout(r, 300));
    expect(audit.named('admin.config_reloaded')).toHaveLength(1);
    expect(audit.named('admin.config_reloaded')[0]).toMatchObject({ subject: 'watch', version: after.version, previous: first });

    // A broken edit: reported on /readyz, the last good config keeps serving.
    fixture.writePipe('echo', '{"id": "echo", "valves": [');
    const broken = await waitFor(() => readyz(s), (r) => r.lastReloadError !== null);
    expect(broken.version).toBe(after.version);
    expect(broken.lastReloadError.issues[0].file).toMatch(/pipes\/echo\.json$/);
    expect(broken.lastReloadError.issues[0].message).toMatch(/invalid JSON/);
    expect((await s.call('echo', {})).body).toEqual({ v: 'w5' });
    expect(audit.named('admin.config_rejected')[0]).toMatchObject({ subject: 'watch', version: after.version });

    // Undoing the bad edit: the serving version again, so no swap and no audit event, and
    // /readyz no longer reports an error.
    fixture.writePipe('echo', versioned('w5'));
    const undone = await waitFor(() => readyz(s), (r) => r.lastReloadError === null);
    expect(undone).toMatchObject({ version: after.version, lastReloadError: null });
    expect(audit.named('admin.config_reloaded')).toHaveLength(1);

    // A new pipe file and a main-file edit that allows it: both seen.
    fixture.writePipe('echo', versioned('w6'));
    fixture.writePipe('second', versioned('s1'));
    const main = JSON.parse(JSON.stringify({
      http_configuration: [{ id: 'http', host: '127.0.0.1', port: 0 }],
      modules: [{ name: 'com.phenixidentity~phenix-api-authenticate', id: 'api', config: { http_configuration_ref: 'http', tenant: [{ id: 'demo', allowedOperation: ['echo', 'second'] }] } }],
      pipes: '../pipes',
      store: { type: 'memory' },
      log: { level: 'silent' },
      reload: { debounce_ms: 100 },
    }));
    fixture.writeMain(main);
    const fixed = await waitFor(() => s.call('second', {}), (r) => r.status === 200);
    expect(fixed.body).toEqual({ v: 's1' });
    expect((await readyz(s)).lastReloadError).toBeNull();
    expect((await s.call('echo', {})).body).toEqual({ v: 'w6' });
  });

  it('does not watch when reload.watch is false', async () => {
    fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['echo'] }], { echo: versioned('n0') }, { reload: { watch: false, debounce_ms: 20 } });
    server = await startServer({ configFile: fixture.mainFile });
    server.app.watch();
    fixture.writePipe('echo', versioned('n1'));
    await new Promise((r) => setTimeout(r, 300));
    expect((await server.call('echo', {})).body).toEqual({ v: 'n0' });
    expect(server.app.reload('SIGHUP')).toMatchObject({ ok: true });
    expect((await server.call('echo', {})).body).toEqual({ v: 'n1' });
  });
});
