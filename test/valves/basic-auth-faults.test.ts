import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { systemClock } from '../../src/engine/clock.js';
import { MemoryStore } from '../../src/store/memory.js';
import { wrapStore, type Store } from '../../src/store/store.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { basic } from '../support/credentials.js';

/** The lockout and rate-limit counters live in the store: when it fails, calls fail closed. */
let fixture: ConfigFixture;
let server: RunningServer;
const memory = new MemoryStore(systemClock);
let broken = false;
const store: Store = wrapStore(memory, (_op, call) => (broken ? Promise.reject(new Error('store down')) : call()));

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  fixture.writePipe('echo', {
    valves: [
      { name: 'rate-limit', config: { key: '{{request.client_ip}}', limit: 100, window_seconds: 60 } },
      { name: 'property-set', config: { properties: { ok: 'yes' } } },
    ],
    response: ['ok'],
  });
  server = await startServer({ configFile: fixture.mainFile, store });
});

afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

describe('with the store down', () => {
  it('till-login and rate-limit answer 500 quickly, then recover', async () => {
    expect((await server.call('till-login', {}, { authorization: basic('till-001', 'till-001-pass') })).status).toBe(200);
    broken = true;
    for (const call of [
      () => server.call('till-login', {}, { authorization: basic('till-001', 'till-001-pass') }), // cached: still checks the lock
      () => server.call('till-login', {}, { authorization: basic('till-001', 'wrong') }),
      () => server.call('till-login', {}, { authorization: basic('nobody', 'x') }),
      () => server.call('echo', {}),
    ]) {
      const started = performance.now();
      const res = await call();
      expect(res.status).toBe(500);
      expect(res.body.errorTranslationKeys).toEqual(['INTERNAL_ERROR']);
      expect(res.body.erroneousProperties).toBeUndefined();
      expect(performance.now() - started).toBeLessThan(2000);
    }
    broken = false;
    expect((await server.call('till-login', {}, { authorization: basic('till-001', 'till-001-pass') })).status).toBe(200);
    expect((await server.call('echo', {})).status).toBe(200);
  });
});
