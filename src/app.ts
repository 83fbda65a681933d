import { createServer, type RequestListener, type Server } from 'node:http';
import { dirname, resolve } from 'node:path';
import type { Express } from 'express';
import type { DestinationStream, Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ConfigHolder } from './config/holder.js';
import { ConfigError, formatIssue, type ConfigIssue } from './config-kit/issues.js';
import { loadConfig, type LoadedConfig } from './config/load.js';
import { closeConfigServices } from './config/services.js';
import type { MainConfig } from './config/main-schema.js';
import { watchConfig, type ConfigWatcher } from './config/watch.js';
import type { Propagate } from './config/cluster-sync.js';
import { PublishedVersion } from './config/published-version.js';
import { noopAudit, type Audit } from './engine/audit.js';
import { systemClock, type Clock } from './engine/clock.js';
import { noopMetrics } from './engine/metrics.js';
import type { ValveRegistry } from './engine/registry.js';
import { combineObservers } from './engine/observers.js';
import type { ValveDefinition } from './engine/valve.js';
import { createRequestListener } from './http/app.js';
import { answerClientError } from './http/client-error.js';
import { hardenServer, type ConnectionCaps } from './http/server-edges.js';
import type { CallEvent, CallObservers } from './http/authentication.js';
import { mountJwks } from './http/jwks.js';
import { mountMetrics, type MetricsSource } from './http/metrics-route.js';
import { mountAccessGroupsAdmin } from './access-groups/admin/router.js';
import { oidcHandler } from './oidc/mount.js';
import { OIDC_PATH } from './oidc/issuer.js';
import { createManagementListener } from './admin/management.js';
import { RecentAudit } from './admin/audit-feed.js';
import { mountConfigAdmin } from './admin/mount.js';
import { mountConsole } from './admin/console-route.js';
import type { FileOverlay } from './config-kit/json-file.js';
import { managementAddress } from './config/management-schema.js';
import { MANAGEMENT_LISTENER } from './http/client-access.js';
import { createLogger } from './logger.js';
import { auditDestination, createAuditLog, type AuditLog } from './observe/audit-log.js';
import { createMetrics, type AppMetrics } from './observe/prometheus.js';
import { countStoreErrors } from './observe/store-errors.js';
import { traceSwitch } from './observe/trace-switch.js';
import { createStore } from './store/create.js';
import { configurePasswordChecks } from './credentials/check.js';
import { passwordCosts } from './credentials/calibration.js';
import { defaultDummyHash } from './credentials/hash.js';
import { EmbeddedDirectory } from './directory/load.js';
import { stopDeliveries } from './otp/delivery.js';
import type { Store } from './store/store.js';
import { createRegistry } from './valves/index.js';

/**
 * The composition root: wires config, registry, store, engine and HTTP. Services that
 * outlive a reload (store, clock, logger, metrics, audit) are created once here, from the
 * first load; everything read from the config files is rebuilt on each load and swapped in
 * whole.
 */
export interface AppOptions {
  configFile: string;
  env?: Readonly<Record<string, string | undefined>>;
  clock?: Clock;
  logger?: Logger;
  /** A store to use instead of the configured one (tests). */
  store?: Store;
  /** Where audit lines go instead of the configured destination (tests). */
  auditStream?: DestinationStream;
  observers?: CallObservers;
  /** Valves registered beside the built-in ones: tests only (a probe that uses the store). */
  valves?: readonly ValveDefinition<never>[];
  /** What GET /metrics serves instead of this process's registry (a `--workers` worker: the sum over all). Called once. */
  metricsSource?: (registry: Registry) => MetricsSource;
  /** Under `serve --workers N`: makes every other worker reload to a version (config/cluster-sync.ts). */
  propagate?: Propagate;
}

export type ReloadResult = { ok: true; version: string } | { ok: false; issues: readonly ConfigIssue[] };

