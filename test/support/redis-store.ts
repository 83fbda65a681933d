import { expect } from '@jest/globals';
import { storeConfig, type StoreInput } from './config-defaults.js';
import { AuthpipeError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { RedisStore } from '../../src/store/redis.js';
import { resolveRedisSettings, type RedisSettings } from '../../src/store/settings.js';

/** Redis stores built from a store config section, as the app would, for store tests. */
export function redisSettings(config: Omit<StoreInput, 'type'>, configDir = process.cwd()): RedisSettings {
  const { settings, problems } = resolveRedisSettings(storeConfig({ type: 'redis', ...config }), { env: {}, configDir });
  if (problems.length > 0) throw new Error(JSON.stringify(problems));
  return settings;
}

/**
 * A connected store. Semantics tests get a 2 s deadline so a loaded CI machine cannot fail
 * them on time; tests about timing pass command_timeout_ms themselves.
 */
export async function openRedis(config: Omit<StoreInput, 'type'>, configDir?: string): Promise<RedisStore> {
  const store = new RedisStore(redisSettings({ command_timeout_ms: 2000, ...config }, configDir), silentLogger());
  try {
    await store.ready();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

/** A store that is not waited for: for servers it cannot (or must not) reach. */
export function unreadyRedis(config: Omit<StoreInput, 'type'>): RedisStore {
  return new RedisStore(redisSettings(config), silentLogger());
}

/** Asserts the promise rejects with COMMUNICATION_ERROR (500) and returns how long it took. */
export async function failsClosed(pending: Promise<unknown>): Promise<number> {
  const started = performance.now();
  const err = await pending.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthpipeError);
  expect((err as AuthpipeError).code).toBe('COMMUNICATION_ERROR');
  expect((err as AuthpipeError).status).toBe(500);
  return performance.now() - started;
}
