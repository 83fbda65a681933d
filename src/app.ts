import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { DestinationStream, Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ManagementHosts } from './admin/management-hosts.js';
import { ConfigHolder } from './config/holder.js';
import type { LoadedConfig } from './config/load.js';
import type { Propagate } from './config/cluster-sync.js';
import type { Audit } from './engine/audit.js';
import { systemClock, type Clock } from './engine/clock.js';
import type { ValveRegistry } from './engine/registry.js';
import type { ValveDefinition } from './engine/valve.js';
import type { CallObservers } from './http/authentication.js';
import type { MetricsSource } from './http/metrics-route.js';
import type { AppMetrics } from './observe/prometheus.js';
import type { Store } from './store/store.js';
import { createRegistry } from './valves/index.js';
import { callObservers } from './app/call-observers.js';
import { ConfigLifecycle, type ReloadResult } from './app/config-lifecycle.js';
import { startPasswordChecks } from './app/password-checks.js';
import { ProcessServices } from './app/process-services.js';
import { managementListener, publicListener } from './app/request-listeners.js';
import { managementSpec, publicSpecs, Servers } from './app/servers.js';
import { configLoader } from './app/config-loader.js';

/**
 * The composition root: wires config, registry, store, engine and HTTP from the pieces in
 * src/app/. Services that outlive a reload (store, clock, logger, metrics, audit) are created
 * once, from the first load (process-services.ts); everything read from the config files is
 * rebuilt on each load and swapped in whole (config-lifecycle.ts).
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
  /** How long a swapped-out config keeps what it owns before it is closed (tests; default 30 s, longer than any call). */
  retireGraceMs?: number;
}

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

export function createApp(options: AppOptions): AuthpipeApp {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const registry = createRegistry(options.valves);
  const { logger, store: givenStore, auditStream } = options;
  const services = new ProcessServices({
    env,
    clock,
    configDir: dirname(resolve(options.configFile)),
    configFile: options.configFile,
    logger,
    store: givenStore,
    auditStream,
  });
  const { load, check } = configLoader(options.configFile, { registry, runtime: services.runtimeFor, env }, () => services.logger);
  let first: LoadedConfig;
  try {
    first = load();
  } catch (err) {
    services.abandon();
    throw err;
  }
  const calibrated = startPasswordChecks(first);
  const holder = new ConfigHolder(first);
  const log = services.logger as Logger;
  const store = services.store as Store;
  const { metrics, audit } = services;
  const lifecycle = new ConfigLifecycle({
    holder,
    load,
    configFile: options.configFile,
    store,
    logger: log,
    metrics,
    audit,
    propagate: options.propagate,
    ...(options.retireGraceMs === undefined ? {} : { retireGraceMs: options.retireGraceMs }),
  });
  const observers = callObservers({ metrics, audit, auditSuccess: services.auditSuccess, extra: options.observers, logger: log });
  const metricsSource = metrics ? (options.metricsSource?.(metrics.registry) ?? metrics.registry) : undefined;
  const servers = new Servers(log, metrics);
  let closing: Promise<void> | undefined;

  const managementHosts = new ManagementHosts(holder, env);
  const apps = new Map<string, RequestListener>();
  const httpApp = (listenerId?: string) => {
    const id = listenerId ?? (holder.current.listeners[0]?.http.id as string);
    let app = apps.get(id);
    if (!app) apps.set(id, (app = publicListener(holder, id, log, observers.public, managementHosts)));
    return app;
  };
  let management: RequestListener | undefined;
  const managementApp = () =>
    (management ??= managementListener({
      holder,
      logger: log,
      clock,
      env,
      hosts: managementHosts,
      registry,
      check,
      observers: observers.traced,
      metrics: metricsSource,
      recentAudit: services.recentAudit,
      reload: lifecycle.reload,
      propagate: lifecycle.propagate,
      published: lifecycle.publishedStatus,
    }));

  return {
    holder,
    registry,
    logger: log,
    store,
    metrics,
    audit,
    httpApp,
    managementApp,
    reload: lifecycle.reload,
    watch: () => lifecycle.watch(),
    async listen() {
      await calibrated;
      for (const spec of publicSpecs(holder.current, env)) await servers.start(httpApp(spec.id), spec);
      lifecycle.pollStore();
      const managementServer = await servers.start(managementApp(), managementSpec(holder.current, env));
      managementHosts.listening((managementServer.address() as AddressInfo).port);
      return servers.started;
    },
    close() {
      closing ??= (async () => {
        lifecycle.stop();
        await servers.drain(holder.current.main.shutdown.grace_ms);
        await lifecycle.closeServices();
        await services.recentAudit?.close();
        await store.close();
        // Written, not only handed to the writer: whoever closes the app in-process (tests, an
        // embedding) may read the file next.
        await services.auditLog?.flush();
        log.flush?.();
      })();
      return closing;
    },
  };
}
