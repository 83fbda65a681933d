/**
 * The store contract: the only shared state of the engine (OTP transactions, lockout
 * counters, refresh-token families, rate limits). Every operation that two processes could
 * race on is atomic here, so valves never read-modify-write in two steps.
 * TTLs are milliseconds; a key without TTL lives until deleted.
 */
export interface Store {
  get(key: string): Promise<string | null>;
  /**
   * `get` answered at once, without a promise: only a store that holds its data in this
   * process (the memory store) has it, for reads on every call (a rate limit, a lock). A
   * networked store leaves it out, and so does a wrapper that must see every operation (a
   * fault injected in a test): callers read through `readNow`, which falls back to `get`.
   */
  readonly getNow?: ((key: string) => string | null) | undefined;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Atomically add `by` (default 1) and return the new value; the TTL is set when the key is created. */
  incr(key: string, ttlMs: number, by?: number): Promise<number>;
  /** Atomically read and delete: the single-use primitive (OTP codes, refresh tokens). */
  take(key: string): Promise<string | null>;
  /**
   * Atomically replace the value when it equals `expected` (`null`: only when absent).
   * Returns whether the write happened.
   */
  compareAndSet(key: string, expected: string | null, value: string, ttlMs?: number): Promise<boolean>;
  del(key: string): Promise<void>;
  /** Remaining TTL in ms, or null when the key is absent or has none. */
  ttl(key: string): Promise<number | null>;
  /**
   * Appends to the list at `key` (a queue: OTP deliveries, dead letters); with `maxLength`,
   * only the newest that many stay (0: none; anything but a whole number from 0 is refused,
   * checkListLength). Lists have no TTL.
   */
  listPush(key: string, value: string, maxLength?: number): Promise<void>;
  /** Atomically removes and returns the list's first value (null when empty): of parallel pops, each value goes to one. */
  listPop(key: string): Promise<string | null>;
  /**
   * Atomically removes the first value of `from` and appends it to `to` (null when `from` is
   * empty): a job taken this way is never in neither list, so a taker that dies leaves it in
   * `to` for another to find. On Redis Cluster both keys need the same hash tag.
   */
  listMove(from: string, to: string): Promise<string | null>;
  /** Removes the first occurrence of `value` from the list; whether there was one (of parallel removes, one wins). */
  listRemove(key: string, value: string): Promise<boolean>;
  /** The first `count` values of the list, oldest first, without removing them. */
  listRange(key: string, count: number): Promise<string[]>;
  listLength(key: string): Promise<number>;
  /** Resolves when the store answers; rejects (in bounded time) when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A view of a store whose keys all live under one prefix, so a tenant cannot reach another's keys. */
export function prefixedStore(store: Store, prefix: string): Store {
  return {
    get: (k) => store.get(prefix + k),
    getNow: store.getNow === undefined ? undefined : (k) => (store.getNow as (key: string) => string | null).call(store, prefix + k),
    set: (k, v, ttl) => store.set(prefix + k, v, ttl),
    incr: (k, ttl, by) => store.incr(prefix + k, ttl, by),
    take: (k) => store.take(prefix + k),
    compareAndSet: (k, e, v, ttl) => store.compareAndSet(prefix + k, e, v, ttl),
    del: (k) => store.del(prefix + k),
    ttl: (k) => store.ttl(prefix + k),
    listPush: (k, v, max) => store.listPush(prefix + k, v, max),
    listPop: (k) => store.listPop(prefix + k),
    listMove: (from, to) => store.listMove(prefix + from, prefix + to),
    listRemove: (k, v) => store.listRemove(prefix + k, v),
    listRange: (k, n) => store.listRange(prefix + k, n),
    listLength: (k) => store.listLength(prefix + k),
    ping: () => store.ping(),
    close: () => Promise.resolve(),
  };
}

/**
 * `use` applied to the value of `key`: at once when the store can answer without a round trip
 * (getNow), else once its promise settles.
 */
export function readNow<T>(store: Store, key: string, use: (value: string | null) => T): T | Promise<Awaited<T>> {
  if (store.getNow !== undefined) return use(store.getNow(key));
  // then() flattens a promise that `use` returns; its typing does not say so.
  return store.get(key).then(use) as Promise<Awaited<T>>;
}

/** Key prefix of one tenant. The braces are a Redis Cluster hash tag: one tenant, one slot. */
export function tenantPrefix(tenantId: string): string {
  return `authpipe:{${tenantId}}:`;
}

export type StoreOp = Exclude<keyof Store, 'close'>;

/**
 * A store whose every operation goes through `around` (count errors, add latency, inject a
 * fault); `close` passes straight through.
 */
export function wrapStore(inner: Store, around: <T>(op: StoreOp, call: () => Promise<T>) => Promise<T>): Store {
  return {
    get: (k) => around('get', () => inner.get(k)),
    set: (k, v, ttl) => around('set', () => inner.set(k, v, ttl)),
    incr: (k, ttl, by) => around('incr', () => inner.incr(k, ttl, by)),
    take: (k) => around('take', () => inner.take(k)),
    compareAndSet: (k, e, v, ttl) => around('compareAndSet', () => inner.compareAndSet(k, e, v, ttl)),
    del: (k) => around('del', () => inner.del(k)),
    ttl: (k) => around('ttl', () => inner.ttl(k)),
    listPush: (k, v, max) => around('listPush', () => inner.listPush(k, v, max)),
    listPop: (k) => around('listPop', () => inner.listPop(k)),
    listMove: (from, to) => around('listMove', () => inner.listMove(from, to)),
    listRemove: (k, v) => around('listRemove', () => inner.listRemove(k, v)),
    listRange: (k, n) => around('listRange', () => inner.listRange(k, n)),
    listLength: (k) => around('listLength', () => inner.listLength(k)),
    ping: () => around('ping', () => inner.ping()),
    close: () => inner.close(),
  };
}

/** listPush's maxLength: a whole number from 0, the same on every store (-1 emptied the list in memory and dropped only its oldest value on Redis). */
export function checkListLength(maxLength: number | undefined): void {
  if (maxLength !== undefined && !(Number.isSafeInteger(maxLength) && maxLength >= 0))
    throw new TypeError(`listPush maxLength must be a whole number from 0, not ${maxLength}`);
}
