/**
 * The self-service account registry on a real memory store: names claimed with compare-and-set
 * (of parallel sign-ups for one name exactly one wins, and the loser leaves no key behind),
 * names compared ignoring case, the directory file read first, and a pending account that
 * expires with its names.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryStore } from '../../src/store/memory.js';
import { emptyDirectory } from '../../src/directory/load.js';
import { createAccount, eligible, findAccount, newAccountId, updateAccount, type StoredAccount } from '../../src/accounts/registry.js';
import { ManualClock } from '../support/clock.js';

const clock = new ManualClock(Date.now());
let store: MemoryStore;
afterEach(() => store?.close());

const directory = emptyDirectory();
const account = (username: string, mobile: string): StoredAccount => ({
  v: 1,
  id: newAccountId(),
  username,
  mobile,
  password_hash: '$scrypt$…',
  status: 'pending',
  pools: ['shoppers'],
  created: clock.now(),
});

describe('account registry', () => {
  it('lets exactly one of parallel sign-ups hold a name, leaving nothing of the others', async () => {
    store = new MemoryStore(clock);
    const tries = Array.from({ length: 8 }, (_, i) => account(i % 2 === 0 ? 'Shopper' : 'shopper', `+4670000${i}000`));
    const results = await Promise.all(tries.map((a) => createAccount(directory, store, 'demo', a, 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = tries[results.indexOf(true)] as StoredAccount;
    for (const loser of tries.filter((a) => a !== winner))
      expect(await findAccount(directory, store, 'demo', 'store', 'mobile', loser.mobile as string)).toBeUndefined();
    const found = await findAccount(directory, store, 'demo', 'directory+store', 'username', 'SHOPPER');
    expect(found?.user.id).toBe(winner.id);
    // Pending: not eligible for sign-in, eligible for the sign-up's code.
    expect(eligible(found, 'active')).toBe(false);
    expect(eligible(found, 'pending')).toBe(true);
    expect(await findAccount(directory, store, 'demo', 'directory', 'username', 'shopper')).toBeUndefined();
  });

  it('forgets a pending account and its names after the pending TTL; an active one stays', async () => {
    store = new MemoryStore(clock);
    const pending = account('lapsed', '+46700001111');
    const kept = account('kept', '+46700002222');
    expect(await createAccount(directory, store, 'demo', pending, 60_000)).toBe(true);
    expect(await createAccount(directory, store, 'demo', kept, 60_000)).toBe(true);
    expect(await updateAccount(store, kept, { ...kept, status: 'active' })).toBe(true);
    clock.advance(61_000);
    expect(await findAccount(directory, store, 'demo', 'store', 'username', 'lapsed')).toBeUndefined();
    expect(await createAccount(directory, store, 'demo', account('lapsed', '+46700001111'), 60_000)).toBe(true);
    const active = await findAccount(directory, store, 'demo', 'store', 'mobile', '+46700002222');
    expect(eligible(active, 'active')).toBe(true);
    // A stale record does not update: compare-and-set on the whole record.
    expect(await updateAccount(store, kept, { ...kept, status: 'disabled' })).toBe(false);
  });
});
