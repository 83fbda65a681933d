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
