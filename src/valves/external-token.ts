/**
 * external-token: accepts a JWT from an outside issuer the operator configured in
 * `external_issuers` of the main file (an upstream OpenID provider's ID token): the issuer is
 * picked by the token's iss among those the valve names, and must list the calling tenant;
 * then jose checks signature (the issuer's JWKS, or its shared secret for HS*), algorithms,
 * audience, expiry, max age and required claims (src/tokens/external.ts). With `replay`, a
 * token is accepted once until it expires (by jti, or a digest of its claims). Mapped claims become item properties, so the
 * pipe can go on to mint our token. Every bad token is 403 TOKEN_INVALID; keys that cannot be
 * fetched in time are 500 COMMUNICATION_ERROR.
 */
import { createHash } from 'node:crypto';
import { refuse } from '../errors.js';
import { pointer } from '../config-kit/issues.js';
import { defineValve } from '../engine/valve.js';
import { itemSets } from '../engine/dataflow.js';
import { OutboundPolicy } from '../outbound/policy.js';
import { unverifiedIssuer, type ExternalIssuer } from '../tokens/external.js';
import { findToken } from '../tokens/source.js';

const DEFAULT_CLAIMS = { sub: 'sub', email: 'email', email_verified: 'email_verified', name: 'name' } as const;

export default defineValve({
  name: 'external-token',
  summary: 'Verify a JWT from a configured outside issuer (external_issuers) and put its mapped claims on the current item.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['issuers'],
    properties: {
      issuers: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
        description:
          'Ids of external_issuers (main file) whose tokens this valve accepts; the token iss picks one, which must list the calling tenant.',
      },
      property: {
        type: 'string',
        minLength: 1,
        default: 'id_token',
        description: 'The request property holding the token.',
      },
      claims: {
        type: 'object',
        propertyNames: { pattern: '^[A-Za-z0-9_.-]{1,100}$' },
        additionalProperties: { type: 'string', minLength: 1 },
        default: DEFAULT_CLAIMS,
        description:
          'Item property -> claim of the token. A claim the token lacks sets nothing (but the one mapped from sub, always there). Numbers and booleans become text, string lists space-separated.',
      },
      replay: {
        type: 'boolean',
        default: false,
        description:
          'Accept each token once, until it expires: by its jti, or by a digest of its claims when it has none (an ID token). Kept in the store.',
      },
    },
  },
  create(config, tools) {
    const all = tools.services.externalIssuers ?? new Map<string, ExternalIssuer>();
    const issuers = config.issuers.map((id, i) => {
      const issuer = all.get(id);
      if (!issuer)
        return tools.fail(pointer('issuers', i), `"${id}" is not an issuer of external_issuers in the main file`, 'CONFIG_REFERENCE');
      return issuer;
    });
    const policy = tools.services.outbound ?? new OutboundPolicy([], []);
    const claims = Object.entries(config.claims);
    const replay = config.replay;
    return async (ctx) => {
      const { token, property } = findToken(ctx, config.property);
      const invalid = (detail: string) => refuse('TOKEN_INVALID', { erroneousProperties: [property], detail: `external token: ${detail}` });
      // The unverified iss only picks which issuer verifies; that issuer then checks it again.
      const iss = unverifiedIssuer(token);
      if (iss === undefined) throw invalid('not a JWT with an iss');
      const named = issuers.filter((i) => i.settings.issuer === iss);
      if (named.length === 0) throw invalid(`iss ${iss} is not an issuer this valve accepts`);
      const issuer = named.find((i) => i.settings.tenants.has(ctx.tenant.id));
      if (!issuer) throw invalid(`iss ${iss} is not configured for tenant ${ctx.tenant.id}`);
      const now = ctx.clock.now();
      const verified = await issuer.verify(token, now, property, policy);
      if (replay) {
        const exp = typeof verified.exp === 'number' ? verified.exp * 1000 : now + (issuer.settings.maxAge ?? 3600) * 1000;
        const ttl = Math.max(1000, exp + issuer.settings.clockTolerance * 1000 - now);
        const key = `external-seen:${issuer.settings.id}:${onceKey(token, verified.jti)}`;
        if (!(await ctx.store.compareAndSet(key, null, '1', ttl))) throw invalid('replayed (accepted once before)');
      }
      const props = ctx.item().props;
      for (const [name, claim] of claims) {
        const value = verified[claim];
        if (value !== undefined && value !== null) props[name] = claimText(value);
      }
    };
  },
  dataflow: (config) => ({
    // The property mapped from sub is always set (a verified token has one); the others only when the token has the claim.
    sets: itemSets(
      '',
      Object.entries(config.claims).map(([name, claim]) => (claim === 'sub' ? name : { name, maybe: true })),
    ),
  }),
});

/**
 * What makes a token the same token: its jti, or else the digest of its payload as decoded
 * (the signature covers it, so no other spelling of the token has another digest).
 */
function onceKey(token: string, jti: unknown): string {
  if (typeof jti === 'string' && jti !== '') return `jti:${jti}`;
  const payload = Buffer.from(token.split('.')[1] as string, 'base64url');
  return `claims:${createHash('sha256').update(payload).digest('base64url')}`;
}

/** Item properties are strings: numbers and booleans as text, string lists space-separated. */
function claimText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(' ');
  return JSON.stringify(value);
}
