import type { Logger } from 'pino';
import type { Audit } from './audit.js';
import type { Clock } from './clock.js';
import type { Metrics } from './metrics.js';
import type { Store } from '../store/store.js';
import type { ConfigRuntime } from './runtime.js';

/**
 * The services of config features (the directory, access groups, tokens, LDAP, …), keyed by
 * the name valves use: `services.directory`, `services.tokens`. Empty here on purpose: each
 * feature adds its own member from its feature file, by declaration merging,
 *
 *   declare module '../engine/services.js' {
 *     interface FeatureServices { readonly tokens?: TokenService }
 *   }
 *
 * so the core never imports a feature to learn its service type (see src/config/feature.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface FeatureServices {}

/**
 * Long-lived services the composition root builds and valves use. It is one typed bag so
 * that a valve asks for what it needs by name, and tests build it with real parts. The
 * runtime part (store, clock, logger, metrics, audit) outlives reloads; the feature part
 * is rebuilt on every config load and swapped with the pipes.
 */
export interface Services extends FeatureServices {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The folder of the main config file: relative paths in config resolve against it. */
  readonly configDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Declared counters (engine/metrics.ts): `services.metrics?.inc('lockouts', { tenant })`.
   * Always set on a loaded config (a no-op when metrics are off); optional only so that
   * hand-built Services in tests need not carry it.
   */
  readonly metrics?: Metrics;
  /** The audit log (engine/audit.ts): `services.audit?.event('account.lockout', callFields(ctx, { subject }))`. Same as metrics. */
  readonly audit?: Audit;
  /**
   * What this load owns (engine/runtime.ts): valves add to it with `tools.own`, and it is
   * closed with the config. Always set on a loaded config; absent only on hand-built Services.
   */
  readonly runtime?: ConfigRuntime;
}
