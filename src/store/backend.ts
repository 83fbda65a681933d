/**
 * The store backend contract. A backend is one file that exports `defineStoreBackend({ type,
 * summary, options, resolve, create, describe })`, listed once in src/store/backends.ts: the
 * `store` section's schema (its `type` enum and options), the factory (create.ts) and the store
 * contract suite (test/store/contract.test.ts, with a harness per type) all come from that list.
 */
import type { JSONSchema } from 'json-schema-to-ts';
import type { Logger } from 'pino';
import type { Clock } from '../engine/clock.js';
import type { Metrics } from '../engine/metrics.js';
import type { ConfigOf } from '../engine/valve.js';
import type { ConfigIssueCode } from '../errors.js';
import type { Store } from './store.js';

/** A problem with the `store` section, reported as a config issue by the store feature. */
export interface SettingsProblem {
  /** JSON pointer into the main file. */
  pointer: string;
  message: string;
  code: ConfigIssueCode;
}

/** Where a backend reads what its options name: the environment, and the folder of the main file. */
export interface StoreWhere {
  env: Readonly<Record<string, string | undefined>>;
  /** The main file's folder: file paths (TLS files) resolve against it. */
  configDir: string;
}

/** What a backend's factory gets besides its settings. */
export interface StoreRuntime extends StoreWhere {
  clock: Clock;
  logger: Logger;
  /** Counts the memory store's counter evictions and refusals. */
  metrics?: Metrics;
}

/** The config a backend's options give (defaults applied by the loader). */
export type OptionsConfig<O> = ConfigOf<{ type: 'object'; additionalProperties: false; properties: O }>;

export interface StoreBackend<T extends string = string, O extends Record<string, JSONSchema> = Record<string, JSONSchema>, S = unknown> {
  /** The value of `store.type` that selects this backend. */
  readonly type: T;
  /** One line for the `type` description: what this backend is for. */
  readonly summary: string;
  /**
   * This backend's options: properties of the `store` section beside `type` (one flat
   * namespace; two backends may not declare the same name). Give each a description and a
   * default when it has one.
   */
  readonly options: O;
  /** Options that need others (JSON Schema `dependentRequired`), merged into the section's schema. */
  readonly dependentRequired?: Readonly<Record<string, readonly string[]>>;
  /** An environment variable that, when set and not empty, selects this backend whatever `type` says. */
  readonly selectedBy?: string;
  /** Whether every process of a server sees the same state (needed for `serve --workers` > 1). */
  readonly shared: boolean;
  /** Reads the section without touching the network: the settings, and problems with pointers. */
  resolve(config: OptionsConfig<O>, where: StoreWhere): { settings: S; problems: SettingsProblem[] };
  /** Builds the store; it may connect in the background, failing closed until it answers. */
  create(settings: S, runtime: StoreRuntime): Store;
  /** Where the store lives, for the start summary and logs: never a password. */
  describe(settings: S): string;
}

/** A backend as the generic code (schema, factory) holds it: its config and settings types erased. */
export interface ErasedStoreBackend extends Omit<StoreBackend, 'resolve' | 'create' | 'describe'> {
  resolve(config: object, where: StoreWhere): { settings: unknown; problems: SettingsProblem[] };
  create(settings: unknown, runtime: StoreRuntime): Store;
  describe(settings: unknown): string;
}

/** Declares a store backend; its options' config type comes from their schema. */
export function defineStoreBackend<const T extends string, const O extends Record<string, JSONSchema>, S>(
  backend: StoreBackend<T, O, S>,
): StoreBackend<T, O, S> {
  return backend;
}
