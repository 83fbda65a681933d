import { systemClock } from '../../src/engine/clock.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/store.js';

/** A real memory store that also tells whether, and when, it was closed. */
export function closeTrackingStore(): Store & { closedAt: number | null } {
  const memory = new MemoryStore(systemClock);
  const store = {
    closedAt: null as number | null,
    get: (k: string) => memory.get(k),
    set: (k: string, v: string, t?: number) => memory.set(k, v, t),
    incr: (k: string, t: number, by?: number) => memory.incr(k, t, by),
    take: (k: string) => memory.take(k),
    compareAndSet: (k: string, e: string | null, v: string, t?: number) => memory.compareAndSet(k, e, v, t),
    del: (k: string) => memory.del(k),
    ttl: (k: string) => memory.ttl(k),
    listPush: (k: string, v: string, max?: number) => memory.listPush(k, v, max),
    listPop: (k: string) => memory.listPop(k),
    listMove: (from: string, to: string) => memory.listMove(from, to),
    listRemove: (k: string, v: string) => memory.listRemove(k, v),
    listRange: (k: string, n: number) => memory.listRange(k, n),
    listLength: (k: string) => memory.listLength(k),
    ping: () => memory.ping(),
    async close() {
      store.closedAt = performance.now();
      await memory.close();
    },
  };
  return store;
}
