/**
 * Everything the management listener serves under /admin besides the access groups: the
 * route lists of each resource, the OpenAPI document, wired to the app's reload and check.
 */
import type { Express, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { ConfigHolder } from '../config/holder.js';
import type { Clock } from '../engine/clock.js';
import type { MetricsSource } from '../http/metrics-route.js';
import { sendJson } from '../http/respond.js';
import { brandingRoutes } from './branding.js';
import { auditRoutes, type StoredAudit } from './audit-feed.js';
import type { ChangeOptions } from './config-change.js';
import { directoryRoutes } from './directory-routes.js';
import { keyRoutes } from './keys.js';
import { poolRoutes } from './pools.js';
import { referenceRoutes } from './reference-routes.js';
import type { ValveRegistry } from '../engine/registry.js';
import { openApiDocument } from './openapi.js';
import { overviewRoutes } from './overview.js';
import { pipeRoutes } from './pipes.js';
import { mountAdminRoutes, type AdminRoute } from './routes.js';
import { tenantRoutes } from './tenants.js';
import { tryItRoutes } from './try-it.js';
import type { ReportCall } from '../http/call-report.js';

export interface ConfigAdminOptions extends ChangeOptions {
  holder: ConfigHolder;
  logger: Logger;
  clock: Clock;
  metrics: MetricsSource | undefined;
  recentAudit: StoredAudit | undefined;
  registry: ValveRegistry;
  /** Tells dry runs as calls of the dry-run door. */
  report: ReportCall;
}

const OPENAPI_PATH = '/admin/openapi.json';

export function configAdminRoutes(options: ConfigAdminOptions): AdminRoute[] {
  return [
    ...overviewRoutes(options.holder, options.metrics),
    ...tenantRoutes(options),
    ...pipeRoutes(options),
    ...referenceRoutes(options.registry),
    ...directoryRoutes(options),
    ...keyRoutes(options),
    ...poolRoutes(options),
    ...brandingRoutes(options),
    ...tryItRoutes(options.holder, options.report),
    ...auditRoutes(options.recentAudit),
  ];
}

export function mountConfigAdmin(app: Express, options: ConfigAdminOptions): void {
  const routes = configAdminRoutes(options);
  const openapi = JSON.stringify(openApiDocument(routes));
  mountAdminRoutes(app, {
    holder: options.holder,
    logger: options.logger,
    clock: options.clock,
    routes,
    open: { [OPENAPI_PATH]: (_req: Request, res: Response) => sendJson(res, 200, JSON.parse(openapi)) },
  });
}
