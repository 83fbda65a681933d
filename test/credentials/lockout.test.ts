import { afterEach, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../support/clock.js';
import { DEFAULT_LOCKOUT, Lockout } from '../../src/credentials/lockout.js';
import { MemoryStore } from '../../src/store/memory.js';

const clock = new ManualClock();
let store: MemoryStore;
afterEach(() => store.close());

function setup(policy = DEFAULT_LOCKOUT): Lockout {
  store = new MemoryStore(clock);
  return new Lockout(policy);
}

async function fail(lockout: Lockout, account: string): Promise<number | null | 'refused'> {
  const r = await lockout.reserve(store, account);
  if (!r.ok) return 'refused';
  return lockout.failed(store, account, r.attempt);
}

describe('Lockout', () => {
  it('locks at the threshold for the first lock time', async () => {
    const lockout = setup();
    for (let i = 1; i < 5; i++) expect(await fail(lockout, 'till:a')).toBeNull();
    expect(await fail(lockout, 'till:a')).toBe(60_000);
    expect(await lockout.isLocked(store, 'till:a')).toBe(true);
    expect(await lockout.reserve(store, 'till:a')).toEqual({ ok: false, reason: 'locked' });
    expect(await lockout.isLocked(store, 'till:b')).toBe(false);
    clock.advance(59_999);
    expect(await lockout.isLocked(store, 'till:a')).toBe(true);
    clock.advance(1);
    expect(await lockout.isLocked(store, 'till:a')).toBe(false);
  });

  it('doubles each lock up to the maximum', async () => {
    const lockout = setup();
    const locks: (number | null | 'refused')[] = [];
    for (let round = 0; round < 6; round++) {
      for (let i = 1; i < 5; i++) await fail(lockout, 'till:a');
      const duration = await fail(lockout, 'till:a');
      locks.push(duration);
      clock.advance(duration as number);
    }
    expect(locks).toEqual([60_000, 120_000, 240_000, 480_000, 900_000, 900_000]);
  });

  it('starts over after a success', async () => {
    const lockout = setup();
    for (let i = 1; i < 5; i++) await fail(lockout, 'till:a');
    await lockout.succeeded(store, 'till:a');
    for (let i = 1; i < 5; i++) expect(await fail(lockout, 'till:a')).toBeNull();
    expect(await fail(lockout, 'till:a')).toBe(60_000);
  });

  it('forgets failures after the window', async () => {
    const lockout = setup();
    for (let i = 1; i < 5; i++) await fail(lockout, 'till:a');
    clock.advance(DEFAULT_LOCKOUT.windowMs);
    for (let i = 1; i < 5; i++) expect(await fail(lockout, 'till:a')).toBeNull();
  });

  it('lets at most the threshold of parallel attempts through', async () => {
    const lockout = setup();
    const reservations = await Promise.all(Array.from({ length: 20 }, () => lockout.reserve(store, 'till:a')));
    expect(reservations.filter((r) => r.ok)).toHaveLength(5);
    expect(reservations.filter((r) => !r.ok && r.reason === 'attempts_exhausted')).toHaveLength(15);
  });

  it("finds and clears locks counted apart (per address, per pool) under the account's own name", async () => {
    const lockout = setup();
    for (let i = 0; i < 5; i++) await fail(lockout, 'client:pos@127.0.0.1');
    for (let i = 0; i < 5; i++) await fail(lockout, 'user:ann@example.com@::1@pool:shoppers');
    expect(await lockout.lockedForMs(store, 'client:pos')).toBe(60_000);
    expect(await lockout.lockedForMs(store, 'user:ann@example.com')).toBe(60_000);
    // Another account whose name the locked one starts with is not taken for it.
    expect(await lockout.lockedForMs(store, 'user:ann')).toBeNull();
    expect(await lockout.lockedForMs(store, 'client:po')).toBeNull();
    await lockout.unlock(store, 'client:pos');
    expect(await lockout.isLocked(store, 'client:pos@127.0.0.1')).toBe(false);
    expect(await lockout.lockedForMs(store, 'client:pos')).toBeNull();
    expect(await lockout.isLocked(store, 'user:ann@example.com@::1@pool:shoppers')).toBe(true);
    // The index goes with the lock it names: an account that once locked leaves nothing behind.
    clock.advance(60_000);
    expect(await store.get('lockout:user:ann@example.com:apart')).toBeNull();
    expect(await lockout.lockedForMs(store, 'user:ann@example.com')).toBeNull();
  });
});
