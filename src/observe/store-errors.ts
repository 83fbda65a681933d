import type { Metrics } from '../engine/metrics.js';
import { wrapStore, type Store } from '../store/store.js';

/**
 * Counts store failures (authpipe_store_errors_total{op}) whatever the store type: every
 * rejected operation is counted and rethrown unchanged, so failing closed is unaffected.
 */
export function countStoreErrors(store: Store, metrics: Metrics): Store {
  const counted = wrapStore(store, (op, call) =>
    call().catch((err: unknown) => {
      metrics.inc('store_errors', { op });
      throw err;
    }),
  );
  const getNow = store.getNow;
  if (getNow === undefined) return counted;
  return {
    ...counted,
    getNow: (key) => {
      try {
        return getNow.call(store, key);
      } catch (err) {
        metrics.inc('store_errors', { op: 'get' });
        throw err;
      }
    },
  };
}
