/**
 * The `external_issuers` section of the main file: issuers whose JWTs the `external-token`
 * valve accepts (src/tokens/external.ts), by id, each for the tenants it lists. The main file
 * is the operator's, so a tenant admin editing pipes can name an issuer but never add one,
 * nor point one at a host the operator did not allow (`outbound.allow`, checked once every
 * service is built).
 */
import { defineFeature, type FeatureContext } from '../config/feature.js';
import { pointer } from '../config-kit/issues.js';
import type { ConfigOf } from '../engine/valve.js';
import { EXTERNAL_ALGORITHMS, ExternalIssuer } from './external.js';

const issuerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['issuer', 'audiences', 'tenants'],
  properties: {
    issuer: {
      type: 'string',
      pattern: '^https?://',
      description:
        'The exact iss of its tokens; without jwks_uri, its keys are found by OpenID discovery at <issuer>/.well-known/openid-configuration.',
    },
    jwks_uri: {
      type: 'string',
      pattern: '^https?://',
      description: 'The URL of its JWK set; absent: found by discovery. Its host and port must be on outbound.allow.',
    },
    audiences: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', minLength: 1 },
      description: 'A token is accepted when its aud holds one of these (for an ID token: our client id at that issuer).',
    },
    algorithms: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { enum: EXTERNAL_ALGORITHMS },
      default: ['RS256', 'ES256'],
      description: 'Accepted signature algorithms (never none). HS256/384/512 only with shared_secret.',
    },
    shared_secret: {
      type: 'string',
      minLength: 32,
      description: 'The HMAC key of HS* tokens, as a ${env:NAME} or ${file:path} reference (never inline).',
    },
    tenants: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', minLength: 1 },
      description: "Tenants whose pipes may accept this issuer's tokens; a call of another tenant refuses them (TOKEN_INVALID).",
    },
    clock_tolerance: {
      type: 'integer',
      minimum: 0,
      maximum: 300,
      default: 30,
      description: 'Seconds of clock skew forgiven on exp, nbf and iat.',
    },
    max_age_seconds: {
      type: 'integer',
      minimum: 1,
      maximum: 31536000,
      description: 'Refuse a token issued (iat) longer ago than this, whatever its exp; absent: exp alone decides.',
    },
    required_claims: {
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', minLength: 1 },
      default: ['iss', 'sub', 'aud', 'exp', 'iat'],
      description: 'Claims a token must carry.',
    },
    jwks_ttl_seconds: {
      type: 'integer',
      minimum: 30,
      maximum: 86400,
      default: 600,
      description: 'How long a fetched JWK set (and its discovery) is kept. A kid it lacks refetches it, at most once a minute.',
    },
    timeout_ms: {
      type: 'integer',
      minimum: 50,
      maximum: 60000,
      default: 3000,
      description: 'Bound on fetching the keys (discovery and JWKS together); past it the call fails with COMMUNICATION_ERROR.',
    },
    max_response_bytes: {
      type: 'integer',
      minimum: 1024,
      maximum: 1048576,
      default: 65536,
      description: 'A longer discovery or JWKS answer fails the call with COMMUNICATION_ERROR.',
    },
  },
} as const;

const externalIssuersSchema = {
  type: 'object',
  default: {},
  description: 'Issuers of outside JWTs (an upstream ID token, a partner token) that the external-token valve accepts, by id.',
  propertyNames: { pattern: '^[A-Za-z0-9_-]{1,64}$' },
  additionalProperties: issuerSchema,
} as const;

type IssuerConfig = ConfigOf<typeof issuerSchema>;

declare module '../config/main-schema.js' {
  interface FeatureSections {
    external_issuers?: Record<string, IssuerConfig>;
  }
}
declare module '../engine/services.js' {
  interface FeatureServices {
    /** The configured outside issuers by id (empty when none). */
    readonly externalIssuers?: ReadonlyMap<string, ExternalIssuer>;
  }
}

const DISCOVERY_PATH = '/.well-known/openid-configuration';

export const externalIssuersFeature = defineFeature({
  name: 'external_issuers',
  sections: { external_issuers: externalIssuersSchema },
  service: 'externalIssuers',
  build: buildIssuers,
  checkCompiled(ctx) {
    const policy = ctx.services.outbound;
    for (const [id, issuer] of ctx.services.externalIssuers ?? []) {
      const { jwksUri, discovery } = issuer.settings;
      const target = jwksUri ?? discovery;
      if (target === undefined) continue;
      const refused = policy ? policy.refusal(target) : 'no outbound policy';
      if (refused !== undefined)
        ctx.issues.push({
          code: 'CONFIG_OUTBOUND',
          file: ctx.file,
          pointer: pointer('external_issuers', id, jwksUri ? 'jwks_uri' : 'issuer'),
          message: refused,
        });
    }
  },
  close(service) {
    for (const issuer of service.values()) issuer.close();
  },
});

function buildIssuers(ctx: FeatureContext): ReadonlyMap<string, ExternalIssuer> {
  const section = ctx.main.external_issuers ?? {};
  const tenants = new Set(ctx.main.modules.flatMap((m) => m.config.tenant.map((t) => t.id)));
  const issuers = new Map<string, ExternalIssuer>();
  for (const [id, config] of Object.entries(section)) {
    const issue = (at: string | number | (string | number)[], message: string, code: 'CONFIG_INVALID' | 'CONFIG_REFERENCE') =>
      ctx.issues.push({ code, file: ctx.file, pointer: pointer('external_issuers', id, ...(Array.isArray(at) ? at : [at])), message });
    config.tenants.forEach((tenant, i) => {
      if (!tenants.has(tenant)) issue(['tenants', i], `tenant "${tenant}" is not declared in modules[].config.tenant`, 'CONFIG_REFERENCE');
    });
    const algorithms = config.algorithms;
    const hmac = algorithms.some((a) => a.startsWith('HS'));
    const secret = config.shared_secret;
    if (hmac && secret === undefined) issue('algorithms', 'HS* algorithms need shared_secret', 'CONFIG_INVALID');
    if (!hmac && secret !== undefined)
      issue('shared_secret', 'shared_secret is used only by HS* algorithms; list one or remove it', 'CONFIG_INVALID');
    // A resolved reference is in the ledger, which redacts it; an inline secret is not.
    if (secret !== undefined && ctx.secrets.redact(secret) === secret)
      issue('shared_secret', 'must be a ${env:NAME} or ${file:path} reference, not written inline', 'CONFIG_INVALID');
    let jwksUri: URL | undefined;
    let discovery: URL | undefined;
    const asymmetric = algorithms.some((a) => !a.startsWith('HS'));
    try {
      if (config.jwks_uri !== undefined) jwksUri = new URL(config.jwks_uri);
      else if (asymmetric) discovery = new URL(config.issuer.replace(/\/$/, '') + DISCOVERY_PATH);
    } catch {
      issue(config.jwks_uri !== undefined ? 'jwks_uri' : 'issuer', 'is not a URL', 'CONFIG_INVALID');
    }
    issuers.set(
      id,
      new ExternalIssuer({
        id,
        issuer: config.issuer,
        jwksUri,
        discovery,
        audiences: config.audiences,
        algorithms,
        tenants: new Set(config.tenants),
        sharedSecret: secret === undefined ? undefined : new TextEncoder().encode(secret),
        clockTolerance: config.clock_tolerance,
        maxAge: config.max_age_seconds,
        requiredClaims: config.required_claims,
        jwksTtlMs: config.jwks_ttl_seconds * 1000,
        timeoutMs: config.timeout_ms,
        maxBytes: config.max_response_bytes,
      }),
    );
  }
  return issuers;
}
