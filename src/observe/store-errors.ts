import type { Metrics } from '../engine/metrics.js';
import type { Store } from '../store/store.js';

/**
 * Counts store failures (authpipe_store_errors_total{op}) whatever the store type: every
 * rejected operation is counted and rethrown unchanged, so failing closed is unaffected.
 */
export function countStoreErrors(store: Store, metrics: Metrics): Store {
  const counted = <T>(op: string, pending: Promise<T>): Promise<T> =>
    pending.catch((err: unknown) => {
      metrics.inc('store_errors', { op });
      throw err;
    });
  return {
    get: (k) => counted('get', store.get(k)),
    set: (k, v, ttl) => counted('set', store.set(k, v, ttl)),
    incr: (k, ttl, by) => counted('incr', store.incr(k, ttl, by)),
    take: (k) => counted('take', store.take(k)),
    compareAndSet: (k, e, v, ttl) => counted('compareAndSet', store.compareAndSet(k, e, v, ttl)),
    del: (k) => counted('del', store.del(k)),
    ttl: (k) => counted('ttl', store.ttl(k)),
    ping: () => counted('ping', store.ping()),
    close: () => store.close(),
  };
}
