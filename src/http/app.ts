import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { ConfigHolder } from '../config/holder.js';
import { authenticationHandler, type CallObservers } from './authentication.js';
import { requestIdOf } from './request-id.js';
import { checkRequestEdges } from './request-edges.js';
import { failureBody, type AuthpipeError } from '../errors.js';
import { baseHeaders, sendJson } from './respond.js';

/**
 * The HTTP entry of one listener. `/api/authentication…` goes straight from node:http to
 * the authentication handler: express 5 alone costs about 3.5x the throughput of the hot
 * path (measured: 4.0k vs 14.3k req/s for a trivial JSON echo on this machine). Everything
 * else (health, and what features mount: JWKS on the public listeners; readiness, metrics,
 * admin and the console on the management listener) is an express app. Every answer,
 * whatever its path, carries x-request-id and Cache-Control: no-store.
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
  /** Serves /api/authentication instead of the listener's own handler (the management listener picks one per tenant). */
  authenticate?: AuthenticateCall;
}

/**
 * `path` is what follows /api/authentication in the request target, e.g. `/echo`. The call
 * answers with the base headers itself (answerJson), and answers whatever happens: nothing
 * it meets is thrown out of it.
 */
export type AuthenticateCall = (req: IncomingMessage, res: ServerResponse, requestId: string, path: string) => void;

const API = '/api/authentication';

interface DirectRoute {
  /** A path prefix such as `/oidc`: that path and everything below it. */
  readonly prefix: string;
  handle(req: IncomingMessage, res: ServerResponse, requestId: string): void;
}

export function createRequestListener(options: HttpAppOptions): RequestListener {
  const { holder, listenerId, logger } = options;
  const authenticate = options.authenticate ?? authenticationHandler(holder, listenerId, logger, options.observers);
  const rest = createExpressApp(options);
  const direct = options.direct ?? [];
  const refuseEdge = (req: IncomingMessage, res: ServerResponse, err: AuthpipeError) => {
    const requestId = requestIdOf(req);
    baseHeaders(res, requestId);
    // A call line like any refused call's, so every request to the API has exactly one.
    logger.info({ requestId, method: req.method, outcome: 'refused', code: err.code, detail: err.detail, ms: 0 }, 'call');
    sendJson(res, 403, failureBody(err, requestId), { connection: 'close' });
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    const edge = checkRequestEdges(req);
    if (edge) return refuseEdge(req, res, edge);
    const url = req.url ?? '';
    if (url.startsWith(API) && (url.length === API.length || url[API.length] === '/' || url[API.length] === '?')) {
      // The handler writes the base headers with its answer (answerJson), in one go.
      authenticate(req, res, requestIdOf(req), url.slice(API.length));
      return;
    }
    for (const route of direct) {
      if (
        url.startsWith(route.prefix) &&
        (url.length === route.prefix.length || url[route.prefix.length] === '/' || url[route.prefix.length] === '?')
      ) {
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
  const { logger } = options;
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
  options.mount?.(app);

  app.use((_req: Request, res: Response) => sendJson(res, 404, { status: 'NotFound' }));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    logger.error({ requestId: res.locals.requestId, err, path: req.path }, 'unhandled error');
    if (!res.headersSent)
      sendJson(res, 500, { status: 'Failure', errorTranslationKeys: ['INTERNAL_ERROR'], requestId: res.locals.requestId });
  });
  return app;
}
