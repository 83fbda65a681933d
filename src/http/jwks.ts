import type { Express, Request, Response } from 'express';
import type { ConfigHolder } from '../config/holder.js';
import { sendJson } from './respond.js';
import { JWKS_MAX_AGE_SECONDS } from '../tokens/key-store.js';

/**
 * GET /.well-known/jwks.json: the public signing keys of the active config, serialised once
 * per load. Unlike every other answer it may be cached (keys are public, and relying parties
 * fetch them on every cold start), but only briefly, so that a rotated key is picked up
 * within minutes; jose's createRemoteJWKSet also refetches on an unknown kid.
 */
const JWKS_PATH = '/.well-known/jwks.json';

export function mountJwks(app: Express, holder: ConfigHolder): void {
  app.get(JWKS_PATH, (_req: Request, res: Response) => {
    const tokens = holder.current.services.tokens;
    if (!tokens) {
      sendJson(res, 404, { status: 'NotFound' });
      return;
    }
    const body = tokens.jwks;
    // Replaces the no-store every answer starts with (http/app.ts).
    res.setHeader('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.statusCode = 200;
    res.end(body);
  });
}
