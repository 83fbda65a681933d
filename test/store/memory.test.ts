import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '../support/clock.js';
import { MemoryStore } from '../../src/store/memory.js';

// The store contract runs on the memory store in contract.test.ts, as on every backend.

describe('memory store: counters are capped and fail closed', () => {
  const make = (maxCounters: number, clock = new ManualClock()) => {
    const events: [string, number][] = [];
    const store = new MemoryStore(clock, 60_000, { maxCounters, onCounters: (event, n) => void events.push([event, n]) });
    return { store, events, clock };
  };

  it('refuses a new counter with RATE_LIMITED when every counter is live, and keeps counting the old ones', async () => {
    const { store, events } = make(100);
    for (let i = 0; i < 100; i++) await store.incr(`c${i}`, 60_000);
    await expect(store.incr('one-too-many', 60_000)).rejects.toMatchObject({ code: 'RATE_LIMITED', headers: { 'retry-after': '1' } });
    expect(await store.incr('c7', 60_000)).toBe(2);
    expect(store.counterCount).toBe(100);
    expect(events).toEqual([['refused', 1]]);
    // Plain keys are not counters: an OTP transaction or a lock still gets written.
    await store.set('otp:tx:x', 'record', 60_000);
    expect(await store.get('otp:tx:x')).toBe('record');
  });

  it('a flood of distinct keys: evicts expired and zeroed counters first, never a live count', async () => {
    const { store, events, clock } = make(100);
    for (let i = 0; i < 50; i++) await store.incr(`short${i}`, 1_000);
    for (let i = 0; i < 30; i++) {
      await store.incr(`released${i}`, 60_000);
      await store.incr(`released${i}`, 60_000, -1);
    }
    for (let i = 0; i < 20; i++) await store.incr(`live${i}`, 60_000, 3);
    clock.advance(2_000);
    for (let i = 0; i < 80; i++) await store.incr(`flood${i}`, 60_000);
    expect(events).toEqual([['evicted', 80]]);
    for (let i = 0; i < 20; i++) expect(await store.get(`live${i}`)).toBe('3');
    await expect(store.incr('flood-more', 60_000)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    // Once the table has room again (a counter deleted, or a second later a rescan), new counters are back.
    await store.del('live0');
    expect(await store.incr('after-room', 60_000)).toBe(1);
  });
});

describe('memory store: lists', () => {
  it('takes from the front of a long queue in constant time, in order, and trims from the front', async () => {
    const store = new MemoryStore();
    const n = 100_000;
    for (let i = 0; i < n; i++) await store.listPush('q', `job-${i}`);
    const started = performance.now();
    const popped: string[] = [];
    for (let i = 0; i < n / 2; i++) popped.push((await store.listPop('q')) as string);
    // An array's shift copies a list this long on every pop: about 50 µs a pop, 2.5 s here.
    expect(performance.now() - started).toBeLessThan(500);
    expect(popped.slice(0, 2)).toEqual(['job-0', 'job-1']);
    expect(popped.at(-1)).toBe(`job-${n / 2 - 1}`);
    expect(await store.listLength('q')).toBe(n / 2);
    expect(await store.listRange('q', 2)).toEqual([`job-${n / 2}`, `job-${n / 2 + 1}`]);
    expect(await store.listRemove('q', `job-${n / 2 + 1}`)).toBe(true);
    expect(await store.listRemove('q', 'job-0')).toBe(false);
    await store.listPush('q', 'last', 3);
    expect(await store.listRange('q', 10)).toEqual([`job-${n - 2}`, `job-${n - 1}`, 'last']);
    await store.close();
  });
});
