/**
 * Account lockout, counted atomically in the (tenant-scoped) store. Before a credential is
 * verified, an attempt is reserved with one atomic increment; an attempt beyond the
 * threshold is refused without verification, so parallel guesses cannot get more than the
 * threshold through, whatever their timing and whichever process serves them. A success
 * releases the reservation and resets the count; a failure keeps it. The failure that
 * reaches the threshold locks the account for `lock`, doubling with each lock up to `max`;
 * the lock count is remembered for `memory`. Unknown user names are counted the same way,
 * so a lock reveals nothing about whether the account exists.
 */
import { isIP } from 'node:net';
import { defaultsOf } from '../config-kit/schema-defaults.js';
import type { ConfigOf } from '../engine/valve.js';
import { readNow, type Store } from '../store/store.js';
import { addToIndex, readIndex } from '../store/ttl-index.js';
import type { ConfigIssueCode } from '../errors.js';

export interface LockoutPolicy {
  threshold: number;
  lockMs: number;
  maxLockMs: number;
  /** Failures older than this (from the first of a round) are forgotten. */
  windowMs: number;
  /** How long the number of past locks is remembered for the doubling. */
  memoryMs: number;
}

export type Reservation = { ok: true; attempt: number } | { ok: false; reason: 'locked' | 'attempts_exhausted' };

/** The key whose presence locks `account` (read on every cached login: built alone, not with the others). */
const lockKey = (account: string): string => `lockout:${account}:lock`;

export class Lockout {
  constructor(readonly policy: LockoutPolicy) {}

  private keys(account: string) {
    const base = `lockout:${account}`;
    return { attempts: `${base}:attempts`, lock: lockKey(account), level: `${base}:level` };
  }

  /** Whether `account` is locked: at once when the store can answer so (memory), else a promise. */
  isLocked(store: Store, account: string): boolean | Promise<boolean> {
    return readNow(store, lockKey(account), (lock) => lock !== null);
  }

  /**
   * How long the account stays locked, in ms, the longest of its own lock and those counted
   * apart for it (from one address, or a pool it is not in); null when none is locked.
   */
  async lockedForMs(store: Store, account: string): Promise<number | null> {
    let longest: number | null = null;
    for (const name of [account, ...(await this.apart(store, account))]) {
      const key = this.keys(name).lock;
      if ((await store.get(key)) === null) continue;
      longest = Math.max(longest ?? 0, (await store.ttl(key)) ?? 0);
    }
    return longest;
  }

  /** An admin's unlock: the lock, the attempts and the doubling all start over, for the account and every lock counted apart for it. */
  async unlock(store: Store, account: string): Promise<void> {
    for (const name of [account, ...(await this.apart(store, account))]) {
      const keys = this.keys(name);
      await Promise.all([store.del(keys.lock), store.del(keys.attempts), store.del(keys.level)]);
    }
    await store.del(apartIndex(account));
  }

  /** The names locked apart for `account` (`<account>@<address>`, `…@pool:<pool>`) that its index holds. */
  private async apart(store: Store, account: string): Promise<string[]> {
    const names = await readIndex(store, apartIndex(account));
    return [...new Set(names)].filter((name) => name.startsWith(`${account}@`) && isApartSuffix(name.slice(account.length + 1)));
  }

  /** Takes one attempt slot; refused when the account is locked or the slots are taken. */
  async reserve(store: Store, account: string): Promise<Reservation> {
    const keys = this.keys(account);
    if ((await store.get(keys.lock)) !== null) return { ok: false, reason: 'locked' };
    const attempt = await store.incr(keys.attempts, this.policy.windowMs);
    if (attempt > this.policy.threshold) return { ok: false, reason: 'attempts_exhausted' };
    return { ok: true, attempt };
  }

  /** Gives a reserved attempt back: the check did not happen, or was no guess (a fault, a double submit). */
  async release(store: Store, account: string): Promise<void> {
    await store.incr(this.keys(account).attempts, this.policy.windowMs, -1);
  }

  /** The credential was right: the count and the doubling start over. */
  async succeeded(store: Store, account: string): Promise<void> {
    const keys = this.keys(account);
    await Promise.all([store.del(keys.attempts), store.del(keys.level)]);
  }

  /** A failed check that reserved no attempt beforehand (remote checks); returns the lock duration when it locked the account. */
  async countFailure(store: Store, account: string): Promise<number | null> {
    return this.failed(store, account, await store.incr(this.keys(account).attempts, this.policy.windowMs));
  }

