import type { Express } from 'express';
import type { Logger } from 'pino';
import { ConfigHolder } from './config/holder.js';
import { ConfigError, type ConfigIssue } from './config/issues.js';
import { loadConfig, type LoadedConfig } from './config/load.js';
import { closeConfigServices } from './config/services.js';
import type { MainConfig } from './config/main-schema.js';
import { systemClock, type Clock } from './engine/clock.js';
import type { ValveRegistry } from './engine/registry.js';
import type { ValveDefinition } from './engine/valve.js';
import { createServer, type RequestListener, type Server } from 'node:http';
import { dirname, resolve } from 'node:path';
import { createRequestListener } from './http/app.js';
import { mountJwks } from './http/jwks.js';
import { mountAccessGroupsAdmin } from './access-groups/admin/router.js';
import type { CallObservers } from './http/authentication.js';
import { createLogger } from './logger.js';
import { createStore } from './store/create.js';
import type { Store } from './store/store.js';
import { createRegistry } from './valves/index.js';

/**
 * The composition root: wires config, registry, store, engine and HTTP. Services that
 * outlive a reload (store, clock, logger) are created once here; everything read from the
 * config files is rebuilt on each load and swapped in whole.
 */
export interface AppOptions {
  configFile: string;
  env?: Readonly<Record<string, string | undefined>>;
  clock?: Clock;
  logger?: Logger;
  /** A store to use instead of the configured one (tests). */
  store?: Store;
  observers?: CallObservers;
  /** Valves registered beside the built-in ones: tests only (a probe that uses the store). */
  valves?: readonly ValveDefinition<never>[];
}

export interface AuthpipeApp {
  readonly holder: ConfigHolder;
  readonly registry: ValveRegistry;
  readonly logger: Logger;
  readonly store: Store;
  /** The request listener of a listener (default: the first), for supertest or node:http. */
  httpApp(listenerId?: string): RequestListener;
  /** Loads and validates everything, then swaps; on failure keeps serving the old config. */
  reload(): { ok: true; version: string } | { ok: false; issues: readonly ConfigIssue[] };
  listen(): Promise<Server[]>;
  close(): Promise<void>;
}

/** Longer than server.requestTimeout, so no call still runs on a retired config. */
const RETIRE_GRACE_MS = 30_000;

export function createApp(options: AppOptions): AuthpipeApp {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const registry = createRegistry(options.valves);
  let logger = options.logger;
  let store = options.store;
  let storeSection: string | undefined;

  // The store is built once, from the first load; later loads reuse it (connections and
  // state outlive a reload), so a changed store section needs a restart.
  const runtimeFor = (main: MainConfig) => {
    logger ??= createLogger({ level: env.LOG_LEVEL ?? main.log?.level ?? 'info' });
    const section = JSON.stringify(main.store ?? null);
    if (storeSection !== undefined && section !== storeSection) logger.warn('the store section changed; it takes effect at the next restart');
    storeSection ??= section;
    store ??= createStore(main.store, { clock, logger, env, configDir: dirname(resolve(options.configFile)) });
    return { store, clock, logger };
  };
  const load = (): LoadedConfig => loadConfig(options.configFile, { registry, runtime: runtimeFor, env });

  let first: LoadedConfig;
  try {
    first = load();
  } catch (err) {
    // The store may already be connecting; a failed start must not leave it running.
    if (!options.store) void store?.close();
    throw err;
  }
  const holder = new ConfigHolder(first);
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
  const log = logger as Logger;

  const reload: AuthpipeApp['reload'] = () => {
    try {
      const next = load();
      retire(holder.swap(next));
      log.info({ version: next.version }, 'config reloaded');
      return { ok: true, version: next.version };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const issue of err.issues) log.error(issue, 'config reload refused');
      return { ok: false, issues: err.issues };
    }
  };

  const httpApp = (listenerId?: string) => {
    const id = listenerId ?? (holder.current.listeners[0]?.http.id as string);
    let app = apps.get(id);
    const mount = (express: Express) => {
      mountJwks(express, holder);
      mountAccessGroupsAdmin(express, { holder, listenerId: id, logger: log, clock, reload });
    };
    if (!app) apps.set(id, (app = createRequestListener({ holder, listenerId: id, logger: log, mount, ...(options.observers ? { observers: options.observers } : {}) })));
    return app;
  };

  return {
    holder,
    registry,
    logger: log,
    store: store as Store,
    httpApp,
    reload,
    async listen() {
      for (const [index, listener] of holder.current.listeners.entries()) {
        // PORT and HOST override the first listener, so `PORT=9000 npm start` works.
        const port = index === 0 && env.PORT !== undefined ? Number(env.PORT) : listener.http.port;
        const host = index === 0 && env.HOST !== undefined ? env.HOST : listener.http.host;
        const server = createServer(httpApp(listener.http.id));
        server.listen(port, host);
        server.requestTimeout = 10_000;
        server.headersTimeout = 5_000;
        server.keepAliveTimeout = 5_000;
        await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
        log.info({ listener: listener.http.id, address: server.address() }, 'listening');
        servers.push(server);
      }
      return servers;
    },
    async close() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeIdleConnections();
            }),
        ),
      );
      for (const [previous, timer] of retired) {
        clearTimeout(timer);
        await closeConfigServices(previous.services);
      }
      retired.clear();
      await closeConfigServices(holder.current.services);
      await holder.current.services.store.close();
      log.flush?.();
    },
  };
}
