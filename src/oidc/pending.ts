/**
 * How many sign-ins (oidc-provider Interaction records) a tenant holds pending, counted in the
 * store so that every engine sharing it sees one number. An interaction lives at most its TTL;
 * each new one is counted in the bucket (a minute) it was created in, each bucket expires once
 * every interaction it counted has, and a finished interaction is taken back off its bucket.
 * The count is the sum of the buckets that can still hold a live interaction: it may count one
 * that expired in the oldest bucket, never miss a live one, so the cap errs on the closed side.
 */
import type { Store } from '../store/store.js';

const BUCKET_MS = 60_000;
const bucketKey = (bucket: number) => `oidc-pending:${bucket}`;

export interface PendingInteractions {
  /** Interactions that may still be pending (see above). */
  count(): Promise<number>;
  /** A new interaction, created at `atMs`. */
  added(atMs: number): Promise<void>;
  /** An interaction created at `atMs` has ended (finished or destroyed) before its expiry. */
  removed(atMs: number): Promise<void>;
}

export function pendingInteractions(store: Store, ttlSeconds: number, now: () => number = Date.now): PendingInteractions {
  const ttlMs = ttlSeconds * 1000;
  // A bucket outlives the last interaction it counted (created at its end, living ttlMs).
  const bucketTtlMs = ttlMs + 2 * BUCKET_MS;
  const bucketOf = (atMs: number) => Math.floor(atMs / BUCKET_MS);
  return {
    async count() {
      const last = bucketOf(now());
      const first = bucketOf(now() - ttlMs);
      const keys: string[] = [];
      for (let b = first; b <= last; b++) keys.push(bucketKey(b));
      const values = await Promise.all(keys.map((k) => store.get(k)));
      return values.reduce((sum, v) => sum + Math.max(0, Number(v ?? 0) || 0), 0);
    },
    async added(atMs) {
      await store.incr(bucketKey(bucketOf(atMs)), bucketTtlMs);
    },
    async removed(atMs) {
      if (atMs <= now() - ttlMs) return; // its bucket is no longer counted
      await store.incr(bucketKey(bucketOf(atMs)), bucketTtlMs, -1);
    },
  };
}
