import { systemClock, type Clock } from '../engine/clock.js';
import { refuse } from '../errors.js';
import { defineStoreBackend } from './backend.js';
import { checkListLength, type Store } from './store.js';
import { Deque } from './deque.js';

/**
 * The embedded store: one process, state in a Map. Node runs each method to completion
 * without yielding, so every operation is atomic within the process. Expired keys are
 * dropped on read and by a periodic sweep, so memory stays bounded by live keys.
 *
 * Counters (keys made by `incr`: lockout attempts, rate limits) are what a flood of distinct
 * names creates, so their number is capped. At the cap, expired counters and counters back at
 * zero (a released reservation: dropping one forgets nothing) are evicted; when none is, a new
 * counter is refused with RATE_LIMITED rather than evicting a live count, which would hand an
 * attacker fresh attempts: the store fails closed. Existing counters keep counting.
 */
export interface MemoryStoreOptions {
  maxCounters?: number;
  /** Told how many counters were evicted, or that one was refused. */
  onCounters?: (event: 'evicted' | 'refused', count: number) => void;
}

const DEFAULT_MAX_COUNTERS = 200_000;
/** After a full table found nothing to evict, new counters are refused this long before the next scan. */
const FULL_RESCAN_MS = 1000;
interface Entry {
  value: string;
  expiresAt: number; // Infinity when the key has no TTL
}

export class MemoryStore implements Store {
  private readonly data = new Map<string, Entry>();
  private readonly lists = new Map<string, Deque>();
  private readonly counters = new Set<string>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly maxCounters: number;
  private fullUntil = 0;

  constructor(
    private readonly clock: Clock = systemClock,
    sweepEveryMs = 30_000,
    private readonly options: MemoryStoreOptions = {},
  ) {
    this.maxCounters = options.maxCounters ?? DEFAULT_MAX_COUNTERS;
    this.sweeper = setInterval(() => this.sweep(), sweepEveryMs);
    this.sweeper.unref();
  }

  get size(): number {
    return this.data.size;
  }

  get counterCount(): number {
    return this.counters.size;
  }

  private drop(key: string): void {
    this.data.delete(key);
    this.counters.delete(key);
  }

  /** Makes room for one more counter, or refuses it (fail closed). */
  private roomForCounter(): void {
    if (this.counters.size < this.maxCounters) return;
    const now = this.clock.now();
    if (now < this.fullUntil) return this.refuseCounter();
    let evicted = 0;
    for (const key of this.counters) {
      const entry = this.data.get(key);
      if (!entry || entry.expiresAt <= now || Number.parseInt(entry.value, 10) <= 0) {
        this.drop(key);
        evicted++;
      }
    }
    if (evicted > 0) this.options.onCounters?.('evicted', evicted);
    if (this.counters.size >= this.maxCounters) {
      this.fullUntil = now + FULL_RESCAN_MS;
      this.refuseCounter();
    }
  }

  private refuseCounter(): never {
    this.options.onCounters?.('refused', 1);
    throw refuse('RATE_LIMITED', { headers: { 'retry-after': '1' }, detail: 'memory store: the counter table is full of live counts' });
  }

  private live(key: string): Entry | undefined {
    const entry = this.data.get(key);
    if (entry && entry.expiresAt <= this.clock.now()) {
      this.drop(key);
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

  readonly getNow = (key: string): string | null => this.live(key)?.value ?? null;

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.counters.delete(key);
    this.data.set(key, { value, expiresAt: this.expiry(ttlMs) });
  }

  async incr(key: string, ttlMs: number, by = 1): Promise<number> {
    const entry = this.live(key);
    if (!entry && !this.counters.has(key)) this.roomForCounter();
    const next = (entry ? Number.parseInt(entry.value, 10) || 0 : 0) + by;
    this.data.set(key, { value: String(next), expiresAt: entry ? entry.expiresAt : this.expiry(ttlMs) });
    this.counters.add(key);
    return next;
  }

  async take(key: string): Promise<string | null> {
    const entry = this.live(key);
    if (!entry) return null;
    this.drop(key);
    return entry.value;
  }

  async compareAndSet(key: string, expected: string | null, value: string, ttlMs?: number): Promise<boolean> {
    const current = this.live(key)?.value ?? null;
    if (current !== expected) return false;
    this.counters.delete(key);
    this.data.set(key, { value, expiresAt: this.expiry(ttlMs) });
    return true;
  }

  async del(key: string): Promise<void> {
    this.drop(key);
  }

  async ttl(key: string): Promise<number | null> {
    const entry = this.live(key);
    if (!entry || entry.expiresAt === Infinity) return null;
    return entry.expiresAt - this.clock.now();
  }

  async listPush(key: string, value: string, maxLength?: number): Promise<void> {
    checkListLength(maxLength);
    let list = this.lists.get(key);
    if (!list) this.lists.set(key, (list = new Deque()));
    list.push(value);
    if (maxLength !== undefined && list.length > maxLength) list.dropFront(list.length - maxLength);
  }

  async listPop(key: string): Promise<string | null> {
    const list = this.lists.get(key);
    if (!list || list.length === 0) return null;
    const value = list.shift() as string;
    if (list.length === 0) this.lists.delete(key);
    return value;
  }

  async listMove(from: string, to: string): Promise<string | null> {
    const value = await this.listPop(from);
    if (value !== null) await this.listPush(to, value);
    return value;
  }

  async listRemove(key: string, value: string): Promise<boolean> {
    const list = this.lists.get(key);
    if (!list?.remove(value)) return false;
    if (list.length === 0) this.lists.delete(key);
    return true;
  }

  async listRange(key: string, count: number): Promise<string[]> {
    return this.lists.get(key)?.first(count) ?? [];
  }

  async listLength(key: string): Promise<number> {
    return this.lists.get(key)?.length ?? 0;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.data) if (entry.expiresAt <= now) this.drop(key);
  }
}

/** `"store": {"type": "memory"}`: the default; one process only. */
export const memoryBackend = defineStoreBackend({
  type: 'memory',
  summary: 'one process only.',
  options: {
    max_counters: {
      type: 'integer',
      minimum: 100,
      maximum: 100000000,
      default: DEFAULT_MAX_COUNTERS,
      description:
        'memory: the most counters (lockout, rate limits) kept at once. When full, expired and zeroed counters are evicted; if none is, a new counter is refused (RATE_LIMITED): fail closed, never forgetting a live count.',
    },
  },
  shared: false,
  resolve: (config) => ({ settings: { type: 'memory' as const, maxCounters: config.max_counters }, problems: [] }),
  create(settings, runtime) {
    const metrics = runtime.metrics;
    return new MemoryStore(runtime.clock, undefined, {
      maxCounters: settings.maxCounters,
      onCounters: (event, n) => metrics?.inc(event === 'evicted' ? 'store_counters_evicted' : 'store_counters_refused', {}, n),
    });
  },
  describe: () => 'memory',
});
