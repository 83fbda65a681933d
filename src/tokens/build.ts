/**
 * Builds the token service from the main file's `tokens` section on every load, so that
 * `authpipe keys rotate` followed by a reload (SIGHUP) signs with the new key and publishes
 * it without a restart, and removing a key file unpublishes it. The keys are imported once
 * per load; a load that fails keeps the previous keys serving.
 */
import { resolve } from 'node:path';
import type { ConfigServiceContext } from '../config/services.js';
import { DEFAULT_ALGORITHM } from './algorithms.js';
import { ephemeralKeySet, loadKeySet } from './key-store.js';
import { TokenService } from './service.js';
import { oidcIssuers } from '../oidc/issuer.js';

export const DEFAULT_KEYS_DIR = '../var/keys';
export const DEFAULT_CLOCK_TOLERANCE = 5;
/** Seconds a rotated key is only published: twice the JWKS max-age (http/jwks.ts). */
export const DEFAULT_ACTIVATION_DELAY = 600;

export function buildTokenService(ctx: ConfigServiceContext): TokenService | undefined {
  const config = ctx.main.tokens;
  if (!config) return undefined;
  const dir = resolve(ctx.dir, config.keys_dir ?? DEFAULT_KEYS_DIR);
  const algorithm = config.algorithm ?? DEFAULT_ALGORITHM;
  const now = Date.now();
  const loaded = loadKeySet({ dir, algorithm, onEmpty: ctx.readOnly ? 'memory' : 'write', now, configFile: ctx.file, pointer: '/tokens/keys_dir' }, ctx.issues);
  // The load has failed with the key issues already; a stand-in key lets the token valves
  // compile and report their own problems instead of a cascade of "no tokens section".
  const keys = loaded ?? ephemeralKeySet(algorithm, now);
  // The version changes when keys come or go; key material itself is never hashed.
  ctx.hash(`${keys.keys.map((k) => k.kid).join(',')} signs ${keys.signing.kid}`);
  // The folder, not the files: a reload should also notice a key added by `keys rotate`.
  ctx.watch(dir);
  return new TokenService(keys, {
    issuer: config.issuer,
    issuers: oidcIssuers(ctx.main, ctx.env),
    audience: config.audience,
    clockTolerance: config.clock_tolerance ?? DEFAULT_CLOCK_TOLERANCE,
  });
}
