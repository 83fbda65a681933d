/**
 * Builds the token service from the main file's `tokens` section on every load, so that
 * `authpipe keys rotate` followed by a reload (SIGHUP) publishes the new key without a
 * restart (it signs from its activate_at), and removing a key file unpublishes it. The keys are imported once
 * per load; a load that fails keeps the previous keys serving.
 */
import { resolve } from 'node:path';
import { defineFeature, type FeatureContext } from '../config/feature.js';
import type { ConfigOf } from '../engine/valve.js';
import { ephemeralKeySet, type KeySet } from './key-store.js';
import { requiredAlgorithms } from './algorithms.js';
import { loadTenantKeys } from './tenant-keys.js';
import { TENANT_PATTERN } from '../config-kit/patterns.js';
import { pointer } from '../config-kit/issues.js';
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
        "Folder of the signing keys (private JWK files, mode 0600), relative to this file: each tenant's own in `<keys_dir>/<tenant>/`, an ES256 and an RS256 key (and one of `algorithm`) generated at first start. Files directly in the folder are the shared keys of an older install: published and accepted by every tenant until removed. The newest active key of each algorithm signs; all are published.",
    },
    issuer: { type: 'string', minLength: 1, description: 'The iss claim of every token, e.g. https://auth.example.com.' },
    audience: {
      type: 'string',
      minLength: 1,
      description: 'The aud claim of access tokens of tenants not named in `audiences`, unless a valve sets its own.',
    },
    audiences: {
      type: 'object',
      propertyNames: { pattern: TENANT_PATTERN },
      additionalProperties: { type: 'string', minLength: 1 },
      default: {},
      description:
        "Per-tenant aud of access tokens (tenant id: audience), PUT-minted and front-door ones alike, so that a resource server of one tenant refuses another tenant's tokens by their audience too. A tenant not named uses `audience`.",
    },
    algorithm: {
      enum: ['ES256', 'EdDSA', 'RS256', 'PS256'],
      default: 'ES256',
      description:
        'Algorithm of the tokens authpipe signs itself (PUT-minted tokens, and front-door access tokens of clients that choose none). RS256 and ES256 keys are always generated besides. Each key file names its own alg.',
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
  const algorithms = requiredAlgorithms(config.algorithm);
  const tenants = [...new Set(ctx.main.modules.flatMap((m) => m.config.tenant.map((t) => t.id)))];
  for (const tenant of Object.keys(config.audiences))
    if (!tenants.includes(tenant))
      ctx.issues.push({
        code: 'CONFIG_REFERENCE',
        file: ctx.file,
        pointer: pointer('tokens', 'audiences', tenant),
        message: `tenant "${tenant}" is not declared in modules[].config.tenant`,
      });
  const now = Date.now();
  const loaded = loadTenantKeys(
    {
      dir,
      tenants,
      algorithms,
      onEmpty: ctx.readOnly ? 'memory' : 'write',
      now,
      activationDelayMs: config.activation_delay_seconds * 1000,
      configFile: ctx.file,
      pointer: '/tokens/keys_dir',
    },
    ctx.issues,
  );
  // The load has failed with the key issues already; stand-in keys let the token valves
  // compile and report their own problems instead of a cascade of "no tokens section".
  const keys: Map<string, KeySet> = loaded ?? new Map(tenants.map((t) => [t, ephemeralKeySet(algorithms, now)]));
  // The version changes when keys come or go; key material itself is never hashed.
  for (const [tenant, set] of keys)
    ctx.hash(`${tenant}: ${set.keys.map((k) => k.kid).join(',')} signs ${[...set.signers.values()].map((k) => k.kid).join(',')}`);
  // The folders, not the files: a reload should also notice a key added by `keys rotate`.
  ctx.watch(dir);
  for (const tenant of tenants) ctx.watch(resolve(dir, tenant));
  return new TokenService(keys, {
    issuer: config.issuer,
    issuers: oidcIssuers(ctx.main, ctx.env),
    audience: config.audience,
    audiences: new Map(Object.entries(config.audiences)),
    clockTolerance: config.clock_tolerance,
  });
}
