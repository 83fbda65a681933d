/**
 * What each listener serves. A public listener: the authentication API (src/http/app.ts),
 * the JWKS and the OpenID Connect front door. The management listener: metrics, readyz,
 * the admin API, the console and traced calls. Each request listener is built once and
 * reads the active config per request.
 */
import type { RequestListener } from 'node:http';
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { StoredAudit } from '../admin/audit-feed.js';
import { mountConsole } from '../admin/console-route.js';
import { createManagementListener } from '../admin/management.js';
import type { ManagementHosts } from '../admin/management-hosts.js';
import { mountConfigAdmin } from '../admin/mount.js';
import { mountAccessGroupsAdmin } from '../access-groups/admin/router.js';
import type { ConfigHolder } from '../config/holder.js';
import type { ConfigIssue } from '../config-kit/issues.js';
import type { FileOverlay } from '../config-kit/json-file.js';
import type { PublishedStatus } from '../config/published-version.js';
import type { Clock } from '../engine/clock.js';
import type { ValveRegistry } from '../engine/registry.js';
import { createRequestListener } from '../http/app.js';
import type { CallObservers } from '../http/authentication.js';
import { MANAGEMENT_LISTENER } from '../http/client-access.js';
import { mountJwks } from '../http/jwks.js';
import { mountMetrics, type MetricsSource } from '../http/metrics-route.js';
import { OIDC_PATH } from '../oidc/issuer.js';
import { OAUTH_METADATA_PATH, oidcHandler } from '../oidc/mount.js';
import { callReporter } from '../http/call-report.js';
import type { ReloadResult } from './config-lifecycle.js';

/** A public listener of the main file (`http_configuration[].id`). */
export function publicListener(
  holder: ConfigHolder,
  listenerId: string,
  logger: Logger,
  observers: CallObservers,
  managementHosts: ManagementHosts,
): RequestListener {
  const mount = (express: Express) => mountJwks(express, holder);
  // The console's client may come back to every name of the management listener.
  const consoleOrigins = () => managementHosts.origins();
  const oidc = oidcHandler(holder, listenerId, logger, consoleOrigins, observers.callEnd);
  return createRequestListener({
    holder,
    listenerId,
    logger,
    observers,
    mount,
    direct: [
      { prefix: OIDC_PATH, handle: oidc },
      { prefix: OAUTH_METADATA_PATH, handle: oidc },
    ],
  });
}

export interface ManagementOptions {
  holder: ConfigHolder;
  logger: Logger;
  clock: Clock;
  env: Readonly<Record<string, string | undefined>>;
  /** The names the listener answers for; the console's redirect URI is one of them. */
  hosts: ManagementHosts;
  registry: ValveRegistry;
  /** Calls there honour the trace switch. */
  observers: CallObservers;
  /** What GET /metrics serves; undefined when metrics are off. */
  metrics: MetricsSource | undefined;
  recentAudit: StoredAudit | undefined;
  reload(): ReloadResult;
  propagate(version: string): Promise<void>;
  /** Loads with an admin change overlaid, writing nothing: the issues, or none. */
  check(overlay: FileOverlay): readonly ConfigIssue[];
  published(): PublishedStatus | null;
}

export function managementListener(options: ManagementOptions): RequestListener {
  const { holder, logger, clock, reload, propagate, metrics } = options;
  const metricsRoute = metrics ? mountMetrics(metrics, holder, MANAGEMENT_LISTENER, logger) : undefined;
  const mount = (express: Express) => {
    mountAccessGroupsAdmin(express, { holder, listenerId: MANAGEMENT_LISTENER, logger, clock, reload, propagate });
    mountConfigAdmin(express, {
      holder,
      logger,
      clock,
      reload,
      propagate,
      check: options.check,
      metrics,
      recentAudit: options.recentAudit,
      registry: options.registry,
      report: callReporter(logger, options.observers.callEnd),
    });
    mountConsole(express, holder, options.env, options.hosts);
    metricsRoute?.(express);
  };
  return createManagementListener({
    holder,
    logger,
    observers: options.observers,
    mount,
    hosts: options.hosts,
    published: options.published,
  });
}
