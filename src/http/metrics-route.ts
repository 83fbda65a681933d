import type { Express, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { ConfigHolder } from '../config/holder.js';
import { clientAllowed } from './client-access.js';
import { sendJson } from './respond.js';

/**
 * Where a scrape's text comes from: this process's own registry (a prom-client Registry is
 * one), or under `serve --workers N` the sum over all workers (observe/worker-metrics.ts).
 */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/**
 * GET /metrics in Prometheus text. When `metrics.clients` is set, anyone else gets the same
 * plain 404 as an unknown path, checked before any work (no fan-out to the workers for
 * them). The allow-list is read from the active config on each scrape. When the text cannot
 * be had (workers not all answering in time) the scrape fails with a 503 and the reason as a
 * comment: a failed scrape is a gap in Prometheus, a partial one would be wrong numbers.
 */
export function mountMetrics(source: MetricsSource, holder: ConfigHolder, listenerId: string, logger: Logger) {
  return (app: Express): void => {
    app.get('/metrics', async (req: Request, res: Response) => {
      const config = holder.current;
      const clients = config.main.metrics.clients;
      if (clients.length > 0 && !clientAllowed(req, config, listenerId, 'metrics', clients))
        return sendJson(res, 404, { status: 'NotFound' });
      let text: string;
      try {
        text = await source.metrics();
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        logger.warn({ err: reason }, 'metrics scrape failed; answering 503');
        res.statusCode = 503;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.setHeader('cache-control', 'no-store');
        res.end(`# authpipe: metrics not available: ${reason.replace(/\n/g, ' ')}\n`);
        return;
      }
      res.statusCode = 200;
      res.setHeader('content-type', source.contentType);
      res.end(text);
    });
  };
}
