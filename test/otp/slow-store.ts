import { wrapStore, type Store } from '../../src/store/store.js';

/**
 * The real store with a turn of the event loop before and after every operation, as a
 * networked store (Redis) has. In-process, a valve's store calls would otherwise finish
 * within one macrotask and parallel requests would never interleave between a read and a
 * write: this makes the parallel tests able to catch a non-atomic read-then-write.
 */
export function slowStore(inner: Store): Store {
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
  return wrapStore(inner, async (op, call) => {
    if (op === 'ping') return call();
    await tick();
    const result = await call();
    await tick();
    return result;
  });
}
