/**
 * Builds the token service from the main file's `tokens` section on every load, so that
 * `authpipe keys rotate` followed by a reload (SIGHUP) publishes the new key without a
 * restart (it signs from its activate_at), and removing a key file unpublishes it. The keys are imported once
 * per load; a load that fails keeps the previous keys serving.
 */
import { resolve } from 'node:path';
import { defineFeature, type FeatureContext } from '../config/feature.js';
import type { ConfigOf } from '../engine/valve.js';
import { ephemeralKeySet, loadKeySet } from './key-store.js';
import { TokenService } from './service.js';
import { oidcIssuers } from '../oidc/issuer.js';

export const tokensSchema = {
  description: 'Token signing and verification (token-mint, token-verify, token-refresh, token-revoke, /.well-known/jwks.json).',
  type: 'object',
  additionalProperties: false,
  required: ['issuer', 'audience'],
  properties: {
    keys_dir: {
      type: 'string',
      minLength: 1,
      default: '../var/keys',
      description:
        'Folder of private JWK files (mode 0600), relative to this file. Empty: a key is generated at first start. The newest active key signs; all are published.',
    },
    issuer: { type: 'string', minLength: 1, description: 'The iss claim of every token, e.g. https://auth.example.com.' },
    audience: { type: 'string', minLength: 1, description: 'The aud claim of access tokens unless a valve sets its own.' },
    algorithm: {
      enum: ['ES256', 'EdDSA', 'RS256', 'PS256'],
      default: 'ES256',
      description: 'Algorithm of generated keys. Each key file names its own alg.',
    },
    clock_tolerance: {
      type: 'integer',
      minimum: 0,
      maximum: 300,
      default: 5,
      description: 'Seconds of clock skew forgiven on exp, nbf and iat.',
    },
    activation_delay_seconds: {
      type: 'integer',
      minimum: 0,
      maximum: 2592000,
      default: 600,
      description:
        'How long a key written by `authpipe keys rotate` is only published before it signs (at least the JWKS max-age of 300 s, so relying parties with a cached JWKS know it first). `authpipe keys activate <kid>` ends the wait.',
    },
  },
} as const;

type TokensConfig = ConfigOf<typeof tokensSchema>;

declare module '../config/main-schema.js' {
  interface FeatureSections {
    tokens?: TokensConfig;
  }
}
declare module '../engine/services.js' {
  interface FeatureServices {
    /** Signing keys and token verification; absent when the main file has no `tokens` section. */
    readonly tokens?: TokenService;
  }
}

export const tokensFeature = defineFeature({
  name: 'tokens',
  sections: { tokens: tokensSchema },
  service: 'tokens',
  build: buildTokenService,
});

function buildTokenService(ctx: FeatureContext): TokenService | undefined {
  const config = ctx.main.tokens;
  if (!config) return undefined;
  const dir = resolve(ctx.dir, config.keys_dir);
  const algorithm = config.algorithm;
  const now = Date.now();
  const loaded = loadKeySet(
    { dir, algorithm, onEmpty: ctx.readOnly ? 'memory' : 'write', now, configFile: ctx.file, pointer: '/tokens/keys_dir' },
    ctx.issues,
  );
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
    clockTolerance: config.clock_tolerance,
  });
}
