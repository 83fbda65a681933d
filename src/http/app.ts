import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { ConfigHolder } from '../config/holder.js';
import type { PublishedStatus } from '../config/published-version.js';
import { authenticationHandler, type CallObservers } from './authentication.js';
import { clientAllowed, DEFAULT_READYZ_CLIENTS } from './client-access.js';
import { requestIdOf } from './request-id.js';
import { checkRequestEdges } from './request-edges.js';
import { failureBody, refuse, type AuthpipeError } from '../errors.js';
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
  /** Paths served straight from node:http, without express (the OpenID Connect front door). */
  direct?: readonly DirectRoute[];
  /** The config version engines on the store agreed on, for /readyz (config/published-version.ts). */
  published?: () => PublishedStatus | null;
}

const API = '/api/authentication';

export interface DirectRoute {
  /** A path prefix such as `/oidc`: that path and everything below it. */
  readonly prefix: string;
  handle(req: IncomingMessage, res: ServerResponse, requestId: string): void;
}


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
  const direct = options.direct ?? [];
  const refuseEdge = (req: IncomingMessage, res: ServerResponse, err: AuthpipeError) => {
    const requestId = requestIdOf(req);
    baseHeaders(res, requestId);
    logger.info({ requestId, method: req.method, code: err.code, detail: err.detail }, 'request refused before routing');
    sendJson(res, 403, failureBody(err, requestId), { connection: 'close' });
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    const edge = checkRequestEdges(req);
    if (edge) return refuseEdge(req, res, edge);
    const url = req.url ?? '';
    if (url.startsWith(API) && (url.length === API.length || url[API.length] === '/' || url[API.length] === '?')) {
      // The contract has no query parameters: one sent means the caller expects something we do not do.
      if (url.includes('?')) return refuseEdge(req, res, refuse('INVALID_REQUEST', { detail: 'the authentication API takes no query string' }));
      const requestId = requestIdOf(req);
      baseHeaders(res, requestId);
      authenticate(req, res, requestId, url.slice(API.length)).catch((err: unknown) => {
        logger.error({ requestId, err }, 'unhandled error in the authentication handler');
        if (!res.headersSent) sendJson(res, 500, { status: 'Failure', errorTranslationKeys: ['INTERNAL_ERROR'], requestId });
      });
      return;
    }
    for (const route of direct) {
      if (url.startsWith(route.prefix) && (url.length === route.prefix.length || url[route.prefix.length] === '/' || url[route.prefix.length] === '?')) {
        const requestId = requestIdOf(req);
        baseHeaders(res, requestId);
        route.handle(req, res, requestId);
        return;
      }
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
    const detailed = clientAllowed(req, config, options.listenerId, 'readyz', config.main.readyz?.clients ?? DEFAULT_READYZ_CLIENTS);
    try {
      await within(config.services.store.ping(), READY_PING_MS);
      sendJson(res, 200, { status: 'ready', ...reloadStatus(holder, detailed, options.published?.()) });
    } catch {
      sendJson(res, 503, { status: 'unavailable', ...reloadStatus(holder, detailed, options.published?.()), store: 'down' });
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
 * (null when the files on disk are what is serving), and the version published on the store
 * with whether this engine serves it. The reload issues name files, pointers and env
 * variable names, so only `readyz.clients` see them; capped so a broken file cannot bloat it.
 */
function reloadStatus(holder: ConfigHolder, detailed: boolean, published: PublishedStatus | null | undefined) {
  const failure = holder.lastError;
  return {
    version: holder.current.version,
    loadedAt: holder.loadedAt,
    lastReloadError: failure && { at: failure.at, count: failure.issues.length, ...(detailed ? { issues: failure.issues.slice(0, 10) } : {}) },
    // The version other engines on the store serve, and whether this one does too (its files may differ).
    ...(published ? { published } : {}),
  };
}
