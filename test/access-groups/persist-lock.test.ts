import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireFileLock, releaseFileLock } from '../../src/admin/file-lock.js';
import { LockBusy, withLock } from '../../src/admin/persist.js';

/**
 * The cross-process lock around admin writes: a stale lock (its holder died) is broken, a
 * live one never is, and however many processes break the same stale lock at once, one holds
 * the lock at a time. Separate processes are simulated by taking the file lock directly, which skips
 * withLock's in-process chain that would otherwise serialize everything here.
 */
const STALE_AGE_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let lock: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'authpipe-lock-'));
  lock = join(dir, 'groups.json.lock');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Makes the lock at `lock` look taken `ageMs` ago (what a holder that died leaves behind). */
function backdate(ageMs: number): void {
  const then = (Date.now() - ageMs) / 1000;
  // The lock's age is its token file's.
  for (const name of readdirSync(lock)) utimesSync(join(lock, name), then, then);
}

/** A holder that takes the lock and dies without releasing it, `ageMs` ago. */
async function deadHolder(ageMs: number): Promise<string> {
  const token = await acquireFileLock(lock, 1000);
  backdate(ageMs);
  return token;
}

/** Critical sections that record how many ran at once. */
function sections(holdMs: number) {
  const seen = { inside: 0, most: 0, done: 0 };
  const run = async () => {
    seen.inside++;
    seen.most = Math.max(seen.most, seen.inside);
    await sleep(holdMs);
    seen.inside--;
    seen.done++;
  };
  return { seen, run };
}

/** One "process": takes the lock without the in-process chain, runs, releases. */
async function asProcess(run: () => Promise<void>, beforeBreak?: () => Promise<void>): Promise<void> {
  const token = await acquireFileLock(lock, 10_000, beforeBreak);
  try {
    await run();
  } finally {
    await releaseFileLock(lock, token);
  }
}

describe('breaking a stale lock', () => {
  it('breaks the lock of a holder that died and lets the edit proceed', async () => {
    await deadHolder(STALE_AGE_MS + 30_000);
    // Broken at once; the wait only bounds a machine busy with other jobs (200 ms was seen to pass).
    await expect(withLock(lock, async () => 'edited', 2000)).resolves.toBe('edited');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('never breaks a live lock, even just under the stale age: the next one waits, then LockBusy', async () => {
    const holder = await deadHolder(STALE_AGE_MS - 2_000);
    let breaks = 0;
    const started = Date.now();
    await expect(acquireFileLock(lock, 200, async () => void breaks++)).rejects.toBeInstanceOf(LockBusy);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    await expect(withLock(lock, async () => 'never', 200)).rejects.toBeInstanceOf(LockBusy);
    expect(breaks).toBe(0);
    expect(readdirSync(lock)).toEqual([holder]);
    // Released, it is free at once; waiters leave no staging folders behind.
    await releaseFileLock(lock, holder);
    await expect(withLock(lock, async () => 'now', 2000)).resolves.toBe('now');
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a holder too slow to release (its lock broken as stale) leaves the new holder's lock alone", async () => {
    let other = '';
    await withLock(lock, async () => {
      backdate(STALE_AGE_MS + 1_000); // we hung past the stale age; another process takes over
      other = await acquireFileLock(lock, 1000);
    });
    expect(readdirSync(lock)).toEqual([other]);
    await expect(withLock(lock, async () => 'never', 100)).rejects.toBeInstanceOf(LockBusy);
    await releaseFileLock(lock, other);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('many processes that judged a lock stale at once break it one holder at a time, and all run', async () => {
    await deadHolder(STALE_AGE_MS + 30_000);
    const breakers = 6;
    const { seen, run } = sections(40);
    // Every breaker pauses between judging the lock stale and breaking it, until all have
    // judged it; then they break one by one, 15 ms apart, each while the previous one
    // holds the fresh lock it took. A breaker that removed "the stale lock" by path would
    // remove that fresh lock and run alongside its holder.
    let judged = 0;
    let allJudged!: () => void;
    const lined = new Promise<void>((resolve) => (allJudged = resolve));
    const pause = async () => {
      const place = judged++;
      if (judged === breakers) allJudged();
      await lined;
      await sleep(place * 15);
    };
    const results = await Promise.allSettled(Array.from({ length: breakers }, () => asProcess(run, pause)));
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LockBusy);
    expect(seen.most).toBe(1);
    expect(judged).toBe(breakers); // only the dead holder's lock was ever judged stale
    expect(seen.done).toBe(breakers); // waits are long enough that none gave up
    expect(readdirSync(dir)).toEqual([]);
  });

  it('unpaused, rounds of processes racing for a fresh stale lock never overlap', async () => {
    const { seen, run } = sections(3);
    for (let round = 0; round < 10; round++) {
      await deadHolder(STALE_AGE_MS + 30_000);
      await Promise.all(Array.from({ length: 6 }, () => asProcess(run)));
    }
    expect(seen.most).toBe(1);
    expect(seen.done).toBe(60);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an empty lock folder (a breaker emptied it and stopped) counts as free', async () => {
    mkdirSync(lock);
    await expect(withLock(lock, async () => 'taken', 100)).resolves.toBe('taken');
    expect(readdirSync(dir)).toEqual([]);
  });
});
