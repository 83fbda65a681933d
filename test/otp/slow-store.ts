import type { Store } from '../../src/store/store.js';

/**
 * The real store with a turn of the event loop before and after every operation, as a
 * networked store (Redis) has. In-process, a valve's store calls would otherwise finish
 * within one macrotask and parallel requests would never interleave between a read and a
 * write: this makes the parallel tests able to catch a non-atomic read-then-write.
 */
export function slowStore(inner: Store): Store {
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
  const slow =
    <A extends unknown[], R>(op: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await tick();
      const result = await op(...args);
      await tick();
      return result;
    };
  return {
    get: slow((k) => inner.get(k)),
    set: slow((k, v, ttl) => inner.set(k, v, ttl)),
    incr: slow((k, ttl, by) => inner.incr(k, ttl, by)),
    take: slow((k) => inner.take(k)),
    compareAndSet: slow((k, e, v, ttl) => inner.compareAndSet(k, e, v, ttl)),
    del: slow((k) => inner.del(k)),
    ttl: slow((k) => inner.ttl(k)),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}
