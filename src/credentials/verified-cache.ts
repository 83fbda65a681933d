/**
 * The verified-credential cache: repeat calls with credentials that verified a moment ago
 * skip the slow hash. It lives in process memory for the life of the process (across config
 * reloads), holds only successes, and is keyed by a keyed SHA-256 under a random per-process
 * key of (tenant, kind, user, password, stored hash): no password or usable digest of one is
 * kept, and a changed hash misses by construction. Entries expire after the TTL the caller gives;
 * the size is bounded, the least recently used entry going first (Map keeps insertion order).
 */
import { hash, randomBytes } from 'node:crypto';

export const DEFAULT_CACHE_ENTRIES = 10_000;

export class VerifiedCache {
  private readonly entries = new Map<string, number>();
  /**
   * 256 random bits, as a fixed-length prefix of what is hashed. SHA-256 of key ‖ text rather
   * than an HMAC: this runs on every cached call, and the one-shot hash costs about a tenth of
   * creating an Hmac (measured: 0.8 against 7 µs). Length extension, HMAC's reason to be, does
   * not apply: the digest never leaves the process, it is only looked up.
   */
  private readonly key = randomBytes(32).toString('base64');
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number = DEFAULT_CACHE_ENTRIES) {}

  get size(): number {
    return this.entries.size;
  }

  keyOf(tenant: string, kind: string, username: string, password: string, storedHash: string): string {
    // Length-prefixed fields (lengths in UTF-16 units): no two different tuples feed the same
    // text. One update of one string: this runs on every cached call.
    const text = `${tenant.length}:${tenant}${kind.length}:${kind}${username.length}:${username}${password.length}:${password}${storedHash.length}:${storedHash}`;
    return hash('sha256', this.key + text, 'base64');
  }

  has(key: string, now: number): boolean {
    const expiresAt = this.entries.get(key);
    if (expiresAt === undefined) {
      this.misses++;
      return false;
    }
    this.entries.delete(key);
    if (expiresAt <= now) {
      this.misses++;
      return false;
    }
    this.entries.set(key, expiresAt); // most recently used goes last
    this.hits++;
    return true;
  }

  remember(key: string, now: number, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, now + ttlMs);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}

/** The one cache of this process, shared by every basic-auth valve and every config load. */
export const verifiedCredentials = new VerifiedCache();
