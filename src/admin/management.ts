/**
 * The management listener's request handler: readiness, metrics, the admin API, the
 * console, and PUT /api/authentication for calls that ask for a debug trace. Operators and
 * their tools use this listener; the public one serves only what callers need, so a
 * firewall in front of this port keeps every operational surface off the internet.
 *
 * It answers only for its own names (management-hosts.ts): any other Host is refused before
 * routing, so a page that rebinds its DNS name to this address reads nothing.
 *
 * A call on this listener runs on the public listener that serves its tenant (the same
 * limits and trusted proxies), with the trace switch honoured; the public listeners never
 * trace.
 */
import type { RequestListener } from 'node:http';
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { ConfigHolder } from '../config/holder.js';
import type { PublishedStatus } from '../config/published-version.js';
import { authenticationHandler, type CallObservers } from '../http/authentication.js';
import { createRequestListener, type AuthenticateCall } from '../http/app.js';
import { MANAGEMENT_LISTENER } from '../http/client-access.js';
import { mountReadyz } from '../http/readyz.js';
import { refuseHost, type ManagementHosts } from './management-hosts.js';
import { headerValues } from '../engine/headers.js';

export interface ManagementOptions {
  holder: ConfigHolder;
  logger: Logger;
  /** Observers of traced calls: the public ones plus the trace switch. */
  observers: CallObservers;
  /** Routes of the features served here (metrics, admin API, console). */
  mount: (app: Express) => void;
  /** The names it answers for. */
  hosts: ManagementHosts;
  /** The config version engines on the store agreed on, for /readyz (config/published-version.ts). */
  published?: () => PublishedStatus | null;
}

export function createManagementListener(options: ManagementOptions): RequestListener {
  const { holder, logger, observers } = options;
  const handlers = new Map<string, AuthenticateCall>();
  const handlerOf = (listenerId: string): AuthenticateCall => {
    let handler = handlers.get(listenerId);
    if (!handler) handlers.set(listenerId, (handler = authenticationHandler(holder, listenerId, logger, observers)));
    return handler;
  };
  const authenticate: AuthenticateCall = (req, res, requestId, path) => {
    const listeners = holder.current.listeners;
    const named = headerValues(req.rawHeaders, 'tenant');
    // An unknown or doubled tenant goes to the first listener, which refuses it as UNKNOWN_TENANT.
    const listener = (named?.length === 1 && listeners.find((l) => l.tenants.has(named[0] as string))) || listeners[0];
    return handlerOf(listener?.http.id as string)(req, res, requestId, path);
  };
  const serve = createRequestListener({
    holder,
    listenerId: MANAGEMENT_LISTENER,
    logger,
    authenticate,
    mount(app) {
      mountReadyz(app, holder, MANAGEMENT_LISTENER, options.published);
      options.mount(app);
    },
  });
  return (req, res) => (options.hosts.originOf(req) === null ? refuseHost(req, res, logger) : serve(req, res));
}
