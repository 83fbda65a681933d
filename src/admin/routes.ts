/**
 * The admin API beside /admin/access-groups: tenants, pipes, the directory, locked
 * accounts, dry runs, audit, overview (each resource file lists its routes, which the
 * OpenAPI document describes), served by an express.Router (express-routes.ts). Every
 * request is authenticated first (an Admin-group bearer token of the tenant named in the
 * `tenant` header), then matched, so nobody learns which paths or methods exist without a
 * token.
 * /admin/openapi.json describes all of it and is the one path open without a token.
 */
import type { Express, Request, Response } from 'express';
import type { Logger } from 'pino';
import { AdminError } from './admin-error.js';
import { authenticateAdmin, type AdminSubject } from './auth.js';
import { AdminRouter, type AdminHandler, type Method } from './express-routes.js';
import { readBody } from './read-body.js';
import type { ConfigHolder } from '../config/holder.js';
import type { Clock } from '../engine/clock.js';
import { MANAGEMENT_LISTENER } from '../http/client-access.js';
import { sendJson } from '../http/respond.js';

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

/** Queries take each known parameter at most once; anything else is a 400 naming it. */
export function queryOf(call: AdminCall, known: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const key of new Set(call.query.keys())) {
    if (!known.includes(key))
      throw new AdminError('BAD_QUERY', `unknown query parameter "${key}"; expected ${known.join(', ') || 'none'}`, [key]);
    const values = call.query.getAll(key);
    if (values.length > 1) throw new AdminError('BAD_QUERY', `give ${key} at most once`, [key]);
    out[key] = values[0];
  }
  return out;
}

export function mountAdminRoutes(app: Express, options: RouterOptions): void {
  const { holder, logger, clock } = options;
  for (const [path, handler] of Object.entries(options.open)) app.get(path, handler);
  const router = new AdminRouter('/admin', (req) => authenticateAdmin(req, holder.current, MANAGEMENT_LISTENER, clock.now()));
  for (const [path, handlers] of byPath(options.routes)) router.add(path, handlers);
  router.mount(app, logger);
}

/**
 * The routes as express paths below /admin (/admin/pipes/{id} is /pipes/:id), each with its
 * handler per method. Paths with fewer parameters come first, so a literal segment is never
 * taken for a parameter of another path.
 */
function byPath(routes: readonly AdminRoute[]): Map<string, Partial<Record<Method, AdminHandler>>> {
  const paths = new Map<string, Partial<Record<Method, AdminHandler>>>();
  const params = (path: string) => (path.match(/\{/g) ?? []).length;
  for (const route of [...routes].sort((x, y) => params(x.path) - params(y.path))) {
    const path = route.path.replace(/^\/admin(?=\/|$)/, '').replace(/\{(\w+)\}/g, ':$1') || '/';
    const handlers = paths.get(path) ?? {};
    handlers[route.method] = (req, res, subject) =>
      route.handle({
        req,
        res,
        subject,
        params: req.params as Record<string, string>,
        query: new URL(req.originalUrl, 'http://admin').searchParams,
        body: () => readBody(req),
        send: (status, body, headers) => sendJson(res, status, body, headers),
      });
    paths.set(path, handlers);
  }
  return paths;
}
