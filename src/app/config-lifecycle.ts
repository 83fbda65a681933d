/**
 * The life of the active config after the first load: reloads (SIGHUP, file watch, admin
 * API, the store's published version, a key's activation time), their audit and metrics,
 * retiring a swapped-out config once no call can still use it, and announcing a change to
 * the other workers and engines that share the store.
 */
import type { Logger } from 'pino';
import type { Propagate } from '../config/cluster-sync.js';
import type { ConfigHolder } from '../config/holder.js';
import { ConfigError, formatIssue, type ConfigIssue } from '../config-kit/issues.js';
import type { LoadedConfig } from '../config/load.js';
import { PublishedVersion } from '../config/published-version.js';
import { closeConfigServices } from '../config/services.js';
import { watchConfig, type ConfigWatcher } from '../config/watch.js';
import type { Audit } from '../engine/audit.js';
import type { AppMetrics } from '../observe/prometheus.js';
import type { Store } from '../store/store.js';

export type ReloadResult = { ok: true; version: string } | { ok: false; issues: readonly ConfigIssue[] };

export interface LifecycleOptions {
  holder: ConfigHolder;
  /** Loads and validates every file; throws ConfigError. */
  load(): LoadedConfig;
  configFile: string;
  store: Store;
  logger: Logger;
  metrics: AppMetrics | undefined;
  audit: Audit;
  /** Under `serve --workers N`: makes every other worker reload to a version. */
  propagate: Propagate | undefined;
  /** How long a swapped-out config is kept before closeConfigServices (default RETIRE_GRACE_MS). */
  retireGraceMs?: number;
}

/** Longer than server.requestTimeout, so no call still runs on a retired config. */
const RETIRE_GRACE_MS = 30_000;

export class ConfigLifecycle {
  private readonly retired = new Map<LoadedConfig, NodeJS.Timeout>();
  private readonly published: PublishedVersion;
  private watcher: ConfigWatcher | undefined;
  private keyTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: LifecycleOptions) {
    this.published = new PublishedVersion(options.store, options.holder, () => this.reload('store'), options.logger);
    options.metrics?.reloaded('success', options.holder.current.version);
    this.armKeyActivation();
  }

  /**
   * Loads and validates everything, then swaps; on failure keeps serving the old config and
   * reports it on /readyz. `trigger` names who asked (SIGHUP, watch, api) in the audit log.
   */
  readonly reload = (trigger = 'api'): ReloadResult => {
    const { holder, logger: log, metrics, audit } = this.options;
    let next: LoadedConfig;
    try {
      next = this.options.load();
    } catch (err) {
      const issues =
        err instanceof ConfigError
          ? err.issues
          : [
              {
                file: this.options.configFile,
                pointer: '',
                message: `reload failed: ${(err as Error).message}`,
                code: 'CONFIG_INVALID' as const,
              },
            ];
      holder.refused(issues);
      for (const issue of issues) log.error({ ...issue, trigger }, 'config reload refused; the last good config keeps serving');
      metrics?.reloaded('failure');
      audit.event('admin.config_rejected', {
        subject: trigger,
        version: holder.current.version,
        issues: issues.length,
        first: issues[0] ? formatIssue(issues[0]) : '',
      });
      return { ok: false, issues };
    }
    if (trigger !== 'api' && trigger !== 'SIGHUP' && next.version === holder.current.version) {
      // A save that changed nothing (or a change already loaded by SIGHUP): nothing to swap.
      closeConfigServices(next.services).catch((err: unknown) => log.warn({ err }, 'an unchanged config did not close cleanly'));
      holder.clearError();
      log.debug({ version: next.version }, 'config unchanged');
      return { ok: true, version: next.version };
    }
    const previous = holder.swap(next);
    this.retire(previous);
    this.armKeyActivation();
    log.info({ version: next.version, previous: previous.version, trigger }, 'config reloaded');
    metrics?.reloaded('success', next.version);
    audit.event('admin.config_reloaded', { subject: trigger, version: next.version, previous: previous.version });
    if (this.watcher && !next.main.reload.watch) {
      this.watcher.close();
      this.watcher = undefined;
    } else {
      this.watcher?.update(next);
    }
    // A deliberate change is announced to engines sharing the store; one learnt from them is not re-announced.
    if (trigger === 'SIGHUP' || trigger === 'watch') {
      this.published
        .publish(next.version)
        .catch((err: unknown) => log.warn({ err, version: next.version }, 'could not publish the config version to the store'));
    }
    return { ok: true, version: next.version };
  };

  /** After an admin change: every other worker, and every engine on the store, to `version`. */
  readonly propagate = async (version: string): Promise<void> => {
    const problems: string[] = [];
    await Promise.all([
      this.options.propagate?.(version).catch((err: Error) => problems.push(`workers: ${err.message}`)),
      this.published.publish(version).catch((err: Error) => problems.push(`store: ${err.message}`)),
    ]);
    if (problems.length > 0) throw new Error(problems.join('; '));
  };

  /** What /readyz says about the store's published version. */
  readonly publishedStatus = () => this.published.status();

  /** Reloads when a config, data or pipe file changes (unless `reload.watch` is false). */
  watch(): void {
    const { holder, logger } = this.options;
    if (this.watcher || this.stopped || !holder.current.main.reload.watch) return;
    this.watcher = watchConfig(holder.current, () => this.reload('watch'), {
      debounceMs: holder.current.main.reload.debounce_ms,
      onError: (err) => logger.warn({ err }, 'config watch failed; SIGHUP still reloads'),
    });
  }

  /** Follows the version other engines on the store publish (`reload.store_poll_ms`). */
  pollStore(): void {
    this.published.start(this.options.holder.current.main.reload.store_poll_ms);
  }

  /** Stops every reload trigger; nothing reloads after this. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.keyTimer);
    this.published.stop();
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Releases what the retired configs and the active one hold open (after the listeners drained). */
  async closeServices(): Promise<void> {
    for (const [previous, timer] of this.retired) {
      clearTimeout(timer);
      await closeConfigServices(previous.services);
    }
    this.retired.clear();
    await closeConfigServices(this.options.holder.current.services);
  }

  /**
   * A swapped-out config still serves the calls that started on it: release what it holds
   * open (its runtime's delivery workers, LDAP connections) after a grace period longer than
   * any call may run.
   */
  private retire(previous: LoadedConfig): void {
    const timer = setTimeout(() => {
      this.retired.delete(previous);
      closeConfigServices(previous.services).catch((err: unknown) =>
        this.options.logger.warn({ err, version: previous.version }, 'a retired config did not close cleanly'),
      );
    }, this.options.retireGraceMs ?? RETIRE_GRACE_MS);
    timer.unref();
    this.retired.set(previous, timer);
  }

  /**
   * A key written by `keys rotate` signs from its activate_at: a reload then switches to it,
   * so nobody has to send a signal at the right moment.
   */
  private armKeyActivation(): void {
    clearTimeout(this.keyTimer);
    const at = this.options.holder.current.services.tokens?.nextActivation;
    if (at === undefined || this.stopped) return;
    this.keyTimer = setTimeout(() => this.reload('key-activation'), Math.min(Math.max(at - Date.now(), 0) + 50, 2 ** 31 - 1));
    this.keyTimer.unref();
  }
}
