import type { Logger } from 'pino';
import type { Clock } from '../engine/clock.js';
import type { Metrics } from '../engine/metrics.js';
import type { StoreConfig } from './schema.js';
import { AuthpipeError } from '../errors.js';
import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import { resolveStoreSettings } from './settings.js';
import type { Store } from './store.js';

export interface StoreRuntime {
  clock: Clock;
  logger: Logger;
  env: Readonly<Record<string, string | undefined>>;
  /** The main file's folder: TLS file paths resolve against it. */
  configDir: string;
  /** Counts the memory store's counter evictions and refusals. */
  metrics?: Metrics;
}

/**
 * Builds the store the config names (REDIS_URL wins and selects Redis). A store section
 * with problems yields a store that refuses everything: the same load reports those
 * problems with their pointers (config/services.ts) and fails, so it is never served.
 */
export function createStore(config: StoreConfig, runtime: StoreRuntime): Store {
  const { settings, problems } = resolveStoreSettings(config, runtime.env, runtime.configDir);
  if (problems.length > 0) return unusableStore(problems.map((p) => `${p.pointer}: ${p.message}`).join('; '));
  if (settings.type === 'memory') {
    const metrics = runtime.metrics;
    return new MemoryStore(runtime.clock, undefined, {
      maxCounters: settings.maxCounters,
      onCounters: (event, n) => metrics?.inc(event === 'evicted' ? 'store_counters_evicted' : 'store_counters_refused', {}, n),
    });
  }
  return new RedisStore(settings, runtime.logger);
}

function unusableStore(reason: string): Store {
  const fail = () => Promise.reject(new AuthpipeError('INTERNAL_ERROR', { detail: `store not configured: ${reason}` }));
  return { get: fail, set: fail, incr: fail, take: fail, compareAndSet: fail, del: fail, ttl: fail, listPush: fail, listPop: fail, listMove: fail, listRemove: fail, listRange: fail, listLength: fail, ping: fail, close: () => Promise.resolve() };
}
