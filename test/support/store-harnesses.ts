import { describe } from '@jest/globals';
import type { Clock } from '../../src/engine/clock.js';
import type { StoreType } from '../../src/store/backends.js';
import type { RedisStore } from '../../src/store/redis.js';
import type { Store } from '../../src/store/store.js';
import { ManualClock } from './clock.js';
import { describeWithRedis, RedisServer } from './redis.js';

/** What a harness started for one run of the store contract. */
export interface HarnessRun {
  /** The `store` section's options (beside `type`) that reach what was started. */
  readonly section: Readonly<Record<string, unknown>>;
  /** The clock the store is built with (default: the system clock). */
  readonly clock?: Clock;
  /** Lets TTLs run out (default: real time, for a server that keeps its own clock). */
  elapse?(ms: number): Promise<void>;
  /** Resolves once a store the factory built answers (a backend that connects in the background). */
  ready?(store: Store): Promise<void>;
  stop(): Promise<void>;
}

export interface StoreHarness {
  /** `describe`, or one that needs a server installed (skips loudly without it, fails in CI). */
  readonly describe: (name: string, body: () => void) => void;
  start(): Promise<HarnessRun>;
}

/**
 * How the store contract (test/store/contract.test.ts) runs each backend of src/store/backends.ts.
 * Keyed by every backend type: a backend added to the list without a harness fails typecheck.
 */
export const STORE_HARNESSES: { readonly [T in StoreType]: StoreHarness } = {
  memory: {
    describe,
    async start() {
      const clock = new ManualClock();
      return {
        section: {},
        clock,
        elapse: async (ms) => clock.advance(ms),
        stop: async () => {},
      };
    },
  },
  redis: {
    describe: describeWithRedis,
    async start() {
      const redis = await RedisServer.start();
      return {
        // Semantics tests get a 2 s deadline so a loaded machine cannot fail them on time.
        section: { url: redis.url, command_timeout_ms: 2000 },
        ready: (store) => (store as RedisStore).ready(),
        stop: () => redis.stop(),
      };
    },
  },
};
