import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { silentLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/create.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RedisStore } from '../../src/store/redis.js';
import { tenantPrefix } from '../../src/store/store.js';
import { systemClock } from '../../src/engine/clock.js';
import { describeWithRedis, freePort, RedisServer, sleep } from '../support/redis.js';
import { failsClosed, openRedis, redisSettings } from '../support/redis-store.js';
import { storeConfig } from '../support/config-defaults.js';

describeWithRedis('redis store', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  // The store contract runs on Redis in contract.test.ts (and on Sentinel and Cluster in topologies.test.ts).

  describe('on the server', () => {
    let store: RedisStore;
    beforeAll(async () => {
      store = await openRedis({ url: redis.url });
    });
    afterAll(async () => {
      await store.close();
    });

    it('keeps keys under the tenant prefix with their TTL in Redis', async () => {
      const key = `${tenantPrefix('acme')}otp:tx-1`;
      await store.set(key, 'hash', 60_000);
      expect(await redis.command('GET', 'authpipe:{acme}:otp:tx-1')).toBe('$4\r\nhash\r\n');
      const pttl = Number(/^:(\d+)/.exec(await redis.command('PTTL', key))?.[1]);
      expect(pttl).toBeGreaterThan(59_000);
      expect(pttl).toBeLessThanOrEqual(60_000);
      await store.incr(`${tenantPrefix('acme')}lock:u`, 30_000);
      expect(Number(/^:(\d+)/.exec(await redis.command('PTTL', `${tenantPrefix('acme')}lock:u`))?.[1])).toBeGreaterThan(29_000);
    });

    it('scripts survive SCRIPT FLUSH (a restarted Redis forgets them)', async () => {
      const key = `${tenantPrefix('acme')}flush`;
      expect(await store.incr(key, 10_000)).toBe(1);
      expect(await store.compareAndSet(key, '1', '5')).toBe(true);
      expect(await redis.command('SCRIPT', 'FLUSH')).toBe('+OK\r\n');
      expect(await store.incr(key, 10_000)).toBe(6);
      expect(await store.compareAndSet(key, '6', '7')).toBe(true);
    });

    it('a key of the wrong type is a COMMUNICATION_ERROR, not a crash', async () => {
      const key = `${tenantPrefix('acme')}a-list`;
      await redis.command('RPUSH', key, 'x');
      await failsClosed(store.incr(key, 1000));
      await failsClosed(store.get(key));
      await failsClosed(store.compareAndSet(key, 'x', 'y'));
    });
  });

  describe('failing closed', () => {
    it('with nothing listening, every operation fails at once with COMMUNICATION_ERROR', async () => {
      const store = new RedisStore(redisSettings({ url: `redis://127.0.0.1:${await freePort()}` }), silentLogger());
      try {
        const ops = [
          store.get('k'),
          store.set('k', 'v', 100),
          store.incr('k', 100),
          store.take('k'),
          store.compareAndSet('k', null, 'v'),
          store.compareAndSet('k', 'a', 'v'),
          store.del('k'),
          store.ttl('k'),
          store.ping(),
        ];
        for (const op of ops) expect(await failsClosed(op)).toBeLessThan(600);
      } finally {
        await store.close();
      }
    });

    it('a hung server (SIGSTOP) fails each operation within the command timeout, then recovers', async () => {
      const own = await RedisServer.start();
      const store = await openRedis({ url: own.url, command_timeout_ms: 300 });
      try {
        await store.set('k', 'before');
        own.pause();
        const took = await Promise.all([failsClosed(store.get('k')), failsClosed(store.incr('n', 1000)), failsClosed(store.ping())]);
        for (const ms of took) {
          expect(ms).toBeGreaterThanOrEqual(250);
          expect(ms).toBeLessThan(600);
        }
        own.resume();
        const until = Date.now() + 5000;
        let value: string | null | undefined;
        while (Date.now() < until && value === undefined) {
          value = await store.get('k').catch(() => undefined);
          if (value === undefined) await sleep(50);
        }
        expect(value).toBe('before');
      } finally {
        await store.close();
        await own.stop();
      }
    });

    it('reconnects by itself when a killed server comes back', async () => {
      const own = await RedisServer.start();
      const store = await openRedis({ url: own.url });
      try {
        expect(await store.incr('n', 60_000)).toBe(1);
        await own.kill();
        await failsClosed(store.incr('n', 60_000));
        await own.start();
        const back = Date.now();
        let n: number | undefined;
        while (Date.now() - back < 5000 && n === undefined) {
          n = await store.incr('n', 60_000).catch(() => undefined);
          if (n === undefined) await sleep(50);
        }
        // No persistence: the restarted server starts empty, and the failed INCR was never replayed.
        expect(n).toBe(1);
        expect(Date.now() - back).toBeLessThan(5000);
      } finally {
        await store.close();
        await own.stop();
      }
    });

    it('close() returns promptly while the server is down', async () => {
      const store = new RedisStore(redisSettings({ url: `redis://127.0.0.1:${await freePort()}` }), silentLogger());
      await sleep(50);
      const started = performance.now();
      await store.close();
      expect(performance.now() - started).toBeLessThan(600);
    });
  });

  describe('selection', () => {
    const runtime = { clock: systemClock, logger: silentLogger(), configDir: process.cwd() };

    it('REDIS_URL overrides a memory config and selects Redis', async () => {
      const store = createStore(storeConfig({ type: 'memory' }), { ...runtime, env: { REDIS_URL: redis.url } });
      try {
        expect(store).toBeInstanceOf(RedisStore);
        await (store as RedisStore).ready();
        await store.set(`${tenantPrefix('sel')}k`, 'via-env');
        expect(await redis.command('GET', `${tenantPrefix('sel')}k`)).toBe('$7\r\nvia-env\r\n');
      } finally {
        await store.close();
      }
    });

    it('memory without REDIS_URL; redis from the config url', async () => {
      const memory = createStore(storeConfig({ type: 'memory' }), { ...runtime, env: {} });
      expect(memory).toBeInstanceOf(MemoryStore);
      await memory.close();
      const fromConfig = createStore(storeConfig({ type: 'redis', url: redis.url }), { ...runtime, env: { REDIS_URL: '' } });
      try {
        expect(fromConfig).toBeInstanceOf(RedisStore);
        await (fromConfig as RedisStore).ready();
        await expect(fromConfig.ping()).resolves.toBeUndefined();
      } finally {
        await fromConfig.close();
      }
    });
  });
});
