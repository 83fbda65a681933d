import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';

let fixture: ConfigFixture;
let server: RunningServer;

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  server = await startServer({ configFile: fixture.mainFile });
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

describe('PUT /api/authentication/echo', () => {
  it('answers 200 with exactly the response properties', async () => {
    const res = await server.call('echo', { username: 'till-001', message: 'hello', extra: 'not returned' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ username: 'till-001', message: 'hello', tenant: 'demo' });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
