import { fault } from '../errors.js';
import type { ErasedStoreBackend, SettingsProblem, StoreRuntime } from './backend.js';
import { BACKENDS, type StoreType } from './backends.js';
import type { StoreConfig } from './schema.js';
import type { Store } from './store.js';

export type { StoreRuntime } from './backend.js';

/** The backend a config selects, with its settings read (without touching the network). */
export interface ResolvedStore {
  readonly type: StoreType;
  /** Whether every process sees the same state (`serve --workers` needs it). */
  readonly shared: boolean;
  readonly settings: unknown;
  readonly problems: readonly SettingsProblem[];
  /** Where the store lives, for the start summary: never a password. */
  describe(): string;
  create(runtime: StoreRuntime): Store;
}

/**
 * Which backend the `store` section selects: the one whose environment variable is set
 * (REDIS_URL), else the one `type` names.
 */
export function resolveStoreSettings(
  config: StoreConfig,
  env: Readonly<Record<string, string | undefined>>,
  configDir: string,
): ResolvedStore {
  const backend =
    BACKENDS.find((b) => b.selectedBy !== undefined && (env[b.selectedBy] ?? '') !== '') ??
    BACKENDS.find((b) => b.type === config.type) ??
    (BACKENDS[0] as ErasedStoreBackend);
  const { settings, problems } = backend.resolve(config, { env, configDir });
  return {
    type: backend.type as StoreType,
    shared: backend.shared,
    settings,
    problems,
    describe: () => backend.describe(settings),
    create: (runtime) => backend.create(settings, runtime),
  };
}

/**
 * Builds the store the config names. A store section with problems yields a store that
 * refuses everything: the same load reports those problems with their pointers (the store
 * feature) and fails, so it is never served.
 */
export function createStore(config: StoreConfig, runtime: StoreRuntime): Store {
  const resolved = resolveStoreSettings(config, runtime.env, runtime.configDir);
  if (resolved.problems.length > 0) return unusableStore(resolved.problems.map((p) => `${p.pointer}: ${p.message}`).join('; '));
  return resolved.create(runtime);
}

function unusableStore(reason: string): Store {
  const fail = () => Promise.reject(fault('INTERNAL_ERROR', { detail: `store not configured: ${reason}` }));
  return {
    get: fail,
    set: fail,
    incr: fail,
    take: fail,
    compareAndSet: fail,
    del: fail,
    ttl: fail,
    listPush: fail,
    listPop: fail,
    listMove: fail,
    listRemove: fail,
    listRange: fail,
    listLength: fail,
    ping: fail,
    close: () => Promise.resolve(),
  };
}
