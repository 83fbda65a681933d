import type { Logger } from 'pino';
import type { Audit } from './audit.js';
import type { Clock } from './clock.js';
import type { Metrics } from './metrics.js';
import type { Store } from '../store/store.js';
import type { Directory } from '../directory/directory.js';
import type { AccessGroups } from '../access-groups/groups.js';
import type { TokenService } from '../tokens/service.js';
import type { LdapConnections } from '../idp/ldap.js';

/**
 * Long-lived services the composition root builds and valves use (store, clock, and,
 * as issues land, the directory, the signing keys, the OTP senders). It is one typed bag
 * so that a valve asks for what it needs by name, and tests build it with real parts.
 */
export interface Services {
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
  /** Tills, stores, users and API clients per tenant (config/directory.json), rebuilt per load. */
  readonly directory: Directory;
  /** Built-in and custom access groups per tenant (config/access-groups.json), rebuilt per load. */
  readonly accessGroups?: AccessGroups;
  /** Signing keys and token verification; absent when the main file has no `tokens` section. */
  readonly tokens?: TokenService;
  /** LDAP connections of the main file's `ldap` section, by id (absent when none). */
  readonly ldap?: LdapConnections;
}
