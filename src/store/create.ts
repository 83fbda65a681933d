import type { Clock } from '../engine/clock.js';
import type { MainConfig } from '../config/main-schema.js';
import { MemoryStore } from './memory.js';
import type { Store } from './store.js';

/** Builds the store the config names. Redis arrives with its own issue. */
export function createStore(config: MainConfig['store'], clock: Clock): Store {
  const type = config?.type ?? 'memory';
  if (type === 'memory') return new MemoryStore(clock);
  throw new Error(`store type "${type}" is not available in this build`);
}
