/**
 * The `store` section of the main file: where shared state lives (lockouts, rate limits,
 * OTP transactions, token families). Read once at start. Its schema comes from the list of
 * backends (backends.ts): `type` names one of them (the first is the default), and each
 * backend adds its own options; an environment variable a backend is selected by (REDIS_URL)
 * overrides `type`.
 */
import type { JSONSchema } from 'json-schema-to-ts';
import type { ErasedStoreBackend, OptionsConfig } from './backend.js';
import { BACKENDS, type STORE_BACKENDS, type StoreType } from './backends.js';

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type BackendConfig<B> = B extends { readonly options: infer O } ? OptionsConfig<O> : never;

/** The section as the loader hands it on: `type`, and every backend's options (defaults applied). */
export type StoreConfig = { type: StoreType } & UnionToIntersection<BackendConfig<(typeof STORE_BACKENDS)[number]>>;

/** The section's schema for a list of backends: one flat object, so an option name belongs to one backend. */
export function storeSectionSchema(backends: readonly ErasedStoreBackend[]): Readonly<Record<string, unknown>> {
  const [first] = backends;
  if (!first) throw new Error('no store backend');
  const properties: Record<string, JSONSchema> = {
    type: { enum: backends.map((b) => b.type), description: backends.map((b) => `${b.type}: ${b.summary}`).join(' ') },
  };
  const owners = new Map<string, string>([['type', 'the section']]);
  const dependentRequired: Record<string, readonly string[]> = {};
  for (const backend of backends) {
    for (const [name, schema] of Object.entries(backend.options)) {
      const owner = owners.get(name);
      if (owner !== undefined) throw new Error(`store option "${name}" of backend "${backend.type}" is already declared by ${owner}`);
      owners.set(name, `backend "${backend.type}"`);
      properties[name] = schema;
    }
    Object.assign(dependentRequired, backend.dependentRequired);
  }
  const overrides = backends
    .filter((b) => b.selectedBy !== undefined)
    .map((b) => ` ${b.selectedBy} in the environment overrides this and selects ${b.type}.`);
  return {
    description: `Where shared state lives.${overrides.join('')}`,
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties,
    ...(Object.keys(dependentRequired).length > 0 ? { dependentRequired } : {}),
    default: { type: first.type },
  };
}

export const storeSchema = storeSectionSchema(BACKENDS);
