import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { ConfigHolder } from '../config/holder.js';
import { authenticationHandler, type CallObservers } from './authentication.js';
import { clientAllowed } from './client-access.js';
import { requestIdOf } from './request-id.js';
import { baseHeaders, sendJson } from './respond.js';

/**
 * The HTTP entry of one listener. `/api/authentication…` goes straight from node:http to
 * the authentication handler: express 5 alone costs about 3.5x the throughput of the hot
 * path (measured: 4.0k vs 14.3k req/s for a trivial JSON echo on this machine). Everything
 * else (health, readiness, and what features mount: JWKS, metrics, admin) is an express
 * app. Every answer, whatever its path, carries x-request-id and Cache-Control: no-store.
 */
export interface HttpAppOptions {
  holder: ConfigHolder;
  listenerId: string;
  logger: Logger;
  observers?: CallObservers;
  /** Extra routes mounted by features (JWKS, metrics, admin). */
  mount?: (app: Express) => void;
}

const API = '/api/authentication';

/** Who sees why a reload was refused, unless `readyz.clients` says otherwise: the machine itself. */

/** A store ping answers within its own deadline; this bounds /readyz whatever the store. */
const READY_PING_MS = 1000;

function within(pending: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([pending, late]).finally(() => clearTimeout(timer));
}

export function createRequestListener(options: HttpAppOptions): RequestListener {
  const { holder, listenerId, logger } = options;
  const authenticate = authenticationHandler(holder, listenerId, logger, options.observers);
  const rest = createExpressApp(options);
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    if (url.startsWith(API) && (url.length === API.length || url[API.length] === '/' || url[API.length] === '?')) {
      const requestId = requestIdOf(req);
      baseHeaders(res, requestId);
      authenticate(req, res, requestId, url.slice(API.length)).catch((err: unknown) => {
        logger.error({ requestId, err }, 'unhandled error in the authentication handler');
        if (!res.headersSent) sendJson(res, 500, { status: 'Failure', errorTranslationKeys: ['INTERNAL_ERROR'], requestId });
      });
      return;
    }
    rest(req, res);
  };
}

function createExpressApp(options: HttpAppOptions): Express {
  const { holder, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);

  app.use((req: Request, res: Response, next: NextFunction) => {
    const requestId = requestIdOf(req);
    res.locals.requestId = requestId;
    baseHeaders(res, requestId);
    next();
  });

  app.get('/healthz', (_req: Request, res: Response) => sendJson(res, 200, { status: 'ok' }));
  app.get('/readyz', async (req: Request, res: Response) => {
    const config = holder.current;
    const detailed = clientAllowed(req, config, options.listenerId, 'readyz', config.main.readyz.clients);
    try {
      await within(config.services.store.ping(), READY_PING_MS);
      sendJson(res, 200, { status: 'ready', ...reloadStatus(holder, detailed) });
    } catch {
      sendJson(res, 503, { status: 'unavailable', ...reloadStatus(holder, detailed), store: 'down' });
    }
  });

  options.mount?.(app);

  app.use((_req: Request, res: Response) => sendJson(res, 404, { status: 'NotFound' }));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    logger.error({ requestId: res.locals.requestId, err, path: req.path }, 'unhandled error');
    if (!res.headersSent) sendJson(res, 500, { status: 'Failure', errorTranslationKeys: ['INTERNAL_ERROR'], requestId: res.locals.requestId });
  });
  return app;
}

/**
 * The active config version, when it was swapped in, and the last refused reload since then
 * (null when the files on disk are what is serving). Its issues name files, pointers and env
 * variable names, so only `readyz.clients` see them; capped so a broken file cannot bloat it.
 */
function reloadStatus(holder: ConfigHolder, detailed: boolean) {
  const failure = holder.lastError;
  return {
    version: holder.current.version,
    loadedAt: holder.loadedAt,
    lastReloadError: failure && { at: failure.at, count: failure.issues.length, ...(detailed ? { issues: failure.issues.slice(0, 10) } : {}) },
  };
}
