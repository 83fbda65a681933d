import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { prefixedStore, tenantPrefix, type Store } from '../../src/store/store.js';
import { sleep } from '../support/redis.js';

/**
 * The one store contract, run against every implementation (memory, Redis standalone,
 * Sentinel, Cluster). `elapse` lets TTLs run out: real time for Redis, which keeps its own
 * clock (the default), a ManualClock moved by hand for the memory store. Every key is fresh
 * per test, so the suite can share one server with other suites.
 */
export function storeContract(name: string, open: () => Promise<Store>, elapse: (ms: number) => Promise<void> = sleep): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let key: () => string;

    beforeAll(async () => {
      store = await open();
      const run = randomUUID();
      let n = 0;
      // A tenant prefix, as ctx.store uses: Cluster needs the hash tag for scripts.
      key = () => `${tenantPrefix('contract')}${run}:${++n}`;
    });
    afterAll(async () => {
      await store.close();
    });

    it('get of an absent key is null; set then get returns the value', async () => {
      const k = key();
      expect(await store.get(k)).toBeNull();
      await store.set(k, 'v1');
      expect(await store.get(k)).toBe('v1');
      await store.set(k, 'v2');
      expect(await store.get(k)).toBe('v2');
    });

    it('keeps values byte for byte: unicode, empty, large, odd key characters', async () => {
      const values = ['', 'ö✓ 𝄞', ' spaces and\nnewlines\t', 'x'.repeat(65536), '{"json":true}', '0'];
      for (const value of values) {
        const k = `${key()}:{odd} key ✓`;
        await store.set(k, value);
        expect(await store.get(k)).toBe(value);
      }
    });

    it('set with a TTL: ttl() reports it, the key expires', async () => {
      const k = key();
      await store.set(k, 'v', 300);
      const left = await store.ttl(k);
      expect(left).not.toBeNull();
      expect(left as number).toBeGreaterThan(0);
      expect(left as number).toBeLessThanOrEqual(300);
      await elapse(450);
      expect(await store.get(k)).toBeNull();
      expect(await store.ttl(k)).toBeNull();
    });

    it('set without a TTL keeps the key and drops an earlier TTL', async () => {
      const k = key();
      await store.set(k, 'a', 100);
      await store.set(k, 'b');
      expect(await store.ttl(k)).toBeNull();
      await elapse(180);
      expect(await store.get(k)).toBe('b');
    });

    it('ttl() of an absent key is null', async () => {
      expect(await store.ttl(key())).toBeNull();
    });

    it('incr creates the counter at `by` with the TTL, then adds', async () => {
      const k = key();
      expect(await store.incr(k, 10_000)).toBe(1);
      expect(await store.incr(k, 10_000)).toBe(2);
      expect(await store.incr(k, 10_000, 5)).toBe(7);
      expect(await store.incr(k, 10_000, -3)).toBe(4);
      expect(await store.get(k)).toBe('4');
      const k2 = key();
      expect(await store.incr(k2, 10_000, 3)).toBe(3);
    });

    it('incr sets the TTL only when it creates the key (a window, not a sliding one)', async () => {
      const k = key();
      await store.incr(k, 300);
      await elapse(120);
      await store.incr(k, 300);
      const left = await store.ttl(k);
      expect(left as number).toBeLessThanOrEqual(200);
      await elapse(250);
      expect(await store.get(k)).toBeNull();
      expect(await store.incr(k, 300)).toBe(1);
    });

    it('incr on a key set without TTL keeps it without TTL', async () => {
      const k = key();
      await store.set(k, '10');
      expect(await store.incr(k, 50)).toBe(11);
      expect(await store.ttl(k)).toBeNull();
    });

    it('incr is atomic: 200 parallel increments give 1..200 exactly once each', async () => {
      const k = key();
      const results = await Promise.all(Array.from({ length: 200 }, () => store.incr(k, 10_000)));
      expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(await store.get(k)).toBe('200');
    });

    it('take returns the value once and deletes it', async () => {
      const k = key();
      await store.set(k, 'once', 10_000);
      expect(await store.take(k)).toBe('once');
      expect(await store.take(k)).toBeNull();
      expect(await store.get(k)).toBeNull();
      expect(await store.take(key())).toBeNull();
    });

    it('take is atomic: of 100 parallel takes exactly one gets the value', async () => {
      const k = key();
      await store.set(k, 'single-use', 10_000);
      const results = await Promise.all(Array.from({ length: 100 }, () => store.take(k)));
      expect(results.filter((r) => r === 'single-use')).toHaveLength(1);
      expect(results.filter((r) => r === null)).toHaveLength(99);
    });

    it('take of an expired key is null', async () => {
      const k = key();
      await store.set(k, 'v', 50);
      await elapse(120);
      expect(await store.take(k)).toBeNull();
    });

    it('compareAndSet with expected null writes only when absent', async () => {
      const k = key();
      expect(await store.compareAndSet(k, null, 'first')).toBe(true);
      expect(await store.compareAndSet(k, null, 'second')).toBe(false);
      expect(await store.get(k)).toBe('first');
    });

    it('compareAndSet with a value writes only when it matches', async () => {
      const k = key();
      expect(await store.compareAndSet(k, 'x', 'y')).toBe(false);
      expect(await store.get(k)).toBeNull();
      await store.set(k, 'x');
      expect(await store.compareAndSet(k, 'not-x', 'y')).toBe(false);
      expect(await store.get(k)).toBe('x');
      expect(await store.compareAndSet(k, 'x', 'y')).toBe(true);
      expect(await store.get(k)).toBe('y');
    });

    it('compareAndSet applies the TTL, or drops it when none is given', async () => {
      const k = key();
      expect(await store.compareAndSet(k, null, 'a', 5_000)).toBe(true);
      const left = await store.ttl(k);
      expect(left as number).toBeGreaterThan(4_000);
      expect(await store.compareAndSet(k, 'a', 'b', 100)).toBe(true);
      expect((await store.ttl(k)) as number).toBeLessThanOrEqual(100);
      expect(await store.compareAndSet(k, 'b', 'c')).toBe(true);
      expect(await store.ttl(k)).toBeNull();
    });

    it('compareAndSet with expected null succeeds again once the key expired', async () => {
      const k = key();
      expect(await store.compareAndSet(k, null, 'a', 50)).toBe(true);
      await elapse(120);
      expect(await store.compareAndSet(k, null, 'b', 1_000)).toBe(true);
      expect(await store.get(k)).toBe('b');
    });

    it('compareAndSet is atomic: of 50 parallel swaps from one value exactly one wins', async () => {
      const k = key();
      await store.set(k, 'gen-0');
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.compareAndSet(k, 'gen-0', `gen-1-${i}`)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(await store.get(k)).toBe(`gen-1-${winner}`);
      const fresh = key();
      const creates = await Promise.all(Array.from({ length: 50 }, (_, i) => store.compareAndSet(fresh, null, String(i), 10_000)));
      expect(creates.filter(Boolean)).toHaveLength(1);
    });

    it('del removes a key; deleting an absent key is fine', async () => {
      const k = key();
      await store.set(k, 'v');
      await store.del(k);
      expect(await store.get(k)).toBeNull();
      await expect(store.del(key())).resolves.toBeUndefined();
    });

    it('a tenant view sees only its own keys', async () => {
      const suffix = randomUUID();
      const a = prefixedStore(store, tenantPrefix(`a-${suffix}`));
      const b = prefixedStore(store, tenantPrefix(`b-${suffix}`));
      await a.set('k', 'from-a');
      expect(await b.get('k')).toBeNull();
      expect(await b.incr('k', 1000)).toBe(1);
      expect(await a.get('k')).toBe('from-a');
      expect(await store.get(`${tenantPrefix(`a-${suffix}`)}k`)).toBe('from-a');
      expect(await b.take('k')).toBe('1');
      expect(await a.get('k')).toBe('from-a');
    });

    it('lists: push appends, pop takes from the front, range and length read without taking', async () => {
      const k = key();
      expect(await store.listPop(k)).toBeNull();
      expect(await store.listLength(k)).toBe(0);
      for (const v of ['a', 'b', 'c']) await store.listPush(k, v);
      expect(await store.listRange(k, 2)).toEqual(['a', 'b']);
      expect(await store.listLength(k)).toBe(3);
      expect(await store.listPop(k)).toBe('a');
      expect(await store.listRange(k, 10)).toEqual(['b', 'c']);
      expect(await store.listRange(k, 0)).toEqual([]);
    });

    it('lists: a push with maxLength keeps only the newest values', async () => {
      const k = key();
      for (let i = 0; i < 7; i++) await store.listPush(k, `v${i}`, 3);
      expect(await store.listRange(k, 10)).toEqual(['v4', 'v5', 'v6']);
      // maxLength 0 keeps none, on every store (Redis's LTRIM with -0 would have kept them all).
      await store.listPush(k, 'v7', 0);
      expect(await store.listLength(k)).toBe(0);
      // Anything but a whole number from 0 is refused, before the push, on every store.
      for (const bad of [-1, 1.5, Number.NaN, Infinity]) await expect(store.listPush(k, 'v8', bad)).rejects.toThrow(TypeError);
      expect(await store.listLength(k)).toBe(0);
    });

    it('lists: of 100 parallel pops each of 50 values goes to exactly one, the rest get null', async () => {
      const k = key();
      for (let i = 0; i < 50; i++) await store.listPush(k, `j${i}`);
      const popped = await Promise.all(Array.from({ length: 100 }, () => store.listPop(k)));
      const values = popped.filter((v): v is string => v !== null);
      expect(values).toHaveLength(50);
      expect(new Set(values).size).toBe(50);
      expect(await store.listLength(k)).toBe(0);
    });

    it('lists: move takes the first value of one list to the end of another, remove takes one occurrence', async () => {
      const from = key();
      const to = `${from}-to`;
      expect(await store.listMove(from, to)).toBeNull();
      for (const v of ['a', 'b']) await store.listPush(from, v);
      await store.listPush(to, 'z');
      expect(await store.listMove(from, to)).toBe('a');
      expect(await store.listRange(from, 10)).toEqual(['b']);
      expect(await store.listRange(to, 10)).toEqual(['z', 'a']);
      await store.listPush(to, 'a');
      expect(await store.listRemove(to, 'a')).toBe(true);
      expect(await store.listRange(to, 10)).toEqual(['z', 'a']);
      expect(await store.listRemove(to, 'nothing')).toBe(false);
      expect(await store.listRemove(`${from}-none`, 'a')).toBe(false);
    });

    it('lists: of 100 parallel moves each of 50 values goes to exactly one, and lands in the other list', async () => {
      const from = key();
      const to = `${from}-to`;
      for (let i = 0; i < 50; i++) await store.listPush(from, `j${i}`);
      const moved = (await Promise.all(Array.from({ length: 100 }, () => store.listMove(from, to)))).filter((v): v is string => v !== null);
      expect(new Set(moved).size).toBe(50);
      expect(await store.listLength(from)).toBe(0);
      expect(await store.listLength(to)).toBe(50);
      const removed = await Promise.all(moved.flatMap((v) => [store.listRemove(to, v), store.listRemove(to, v)]));
      expect(removed.filter(Boolean)).toHaveLength(50);
      expect(await store.listLength(to)).toBe(0);
    });

    it('ping answers', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
