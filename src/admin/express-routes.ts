/**
 * What both admin routers share (the access groups, and the rest of /admin): an
 * express.Router that authenticates before it matches anything, so that without a token
 * every path and method answers alike and nobody learns which exist; per path, one handler
 * per method and a coded 405 naming the methods there; a coded 404 for any other path; and
 * one error handler that answers an AdminError with its code and anything else with a
 * logged 500.
 */
import { Router, type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { AdminError } from './admin-error.js';
import type { AdminSubject } from './auth.js';
import { sendJson } from '../http/respond.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A route handler, given the authenticated admin; an AdminError it throws becomes the coded answer. */
export type AdminHandler = (req: Request, res: Response, subject: AdminSubject) => Promise<void>;

/**
 * An express.Router mounted at `base` whose every request is authenticated first. Add paths
 * with `add`, then `mount`; `served` lists what it serves, in the OpenAPI document's form.
 */
export class AdminRouter {
  private readonly router: Router;
  /** "METHOD /admin/path/{id}" of every route, for the OpenAPI document's test. */
  readonly served: string[] = [];

  constructor(
    private readonly base: string,
    authenticate: (req: Request) => Promise<AdminSubject>,
  ) {
    // Case-sensitive as ids are; a trailing slash is the same path.
    this.router = Router({ caseSensitive: true, strict: false });
    this.router.use(async (req: Request, res: Response, next: NextFunction) => {
      res.locals.adminSubject = await authenticate(req);
      next();
    });
  }

  /** Serves `path` (express syntax, /:id) with one handler per method; any other method is a 405 naming them. */
  add(path: string, handlers: Partial<Record<Method, AdminHandler>>): void {
    const allow = Object.keys(handlers).join(', ');
    const refuse = (_req: Request, _res: Response, next: NextFunction) =>
      next(new AdminError('METHOD_NOT_ALLOWED', `use ${allow} here`, [], { allow }));
    const route = this.router.route(path);
    // Before the GET handler, which express would otherwise run for a HEAD.
    route.head(refuse);
    for (const [method, handle] of Object.entries(handlers)) {
      route[method.toLowerCase() as Lowercase<Method>]((req: Request, res: Response) =>
        handle(req, res, res.locals.adminSubject as AdminSubject),
      );
      this.served.push(`${method} ${`${this.base}${path}`.replace(/\/$/, '').replace(/:(\w+)/g, '{$1}')}`);
    }
    route.all(refuse);
  }

  /** Mounts the router: no other path exists below `base`, and every failure is answered here, never by express. */
  mount(app: Express, logger: Logger): void {
    this.router.use((_req: Request, _res: Response, next: NextFunction) => next(new AdminError('NOT_FOUND', 'no such admin path')));
    this.router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => answerError(err, req, res, logger));
    app.use(this.base, this.router);
  }
}

function answerError(err: unknown, req: Request, res: Response, logger: Logger): void {
  const requestId = res.locals.requestId as string;
  const path = req.originalUrl.split('?')[0];
  // A path parameter that is not valid percent-encoding names nothing that exists.
  const refusal = err instanceof URIError ? new AdminError('NOT_FOUND', 'no such admin path') : err;
  if (refusal instanceof AdminError) {
    logger.info(
      { requestId, method: req.method, path, status: refusal.status, reason: refusal.reason, detail: refusal.detail ?? refusal.message },
      'admin refused',
    );
    if (!res.headersSent) sendJson(res, refusal.status, refusal.body(requestId), refusal.headers as Record<string, string>);
    return;
  }
  logger.error({ requestId, err, path }, 'admin API fault');
  if (!res.headersSent) sendJson(res, 500, { status: 'Failure', errorTranslationKeys: ['INTERNAL_ERROR'], requestId });
}
