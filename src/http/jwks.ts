import type { Express, Request, Response } from 'express';
import type { ConfigHolder } from '../config/holder.js';
import { sendJson } from './respond.js';
import { JWKS_MAX_AGE_SECONDS } from '../tokens/key-store.js';

/**
 * GET /.well-known/jwks.json: the public signing keys of every tenant of the active config, and
 * GET /.well-known/jwks/<tenant>.json: one tenant's only (as `<issuer>/jwks` at the front door),
 * the one a resource server of that tenant should use, since it holds no other tenant's key.
 * Both are serialised once per load. Unlike every other answer they may be cached (keys are
 * public, and relying parties fetch them on every cold start), but only briefly, so that a
 * rotated key is picked up within minutes; jose's createRemoteJWKSet also refetches on an unknown kid.
 */
const JWKS_PATH = '/.well-known/jwks.json';
const TENANT_JWKS_PATH = /^\/\.well-known\/jwks\/([^/]+)\.json$/;

export function mountJwks(app: Express, holder: ConfigHolder): void {
  const answer = (res: Response, body: string | undefined) => {
    if (body === undefined) {
      sendJson(res, 404, { status: 'NotFound' });
      return;
    }
    // Replaces the no-store every answer starts with (http/app.ts).
    res.setHeader('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.statusCode = 200;
    res.end(body);
  };
  app.get(JWKS_PATH, (_req: Request, res: Response) => answer(res, holder.current.services.tokens?.jwks));
  app.get(TENANT_JWKS_PATH, (req: Request, res: Response) => {
    const tenant = TENANT_JWKS_PATH.exec(req.path)?.[1] ?? '';
    answer(res, holder.current.services.tokens?.keysOf(tenant)?.jwks);
  });
}