  /** A failed check; returns the lock duration when this failure locked the account. */
  async failed(store: Store, account: string, attempt: number): Promise<number | null> {
    if (attempt < this.policy.threshold) return null;
    const keys = this.keys(account);
    const level = await store.incr(keys.level, this.policy.memoryMs);
    const duration = Math.min(this.policy.lockMs * 2 ** Math.min(level - 1, 30), this.policy.maxLockMs);
    await store.set(keys.lock, String(level), duration);
    // A fresh round of attempts starts when the lock ends.
    await store.del(keys.attempts);
    await indexApart(store, account, duration);
    return duration;
  }
}

/** How many locks counted apart an account's index keeps (the newest); the index lasts as long as its longest lock. */
const APART_KEPT = 32;

function apartIndex(account: string): string {
  return `lockout:${account}:apart`;
}

/** What follows an account's name in a lock counted apart: an address (maybe unknown: empty), a pool, or both. */
function isApartSuffix(suffix: string): boolean {
  const [address, pool, ...rest] = suffix.split('@');
  if (rest.length > 0) return false;
  if (pool === undefined) return address === '' || isIP(address as string) !== 0 || /^pool:[a-z0-9_-]+$/.test(address as string);
  return (address === '' || isIP(address as string) !== 0) && /^pool:[a-z0-9_-]+$/.test(pool);
}

/**
 * A lock counted apart (`client:<id>@<address>`, a non-member's `user:<name>@pool:<pool>`)
 * is listed under the account the admin knows, so the admin API finds and clears it. The
 * account's own name may hold an @ (a user named by email), so the lock is listed under every
 * name it starts with; each reader keeps only names whose rest is an address or a pool. Only
 * locking writes here, never a plain failure, so a guessing burst costs no extra write.
 */
async function indexApart(store: Store, name: string, lockMs: number): Promise<void> {
  for (let at = name.indexOf('@'); at >= 0; at = name.indexOf('@', at + 1)) {
    await addToIndex(store, apartIndex(name.slice(0, at)), name, lockMs, APART_KEPT);
  }
}

/** The settings every lockout-using valve accepts under `lockout` (JSON Schema properties). */
export const LOCKOUT_PROPERTIES = {
  enabled: { type: 'boolean', default: true, description: 'false: no failures are counted and nothing is locked.' },
  threshold: { type: 'integer', minimum: 1, maximum: 1000, default: 5, description: 'Failed checks that lock the account.' },
  lock_seconds: { type: 'integer', minimum: 1, default: 60, description: 'First lock; each further lock doubles it.' },
  max_lock_seconds: {
    type: 'integer',
    minimum: 1,
    default: 900,
    description: 'The longest one lock lasts, however often it doubled; at least lock_seconds.',
  },
  window_seconds: {
    type: 'integer',
    minimum: 1,
    default: 900,
    description: 'Failures are forgotten this long after the first of a round.',
  },
  memory_seconds: { type: 'integer', minimum: 1, default: 86400, description: 'How long past locks count for the doubling.' },
} as const;

/** A `lockout` section with every option set (each has a default): the loader fills them in, or `LOCKOUT_DEFAULTS` does. */
export type LockoutConfig = ConfigOf<{ type: 'object'; additionalProperties: false; properties: typeof LOCKOUT_PROPERTIES }>;

/** A lockout section left at its schema defaults. */
const LOCKOUT_DEFAULTS: LockoutConfig = defaultsOf(LOCKOUT_PROPERTIES);

function lockoutPolicy(config: LockoutConfig): LockoutPolicy {
  return {
    threshold: config.threshold,
    lockMs: config.lock_seconds * 1000,
    maxLockMs: config.max_lock_seconds * 1000,
    windowMs: config.window_seconds * 1000,
    memoryMs: config.memory_seconds * 1000,
  };
}

/** The policy of a lockout section left at its defaults (the admin unlock). */
export const DEFAULT_LOCKOUT: LockoutPolicy = lockoutPolicy(LOCKOUT_DEFAULTS);

/** The Lockout a valve's `lockout` config asks for (null when disabled); `fail` reports a load error at a pointer. */
export function lockoutFrom(
  config: LockoutConfig,
  fail: (pointer: string, message: string, code: ConfigIssueCode) => never,
  pointer = '/lockout',
): Lockout | null {
  if (!config.enabled) return null;
  const lockout = new Lockout(lockoutPolicy(config));
  if (lockout.policy.maxLockMs < lockout.policy.lockMs)
    fail(`${pointer}/max_lock_seconds`, 'must be at least lock_seconds', 'CONFIG_INVALID');
  return lockout;
}
