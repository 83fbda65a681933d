import { afterEach, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.js';
import { silentLogger } from '../../src/logger.js';
import { ConfigFixture } from '../support/fixture.js';
import { freePort } from '../support/net.js';
import { startServer, type RunningServer } from '../support/server.js';

/** The split: operator routes on the management listener only; the public one serves callers. */
let fixture: ConfigFixture | undefined;
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  fixture?.cleanup();
  server = fixture = undefined;
});

describe('management listener', () => {
  it('serves metrics, readyz, the admin API and openapi; the public listener answers them 404', async () => {
    fixture = ConfigFixture.fromDemo();
    server = await startServer({ configFile: fixture.mainFile });
    for (const path of ['/metrics', '/readyz', '/admin/access-groups', '/admin/pipes', '/admin/openapi.json', '/console']) {
      const res = await fetch(`${server.url}${path}`);
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    expect((await fetch(`${server.managementUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${server.managementUrl}/readyz`)).status).toBe(200);
    // The admin API is there, and wants a token.
    expect((await fetch(`${server.managementUrl}/admin/access-groups`, { headers: { tenant: 'demo' } })).status).toBe(401);
    // Both answer liveness; the public one still serves the API and JWKS.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.managementUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/.well-known/jwks.json`)).status).toBe(200);
    expect((await server.call('echo', { username: 'a' })).status).toBe(200);
  });

  it('listens on management.host:port from the config, MANAGEMENT_PORT overriding the port', async () => {
    fixture = ConfigFixture.fromDemo();
    const [configured, overridden] = [await freePort(), await freePort()];
    const main = fixture.readJson('config/authpipe.json') as Record<string, unknown>;
    fixture.writeMain({ ...main, management: { host: '127.0.0.1', port: configured } });
    for (const [env, expected] of [
      [{}, configured],
      [{ MANAGEMENT_PORT: String(overridden) }, overridden],
    ] as const) {
      const app = createApp({
        configFile: fixture.mainFile,
        logger: silentLogger(),
        auditStream: { write() {} },
        env: { PORT: '0', ...env },
      });
      try {
        const servers = await app.listen();
        expect((servers[servers.length - 1]?.address() as AddressInfo).port).toBe(expected);
        expect((await fetch(`http://127.0.0.1:${expected}/readyz`)).status).toBe(200);
      } finally {
        await app.close();
      }
    }
  });

  it('refuses at load a bad management section, naming its pointer', async () => {
    fixture = ConfigFixture.fromDemo();
    const main = fixture.readJson('config/authpipe.json') as Record<string, unknown>;
    for (const [management, pointer] of [
      [{ port: 70000 }, '/management/port'],
      [{ trusted_proxies: ['10.0.0.0/99'] }, '/management/trusted_proxies/0'],
      [{ listen: 'x' }, '/management'],
    ] as const) {
      fixture.writeMain({ ...main, management });
      expect(() => createApp({ configFile: fixture!.mainFile, logger: silentLogger(), env: {} })).toThrow(
        expect.objectContaining({ issues: expect.arrayContaining([expect.objectContaining({ pointer })]) }),
      );
    }
  });
});
