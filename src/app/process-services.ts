/**
 * The services that outlive a reload (logger, store, metrics, audit stream), made from the
 * first load's main file and kept for the life of the process: changing their sections
 * needs a restart (the store section is warned about when it changes).
 */
import type { DestinationStream, Logger } from 'pino';
import type { MainConfig } from '../config/main-schema.js';
import { StoredAudit } from '../admin/audit-feed.js';
import { noopAudit, type Audit } from '../engine/audit.js';
import type { Clock } from '../engine/clock.js';
import { noopMetrics } from '../engine/metrics.js';
import { createLogger } from '../logger.js';
import { auditDestination, createAuditLog, type AuditLog } from '../observe/audit-log.js';
import { createMetrics, type AppMetrics } from '../observe/prometheus.js';
import { countStoreErrors } from '../observe/store-errors.js';
import { createStore } from '../store/create.js';
import { ConfigError } from '../config-kit/issues.js';
import { display } from '../config/data-file.js';
import type { Store } from '../store/store.js';

export interface ProcessServiceOptions {
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  configDir: string;
  /** The main file, for the errors its sections cause here. */
  configFile: string;
  logger?: Logger | undefined;
  /** A store to use instead of the configured one (tests). */
  store?: Store | undefined;
  /** Where audit lines go instead of the configured destination (tests). */
  auditStream?: DestinationStream | undefined;
}

export class ProcessServices {
  logger: Logger | undefined;
  store: Store | undefined;
  /** Undefined when `metrics.enabled` was false at start. */
  metrics: AppMetrics | undefined;
  /** The audit stream itself (flushed at close). */
  auditLog: AuditLog | undefined;
  /** The audit stream, plus the events kept in the store for the console. */
  recentAudit: StoredAudit | undefined;
  /** `audit.success` as read at start. */
  auditSuccess = true;
  private storeSection: string | undefined;

  constructor(private readonly options: ProcessServiceOptions) {
    this.logger = options.logger;
  }

  /** The loader's `runtime`: runs on every load, builds the services on the first. */
  readonly runtimeFor = (main: MainConfig) => {
    const { env, clock, configDir } = this.options;
    const logger = (this.logger ??= createLogger({ level: env.LOG_LEVEL ?? main.log.level, format: env.LOG_FORMAT }));
    const section = JSON.stringify(main.store);
    if (this.storeSection !== undefined && section !== this.storeSection)
      logger.warn('the store section changed; it takes effect at the next restart');
    this.storeSection ??= section;
    if (!this.store) {
      const metrics = main.metrics.enabled ? createMetrics({ defaultMetrics: main.metrics.default_metrics }) : undefined;
      this.metrics = metrics;
      if (main.audit.enabled) this.auditLog = createAuditLog(this.options.auditStream ?? this.auditStream(main.audit.destination));
      this.auditSuccess = main.audit.success;
      const base = this.options.store ?? createStore(main.store, { clock, logger, env, configDir, ...(metrics ? { metrics } : {}) });
      this.store = metrics ? countStoreErrors(base, metrics) : base;
    }
    this.recentAudit ??= this.auditLog ? new StoredAudit(this.auditLog, this.store, main.audit.keep, logger) : undefined;
    return { store: this.store, clock, logger, metrics: this.metrics ?? noopMetrics, audit: this.audit };
  };

  /** The configured destination, opened now: one that cannot be is the admin's to fix, so it reads like any config issue. */
  private auditStream(destination: string): DestinationStream {
    try {
      return auditDestination(destination, this.options.configDir);
    } catch (err) {
      throw new ConfigError([
        {
          file: display(this.options.configFile),
          pointer: '/audit/destination',
          message: `expected a file authpipe can create or append to: ${(err as Error).message}`,
          code: 'CONFIG_READ',
        },
      ]);
    }
  }

  get audit(): Audit {
    return this.recentAudit ?? noopAudit;
  }

  /** After a failed start: a store we made may already be connecting, and must not keep running. */
  abandon(): void {
    if (!this.options.store) void this.store?.close();
  }
}
