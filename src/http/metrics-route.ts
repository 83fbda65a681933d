import type { Express, Request, Response } from 'express';
import type { Registry } from 'prom-client';
import type { ConfigHolder } from '../config/holder.js';
import { clientAllowed } from './client-access.js';
import { sendJson } from './respond.js';

/**
 * GET /metrics in Prometheus text. When `metrics.clients` is set, anyone else gets the same
 * plain 404 as an unknown path. The allow-list is read from the active config on each scrape.
 */
export function mountMetrics(registry: Registry, holder: ConfigHolder, listenerId: string) {
  return (app: Express): void => {
    app.get('/metrics', async (req: Request, res: Response) => {
      const config = holder.current;
      const clients = config.main.metrics?.clients ?? [];
      if (clients.length > 0 && !clientAllowed(req, config, listenerId, 'metrics', clients)) return sendJson(res, 404, { status: 'NotFound' });
      const text = await registry.metrics();
      res.statusCode = 200;
      res.setHeader('content-type', registry.contentType);
      res.end(text);
    });
  };
}
