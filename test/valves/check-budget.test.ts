import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { failureFloorMs } from '../../src/credentials/check.js';
import { hashPassword } from '../../src/credentials/hash.js';
import { basic } from '../support/credentials.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';

/**
 * The budget of cold password checks (one at a time, one waiting here), and lockout that
 * protects without locking others out: API clients are throttled per source address, tills
 * per account. Source addresses come from X-Forwarded-For, the loopback being a trusted proxy.
 */
let fixture: ConfigFixture;
let server: RunningServer;

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo({ hashes: 'shipped' });
  const file = join(fixture.dir, 'config', 'directory.json');
  const directory = JSON.parse(readFileSync(file, 'utf8'));
  for (const name of ['budget-till', 'cached-till', 'locked-till']) {
    directory.tenants.demo.tills.push({
      username: name,
      password_hash: await hashPassword(`${name}-pass`, { ln: 12, r: 8, p: 1 }),
      store: 'store-01',
    });
  }
  fixture.write('config/directory.json', directory);
  const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
  main.http_configuration[0].trusted_proxies = ['127.0.0.1'];
  main.password_checks = { concurrency: 1, queue: 1 };
  fixture.writeMain(main);
  server = await startServer({ configFile: fixture.mainFile });
}, 30_000);

afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

const from = (address: string, authorization: string) => ({ authorization, 'x-forwarded-for': address });

describe('budget of cold checks', () => {
  it('a full queue refuses at once with RATE_LIMITED and Retry-After, known and unknown users alike', async () => {
    const calls = Array.from({ length: 12 }, (_, i) =>
      server.call('till-login', {}, from(`198.51.100.${i}`, basic(i % 2 ? 'budget-till' : `nobody-${i}`, `wrong-${i}`))),
    );
    const answers = await Promise.all(calls);
    const limited = answers.filter((a) => a.body.errorTranslationKeys?.[0] === 'RATE_LIMITED');
    const checked = answers.filter((a) => a.body.errorTranslationKeys?.[0] === 'INVALID_CREDENTIALS');
    expect(limited.length + checked.length).toBe(12);
    // One runs, one waits: the rest are refused by the budget, whoever they named.
    expect(checked.length).toBeGreaterThanOrEqual(2);
    expect(limited.length).toBeGreaterThanOrEqual(6);
    for (const a of limited) expect([a.status, a.headers.get('retry-after')]).toEqual([403, '1']);
    const limitedNames = answers.flatMap((a, i) =>
      a.body.errorTranslationKeys?.[0] === 'RATE_LIMITED' ? [i % 2 ? 'known' : 'unknown'] : [],
    );
    expect(new Set(limitedNames)).toEqual(new Set(['known', 'unknown']));
  }, 30_000);

  it('cached logins do not wait behind a saturated budget', async () => {
    expect((await server.call('till-login', {}, from('192.0.2.1', basic('cached-till', 'cached-till-pass')))).status).toBe(200);
    const cold = Array.from({ length: 6 }, (_, i) => server.call('till-login', {}, from(`198.51.100.${50 + i}`, basic(`spray-${i}`, 'x'))));
    const started = performance.now();
    const cached = await server.call('till-login', {}, from('192.0.2.1', basic('cached-till', 'cached-till-pass')));
    const ms = performance.now() - started;
    expect(cached.status).toBe(200);
    const answers = await Promise.all(cold);
    expect(answers.every((a) => a.status === 403)).toBe(true);
    // Waiting behind a cold check would cost at least the failure floor (a scrypt at N=2^15).
    expect(ms).toBeLessThan(failureFloorMs() / 2);
  }, 30_000);
});

describe('lockout without locking others out', () => {
  it('API client: 5 failures from one address, then the right secret from another address works', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await server.call('client-login', {}, from('203.0.113.66', basic('pos-server-1', `guess-${i}`)));
      expect(res.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
    }
    expect((await server.call('client-login', {}, from('198.51.100.200', basic('pos-server-1', 'pos-server-1-secret')))).status).toBe(200);
    // The address that failed is the one held back, even with the right secret.
    const held = await server.call('client-login', {}, from('203.0.113.66', basic('pos-server-1', 'pos-server-1-secret')));
    expect(held.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
  }, 30_000);

  it('till: 5 failures lock the account itself, from every address (the trade-off tills keep)', async () => {
    for (let i = 0; i < 5; i++) await server.call('till-login', {}, from('203.0.113.77', basic('locked-till', `guess-${i}`)));
    const elsewhere = await server.call('till-login', {}, from('198.51.100.201', basic('locked-till', 'locked-till-pass')));
    expect(elsewhere.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
  }, 30_000);
});