export interface AuthpipeApp {
  readonly holder: ConfigHolder;
  readonly registry: ValveRegistry;
  readonly logger: Logger;
  readonly store: Store;
  /** Undefined when `metrics.enabled` was false at start. */
  readonly metrics: AppMetrics | undefined;
  readonly audit: Audit;
  /** The request listener of a public listener (default: the first), for supertest or node:http. */
  httpApp(listenerId?: string): RequestListener;
  /** The request listener of the management listener (metrics, readyz, admin API, console, traced calls). */
  managementApp(): RequestListener;
  /**
   * Loads and validates everything, then swaps; on failure keeps serving the old config and
   * reports it on /readyz. `trigger` names who asked (SIGHUP, watch, api) in the audit log.
   */
  reload(trigger?: string): ReloadResult;
  /** Reloads when a config, data or pipe file changes (unless `reload.watch` is false). */
  watch(): void;
  /** Starts the public listeners, then the management listener (last in the array). */
  listen(): Promise<Server[]>;
  /** Stops accepting, lets calls in flight finish (up to `shutdown.grace_ms`), closes the store. */
  close(): Promise<void>;
}

/** Longer than server.requestTimeout, so no call still runs on a retired config. */
const RETIRE_GRACE_MS = 30_000;

export function createApp(options: AppOptions): AuthpipeApp {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const configDir = dirname(resolve(options.configFile));
  const registry = createRegistry(options.valves);
  let logger = options.logger;
  let store: Store | undefined;
  let storeSection: string | undefined;
  let metrics: AppMetrics | undefined;
  let audit: AuditLog | undefined;
  /** The audit stream, plus a window of recent events for the console. */
  let recentAudit: RecentAudit | undefined;
  let auditSuccess = true;

  // Runs on every load; what it builds on the first one outlives reloads (store connections
  // and state, metrics, the audit stream), so changing those sections needs a restart.
  const runtimeFor = (main: MainConfig) => {
    logger ??= createLogger({ level: env.LOG_LEVEL ?? main.log.level });
    const section = JSON.stringify(main.store);
    if (storeSection !== undefined && section !== storeSection) logger.warn('the store section changed; it takes effect at the next restart');
    storeSection ??= section;
    if (!store) {
      if (main.metrics.enabled) metrics = createMetrics({ defaultMetrics: main.metrics.default_metrics });
      if (main.audit.enabled) audit = createAuditLog(options.auditStream ?? auditDestination(main.audit.destination, configDir));
      auditSuccess = main.audit.success;
      const base = options.store ?? createStore(main.store, { clock, logger, env, configDir, ...(metrics ? { metrics } : {}) });
      store = metrics ? countStoreErrors(base, metrics) : base;
    }
    recentAudit ??= audit ? new RecentAudit(audit) : undefined;
    return { store, clock, logger, metrics: metrics ?? noopMetrics, audit: recentAudit ?? noopAudit };
  };
  const load = (): LoadedConfig => {
    const loaded = loadConfig(options.configFile, { registry, runtime: runtimeFor, env });
    // Loud on every load, until fixed: secrets others can read (config-kit/file-mode.ts).
    for (const warning of loaded.warnings) logger?.warn({ file: warning.file, pointer: warning.pointer, problem: warning.message }, `config warning: ${formatIssue(warning)}`);
    return loaded;
  };
  /** Loads with an admin change overlaid, writing nothing: the issues, or none. */
  const check = (overlay: FileOverlay): readonly ConfigIssue[] => {
    try {
      const checked = loadConfig(options.configFile, { registry, runtime: runtimeFor, env, readOnly: true, overlay });
      void closeConfigServices(checked.services);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.issues;
      throw err;
    }
  };

  let first: LoadedConfig;
  try {
    first = load();
  } catch (err) {
    // The store may already be connecting; a failed start must not leave it running.
    if (!options.store) void store?.close();
    throw err;
  }
  // Start-only: the budget and floor of password checks, and the calibration of every hash
  // profile the directory holds, timed before the first listener opens (listen waits for it).
  const checks = first.main.password_checks;
  configurePasswordChecks({
    ...(checks.concurrency !== undefined ? { concurrency: checks.concurrency } : {}),
    ...(checks.queue !== undefined ? { queue: checks.queue } : {}),
    fixedMs: checks.failure_floor_ms,
    margin: checks.floor_margin,
    nice: checks.nice,
  });
  const directory = first.services.directory;
  const calibrated = passwordCosts.calibrate(directory instanceof EmbeddedDirectory ? directory.checkedProfiles() : [defaultDummyHash()]);
  const holder = new ConfigHolder(first);
  const log = logger as Logger;
  const auditLog: Audit = recentAudit ?? noopAudit;
  metrics?.reloaded('success', holder.current.version);
  const metricsSource = metrics ? (options.metricsSource?.(metrics.registry) ?? metrics.registry) : undefined;

  const callEnd = (event: CallEvent): void => {
    metrics?.callEnd(event);
    // A 200 is an authentication only when the pipe established a subject; echo-like calls
    // that verify nobody are not audited as successes (the call log has them).
    if (event.status === 200) {
      if (auditSuccess && event.authenticated !== undefined) {
        auditLog.event('auth.success', { subject: event.authenticated, tenant: event.tenant, operation: event.operation, requestId: event.requestId });
      }
    } else {
      const type = event.status === 500 ? 'auth.fault' : 'auth.failure';
      auditLog.event(type, { subject: event.subject, tenant: event.tenant, operation: event.operation, code: event.code, requestId: event.requestId });
    }
    options.observers?.callEnd?.(event);
  };
  const steps = combineObservers(metrics?.steps, options.observers?.steps);
  // Public listeners never trace; the management listener honours the trace switch.
  const observers: CallObservers = { callEnd, ...(steps ? { steps } : {}) };
  const tracedObservers: CallObservers = { ...observers, trace: options.observers?.trace ?? traceSwitch(log, steps) };

  // A swapped-out config still serves the calls that started on it: release what it holds
  // open (LDAP connections) after a grace period longer than any call may run.
  const retired = new Map<LoadedConfig, NodeJS.Timeout>();
  const retire = (previous: LoadedConfig) => {
    const timer = setTimeout(() => {
      retired.delete(previous);
      void closeConfigServices(previous.services);
    }, RETIRE_GRACE_MS);
    timer.unref();
    retired.set(previous, timer);
  };

  const servers: Server[] = [];
  const apps = new Map<string, RequestListener>();
  let management: RequestListener | undefined;
  let watcher: ConfigWatcher | undefined;
  let closing: Promise<void> | undefined;

  const reload = (trigger = 'api'): ReloadResult => {
    let next: LoadedConfig;
    try {
      next = load();
    } catch (err) {
      const issues = err instanceof ConfigError ? err.issues : [{ file: options.configFile, pointer: '', message: `reload failed: ${(err as Error).message}` }];
      holder.refused(issues);
      for (const issue of issues) log.error({ ...issue, trigger }, 'config reload refused; the last good config keeps serving');
      metrics?.reloaded('failure');
      auditLog.event('admin.config_rejected', { subject: trigger, version: holder.current.version, issues: issues.length, first: issues[0] ? formatIssue(issues[0]) : '' });
      return { ok: false, issues };
    }
    if (trigger !== 'api' && trigger !== 'SIGHUP' && next.version === holder.current.version) {
      // A save that changed nothing (or a change already loaded by SIGHUP): nothing to swap.
      void closeConfigServices(next.services);
      holder.clearError();
      log.debug({ version: next.version }, 'config unchanged');
      return { ok: true, version: next.version };
    }
    const previous = holder.swap(next);
    retire(previous);
    armKeyActivation();
    log.info({ version: next.version, previous: previous.version, trigger }, 'config reloaded');
    metrics?.reloaded('success', next.version);
    auditLog.event('admin.config_reloaded', { subject: trigger, version: next.version, previous: previous.version });
    if (watcher && !next.main.reload.watch) {
      watcher.close();
      watcher = undefined;
    } else {
      watcher?.update(next);
    }
    // A deliberate change is announced to engines sharing the store; one learnt from them is not re-announced.
    if (trigger === 'SIGHUP' || trigger === 'watch') {
      published.publish(next.version).catch((err: unknown) => log.warn({ err, version: next.version }, 'could not publish the config version to the store'));
    }
    return { ok: true, version: next.version };
  };
  const published = new PublishedVersion(store as Store, holder, () => reload('store'), log);

  /** After an admin change: every other worker, and every engine on the store, to `version`. */
  const propagate = async (version: string): Promise<void> => {
    const problems: string[] = [];
    await Promise.all([
      options.propagate?.(version).catch((err: Error) => problems.push(`workers: ${err.message}`)),
      published.publish(version).catch((err: Error) => problems.push(`store: ${err.message}`)),
    ]);
    if (problems.length > 0) throw new Error(problems.join('; '));
  };

  // A key written by `keys rotate` signs from its activate_at: a reload then switches to it,
  // so nobody has to send a signal at the right moment.
  let keyTimer: NodeJS.Timeout | undefined;
  const armKeyActivation = (): void => {
    clearTimeout(keyTimer);
    const at = holder.current.services.tokens?.keys.nextActivation;
    if (at === undefined || closing) return;
    keyTimer = setTimeout(() => reload('key-activation'), Math.min(Math.max(at - Date.now(), 0) + 50, 2 ** 31 - 1));
    keyTimer.unref();
  };
  armKeyActivation();

  const httpApp = (listenerId?: string) => {
    const id = listenerId ?? (holder.current.listeners[0]?.http.id as string);
    let app = apps.get(id);
    if (!app) {
      const mount = (express: Express) => {
        mountJwks(express, holder);
      };
      app = createRequestListener({ holder, listenerId: id, logger: log, observers, mount, direct: [{ prefix: OIDC_PATH, handle: oidcHandler(holder, id, log) }] });
      apps.set(id, app);
    }
    return app;
  };

  const managementApp = () => {
    if (!management) {
      const metricsRoute = metricsSource ? mountMetrics(metricsSource, holder, MANAGEMENT_LISTENER, log) : undefined;
      const mount = (express: Express) => {
        mountAccessGroupsAdmin(express, { holder, listenerId: MANAGEMENT_LISTENER, logger: log, clock, reload, propagate });
        mountConfigAdmin(express, { holder, logger: log, clock, reload, propagate, check, metrics: metricsSource, recentAudit, registry });
        mountConsole(express, holder, env);
        metricsRoute?.(express);
      };
      management = createManagementListener({ holder, logger: log, observers: tracedObservers, mount, published: () => published.status() });
    }
    return management;
  };

  const startServer = async (listener: RequestListener, port: number, host: string, name: string, limits: ConnectionCaps): Promise<Server> => {
    // Host is checked by request-edges.ts, which answers the contract's way (node: a bare 400).
    const server = createServer({ requireHostHeader: false }, listener);
    server.on('clientError', answerClientError);
    hardenServer(server, limits, metrics?.connections(name));
    server.listen(port, host);
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
    log.info({ listener: name, address: server.address() }, 'listening');
    servers.push(server);
    return server;
  };

  return {
    holder,
    registry,
    logger: log,
    store: store as Store,
    metrics,
    audit: auditLog,
    httpApp,
    managementApp,
    reload,
    watch() {
      if (watcher || closing || !holder.current.main.reload.watch) return;
      watcher = watchConfig(holder.current, () => reload('watch'), {
        debounceMs: holder.current.main.reload.debounce_ms,
        onError: (err) => log.warn({ err }, 'config watch failed; SIGHUP still reloads'),
      });
    },
    async listen() {
      await calibrated;
      for (const [index, listener] of holder.current.listeners.entries()) {
        // PORT and HOST override the first listener, so `PORT=9000 npm start` works.
        const port = index === 0 && env.PORT !== undefined ? Number(env.PORT) : listener.http.port;
        const host = index === 0 && env.HOST !== undefined ? env.HOST : listener.http.host;
        await startServer(httpApp(listener.http.id), port, host, listener.http.id, { total: listener.http.max_connections, perAddress: listener.http.max_connections_per_address });
      }
      published.start(holder.current.main.reload.store_poll_ms);
      // MANAGEMENT_PORT and MANAGEMENT_HOST override it, as PORT and HOST the first public one.
      const { host, port } = managementAddress(holder.current.main.management, env);
      // Operators' tools only: the public defaults are plenty.
      await startServer(managementApp(), port, host, 'management', { total: 1024, perAddress: 256 });
      return servers;
    },
    close() {
      closing ??= (async () => {
        clearTimeout(keyTimer);
        published.stop();
        watcher?.close();
        watcher = undefined;
        const grace = holder.current.main.shutdown.grace_ms;
        await Promise.all(servers.map((server) => drain(server, grace)));
        for (const [previous, timer] of retired) {
          clearTimeout(timer);
          await closeConfigServices(previous.services);
        }
        retired.clear();
        await closeConfigServices(holder.current.services);
        await stopDeliveries(store as Store);
        await (store as Store).close();
        audit?.flush();
        log.flush?.();
      })();
      return closing;
    },
  };
}

/**
 * Stops accepting at once, closes idle keep-alive connections as soon as they go idle (so a
 * connection that was busy does not linger for its keep-alive timeout), and after `graceMs`
 * cuts whatever is still open: shutdown is bounded even with a stalled client.
 */
function drain(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 25);
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    sweep.unref();
    force.unref();
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
