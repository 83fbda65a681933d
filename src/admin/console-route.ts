/**
 * The console's files on the management listener: /console (and any path below it, so the
 * browser's history works) answers index.html, /console/assets/* the bundle esbuild built
 * into dist/console at `npm run build`. Nothing loads from elsewhere. The page may not be
 * framed and runs under a CSP without 'unsafe-inline': scripts and styles come from this
 * origin only, plus the <style> elements the editor creates, allowed by a nonce made per
 * answer and handed to the page in a meta tag.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Express, Request, Response } from 'express';
import type { ConfigHolder } from '../config/holder.js';
import { sendJson } from '../http/respond.js';
import { CONSOLE_CALLBACK } from '../oidc/console-client.js';
import { oidcIssuers } from '../oidc/issuer.js';
import type { ManagementHosts } from './management-hosts.js';

/** dist/console, from src/admin (tests) or dist/admin (built). */
const ASSETS = new URL('../../dist/console/', import.meta.url);
const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
};
const ASSET_NAME = /^[a-z0-9-]+\.(js|css|map)$/;

function csp(nonce: string, connect: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    `connect-src 'self' ${connect}`.trim(),
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

function read(name: string): Buffer | null {
  try {
    return readFileSync(new URL(name, ASSETS));
  } catch {
    return null;
  }
}

function securityHeaders(res: Response): void {
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
}

/**
 * What the page needs before sign-in: the tenants to choose from, and the hosted login of
 * each tenant whose directory has the console's client (a userapp), with the redirect URI at
 * the listener's name the browser used (management-hosts.ts: a Host that is not one of its
 * names never gets this far). The provider lets the console's client come back to each name.
 */
function settingsOf(holder: ConfigHolder, env: Env, origin: string | null): Record<string, unknown> {
  const config = holder.current;
  const tenants = config.listeners.flatMap((l) => [...l.tenants.keys()]);
  const clientId = config.main.management.console_client;
  const issuers: Record<string, string> = {};
  for (const [tenant, issuer] of oidcIssuers(config.main, env)) {
    if (config.services.directory.client(tenant, clientId)) issuers[tenant] = issuer;
  }
  if (Object.keys(issuers).length === 0 || !origin) return { tenants };
  return { tenants, oidc: { clientId, issuers, redirectUri: `${origin}${CONSOLE_CALLBACK}` } };
}

type Env = Readonly<Record<string, string | undefined>>;

/** Where the page may connect besides itself: the tenants' issuers, for the token exchange. */
function connectSources(holder: ConfigHolder, env: Env): string {
  const origins = new Set<string>();
  for (const issuer of oidcIssuers(holder.current.main, env).values()) origins.add(new URL(issuer).origin);
  return [...origins].join(' ');
}

export function mountConsole(app: Express, holder: ConfigHolder, env: Env, hosts: ManagementHosts): void {
  app.get('/console/settings.json', (req: Request, res: Response) => sendJson(res, 200, settingsOf(holder, env, hosts.originOf(req))));
  app.get('/console/assets/:file', (req: Request, res: Response) => {
    const name = String(req.params.file);
    const body = ASSET_NAME.test(name) ? read(name) : null;
    if (!body) return sendJson(res, 404, { status: 'NotFound' });
    securityHeaders(res);
    res.setHeader('content-type', TYPES[name.split('.').pop() as string] as string);
    res.setHeader('content-length', body.length);
    res.end(body);
  });
  app.get(/^\/console(\/.*)?$/, (_req: Request, res: Response) => {
    const page = read('index.html');
    if (!page) return sendJson(res, 503, { status: 'Unavailable', message: 'the console is not built: run npm run build' });
    const nonce = randomBytes(16).toString('base64');
    const html = page.toString('utf8').replace('__CSP_NONCE__', nonce);
    securityHeaders(res);
    res.setHeader('content-security-policy', csp(nonce, connectSources(holder, env)));
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(html));
    res.end(html);
  });
}
