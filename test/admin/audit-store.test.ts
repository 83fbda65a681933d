/**
 * The console's audit lives in the store: an admin change is kept with a before/after diff
 * whose secrets are masked, filtered and exported as JSON lines, and on Redis it is still
 * there after the server restarts.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ConfigFixture } from '../support/fixture.js';
import { describeWithRedis, RedisServer } from '../support/redis.js';
import { startServer, type RunningServer } from '../support/server.js';
import { adminToken, api, editJson, makeOperator } from './support.js';

const PHC = /\$(scrypt|argon2|2[aby]|pbkdf2)\$/;

describeWithRedis('the audit kept in the store', () => {
  let redis: RedisServer;
  let fixture: ConfigFixture;
  let server: RunningServer | undefined;

  const start = async () => {
    server = await startServer({ configFile: fixture.mainFile });
    return server;
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    fixture = ConfigFixture.fromDemo();
    makeOperator(fixture);
    editJson(fixture, 'config/authpipe.json', (m) => {
      m.store = { type: 'redis', url: redis.url, command_timeout_ms: 2000 };
    });
  });
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
    fixture?.cleanup();
  });

  it('keeps an admin change with its diff, secrets masked, across a restart', async () => {
    const first = await start();
    const token = await adminToken(first);
    const tenant = await api(first, 'GET', '/admin/tenants/demo', { token });
    const renamed = await api(first, 'PATCH', '/admin/tenants/demo', {
      token,
      body: { displayName: 'Demo, renamed' },
      ifMatch: tenant.headers.get('etag') as string,
    });
    expect(renamed.status).toBe(200);
    const till = await api(first, 'GET', '/admin/directory/tills/till-001', { token });
    const secret = await api(first, 'POST', '/admin/directory/tills/till-001/password', {
      token,
      body: { password: 'a-new-till-password' },
      ifMatch: till.headers.get('etag') as string,
    });
    expect(secret.status).toBe(200);
    await first.close();
    server = undefined;

    const second = await start();
    const again = await adminToken(second);
    const audit = await api(second, 'GET', '/admin/audit?event=admin.config_changed', { token: again });
    expect(audit.status).toBe(200);
    const events = audit.body.events as { resource: string; action: string; diff: string; subject: string }[];
    const tenantChange = events.find((e) => e.resource === 'tenant');
    expect(JSON.parse(tenantChange?.diff ?? '[]')).toEqual([
      expect.objectContaining({ pointer: '/modules/0/config/tenant/0/displayName', before: 'Demo brand', after: 'Demo, renamed' }),
    ]);
    expect(tenantChange?.subject).toBe('admin-console');
    const passwordChange = events.find((e) => e.resource === 'till' && e.action === 'set-password');
    expect(JSON.parse(passwordChange?.diff ?? '[]')).toEqual([
      expect.objectContaining({ pointer: '/tenants/demo/tills/0/password_hash', before: '***', after: '***' }),
    ]);
    expect(JSON.stringify(audit.body)).not.toMatch(PHC);
    expect(readFileSync(fixture.mainFile, 'utf8')).toContain('Demo, renamed');

    // The same events as JSON lines, and filtered by time.
    const lines = await fetch(`${second.managementUrl}/admin/audit?event=admin.config_changed&format=jsonl`, {
      headers: { authorization: `Bearer ${again}`, tenant: 'demo' },
    });
    expect(lines.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const parsed = (await lines.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(parsed.map((e) => e.resource)).toEqual(events.map((e) => e.resource));
    const future = await api(second, 'GET', `/admin/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, {
      token: again,
    });
    expect(future.body.events).toEqual([]);
  });
});
