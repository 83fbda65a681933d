import { newAjv } from '../../src/engine/registry.js';
import type { ConfigOf } from '../../src/engine/valve.js';
import { storeSchema, type StoreConfig } from '../../src/store/schema.js';

const ajv = newAjv({ useDefaults: true });

/**
 * A config section as the loader hands it on: validated against its schema, with the
 * schema's defaults applied (a copy; `value` is left alone). For tests that call a feature's
 * code directly instead of through a loaded config file. Throws when `value` is invalid.
 */
function withDefaults<S extends object>(schema: S, value: unknown): ConfigOf<S> {
  // A schema's own root `default` is for its parent; Ajv refuses it at the root.
  const { default: _ignored, ...root } = schema as Record<string, unknown>;
  const copy: unknown = structuredClone(value);
  const validate = ajv.compile(root);
  if (!validate(copy)) throw new Error(`invalid test config: ${ajv.errorsText(validate.errors)}`);
  return copy as ConfigOf<S>;
}

/** The `store` section with its defaults, e.g. storeConfig({ type: 'redis', url }). */
export type StoreInput = Omit<Partial<StoreConfig>, 'tls'> & { tls?: boolean | Record<string, unknown> };

export function storeConfig(value: StoreInput & { type: StoreConfig['type'] }): StoreConfig {
  // The section's schema is built from the list of backends; its type is StoreConfig.
  return withDefaults(storeSchema, value) as StoreConfig;
}
