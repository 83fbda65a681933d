/**
 * The admin API beside /admin/access-groups: tenants, pipes, the directory, locked
 * accounts, dry runs, audit, overview (route tables in the resource files). Every request
 * is authenticated first (an Admin-group bearer token of the tenant named in the `tenant`
 * header), then matched, so nobody learns which paths or methods exist without a token.
 * /admin/openapi.json describes all of it and is the one path open without a token.
 */
import type { Express, Request, Response } from 'express';
import type { Logger } from 'pino';
import { AdminError } from '../access-groups/admin/admin-error.js';
import { authenticateAdmin, type AdminSubject } from '../access-groups/admin/auth.js';
import { readBody } from '../access-groups/admin/body.js';
import type { ConfigHolder } from '../config/holder.js';
import type { Clock } from '../engine/clock.js';
import { MANAGEMENT_LISTENER } from '../http/client-access.js';
import { sendJson } from '../http/respond.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface AdminCall {
  readonly req: Request;
  readonly res: Response;
  readonly subject: AdminSubject;
  /** Path parameters, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The JSON body (undefined when empty); 400/413/415 as for access groups. */
  body(): Promise<unknown>;
  send(status: number, body: unknown, headers?: Record<string, string>): void;
}

export interface AdminRoute {
  readonly method: Method;
  /** An OpenAPI path template: /admin/pipes/{id}. */
  readonly path: string;
  handle(call: AdminCall): Promise<void>;
}

export interface RouterOptions {
  holder: ConfigHolder;
  logger: Logger;
  clock: Clock;
  routes: readonly AdminRoute[];
  /** Paths answered without a token (the OpenAPI document). */
  open: Readonly<Record<string, (req: Request, res: Response) => void>>;
}

/** The path parameters when `route` matches the decoded segments, else null. */
function paramsOf(route: AdminRoute, segments: readonly string[]): Record<string, string> | null {
  const parts = route.path.split('/').filter((s) => s !== '');
  if (parts.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of parts.entries()) {
    const segment = segments[i] as string;
    if (part.startsWith('{')) params[part.slice(1, -1)] = segment;
    else if (part !== segment) return null;
  }
  return params;
}

/** Queries take each known parameter at most once; anything else is a 400 naming it. */
export function queryOf(call: AdminCall, known: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const key of new Set(call.query.keys())) {
    if (!known.includes(key)) throw new AdminError('BAD_QUERY', `unknown query parameter "${key}"; expected ${known.join(', ') || 'none'}`, [key]);
    const values = call.query.getAll(key);
    if (values.length > 1) throw new AdminError('BAD_QUERY', `give ${key} at most once`, [key]);
    out[key] = values[0];
  }
  return out;
}

export function mountAdminRoutes(app: Express, options: RouterOptions): void {
  const { holder, logger, clock, routes } = options;
  for (const [path, handler] of Object.entries(options.open)) app.get(path, handler);
  app.use('/admin', (req: Request, res: Response) => {
    const requestId = res.locals.requestId as string;
    const send = (status: number, body: unknown, headers?: Record<string, string>) => sendJson(res, status, body, headers);
    void (async () => {
      try {
        const subject = await authenticateAdmin(req, holder.current, MANAGEMENT_LISTENER, clock.now());
        let segments: string[];
        try {
          segments = ['admin', ...req.path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s))];
        } catch {
          throw new AdminError('NOT_FOUND', 'no such admin path');
        }
        const matching = routes.map((route) => ({ route, params: paramsOf(route, segments) })).filter((m) => m.params !== null);
        if (matching.length === 0) throw new AdminError('NOT_FOUND', 'no such admin path');
        const chosen = matching.find((m) => m.route.method === req.method);
        const allowed = [...new Set(matching.map((m) => m.route.method))].join(', ');
        if (!chosen) throw new AdminError('METHOD_NOT_ALLOWED', `use ${allowed} here`, [], { allow: allowed });
        await chosen.route.handle({
          req,
          res,
          subject,
          params: chosen.params as Record<string, string>,
          query: new URL(req.originalUrl, 'http://admin').searchParams,
          body: () => readBody(req),
          send,
        });
      } catch (err) {
        if (err instanceof AdminError) {
          logger.info({ requestId, method: req.method, path: req.originalUrl.split('?')[0], status: err.status, reason: err.reason, detail: err.detail ?? err.message }, 'admin refused');
          if (!res.headersSent) send(err.status, err.body(requestId), err.headers as Record<string, string>);
          return;
        }
        logger.error({ requestId, err, path: req.originalUrl.split('?')[0] }, 'admin API fault');
        if (!res.headersSent) send(500, { status: 'Failure', errorTranslationKeys: ['INTERNAL_ERROR'], requestId });
      }
    })();
  });
}
