/**
 * The verified-credential cache: repeat calls with credentials that verified a moment ago
 * skip the slow hash. It lives in process memory for the life of the process (across config
 * reloads), holds only successes, and is keyed by an HMAC under a random per-process key of
 * (tenant, kind, user, password, stored hash): no password or usable digest of one is kept,
 * and a changed hash misses by construction. Entries expire after the TTL the caller gives;
 * the size is bounded, the least recently used entry going first (Map keeps insertion order).
 */
import { createHmac, randomBytes } from 'node:crypto';

export const DEFAULT_CACHE_ENTRIES = 10_000;

export class VerifiedCache {
  private readonly entries = new Map<string, number>();
  private readonly key = randomBytes(32);
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number = DEFAULT_CACHE_ENTRIES) {}

  get size(): number {
    return this.entries.size;
  }

  keyOf(tenant: string, kind: string, username: string, password: string, storedHash: string): string {
    const mac = createHmac('sha256', this.key);
    // Length-prefixed fields: no two different tuples feed the same bytes.
    for (const field of [tenant, kind, username, password, storedHash]) {
      const bytes = Buffer.from(field, 'utf8');
      const length = Buffer.allocUnsafe(4);
      length.writeUInt32BE(bytes.length);
      mac.update(length).update(bytes);
    }
    return mac.digest('base64');
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
