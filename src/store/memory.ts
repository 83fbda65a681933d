import { systemClock, type Clock } from '../engine/clock.js';
import type { Store } from './store.js';

/**
 * The embedded store: one process, state in a Map. Node runs each method to completion
 * without yielding, so every operation is atomic within the process. Expired keys are
 * dropped on read and by a periodic sweep, so memory stays bounded by live keys.
 */
interface Entry {
  value: string;
  expiresAt: number; // Infinity when the key has no TTL
}

export class MemoryStore implements Store {
  private readonly data = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly clock: Clock = systemClock, sweepEveryMs = 30_000) {
    this.sweeper = setInterval(() => this.sweep(), sweepEveryMs);
    this.sweeper.unref();
  }

  get size(): number {
    return this.data.size;
  }

  private live(key: string): Entry | undefined {
    const entry = this.data.get(key);
    if (entry && entry.expiresAt <= this.clock.now()) {
      this.data.delete(key);
      return undefined;
    }
    return entry;
  }

  private expiry(ttlMs: number | undefined): number {
    return ttlMs === undefined ? Infinity : this.clock.now() + Math.max(1, ttlMs);
  }

  async get(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.data.set(key, { value, expiresAt: this.expiry(ttlMs) });
  }

  async incr(key: string, ttlMs: number, by = 1): Promise<number> {
    const entry = this.live(key);
    const next = (entry ? Number.parseInt(entry.value, 10) || 0 : 0) + by;
    this.data.set(key, { value: String(next), expiresAt: entry ? entry.expiresAt : this.expiry(ttlMs) });
    return next;
  }

  async take(key: string): Promise<string | null> {
    const entry = this.live(key);
    if (!entry) return null;
    this.data.delete(key);
    return entry.value;
  }

  async compareAndSet(key: string, expected: string | null, value: string, ttlMs?: number): Promise<boolean> {
    const current = this.live(key)?.value ?? null;
    if (current !== expected) return false;
    this.data.set(key, { value, expiresAt: this.expiry(ttlMs) });
    return true;
  }

  async del(key: string): Promise<void> {
    this.data.delete(key);
  }

  async ttl(key: string): Promise<number | null> {
    const entry = this.live(key);
    if (!entry || entry.expiresAt === Infinity) return null;
    return entry.expiresAt - this.clock.now();
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.data) if (entry.expiresAt <= now) this.data.delete(key);
  }
}
