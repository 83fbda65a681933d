/**
 * token-mint: signs an access token for the current item's subject and puts access_token,
 * token_type (Bearer) and expires_in on the item. Kind `system` (servers, tills: 10 min, no
 * refresh) or `user` (30 min, plus a rotating refresh_token whose family is recorded in the
 * store). Claims: iss, sub, aud, iat, exp, jti, tenant, scope, client_id, sid, amr (an array,
 * RFC 8176) and acr when configured, plus configured claims from templates, which may not reuse a registered name. Header: typ at+jwt, kid.
 */
import { fault } from '../errors.js';
import { pointer } from '../config-kit/issues.js';
import { callFields } from '../engine/audit.js';
import { defineValve, type CallContext } from '../engine/valve.js';
import { accessToken, mintUserTokens, REGISTERED_CLAIMS, type AccessGrant } from '../tokens/mint.js';
import { itemSets } from '../engine/dataflow.js';

const CLAIM_NAME = '^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$';

export default defineValve({
  name: 'token-mint',
  summary: 'Sign an access token (and for kind user a refresh token) for the current item.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['kind'],
    properties: {
      kind: { enum: ['system', 'user'], description: 'system: no refresh token; user: a rotating refresh token.' },
      ttl: {
        type: 'integer',
        minimum: 10,
        maximum: 86400,
        description: 'Access token lifetime in seconds (default 600 system, 1800 user).',
      },
      refresh_ttl: {
        type: 'integer',
        minimum: 60,
        maximum: 31536000,
        description: 'kind user: lifetime of each refresh token, seconds (default: the family lifetime).',
      },
      family_lifetime: {
        type: 'integer',
        minimum: 60,
        maximum: 31536000,
        description: 'kind user: absolute lifetime of a login, seconds (default 30 days).',
      },
      sub: { type: 'string', minLength: 1, default: '{{item.sub}}', description: 'Template of the subject.' },
      scope: { type: 'string', default: '{{item.scope}}', description: 'Template of the space-separated scope; empty: no scope claim.' },
      client_id: {
        type: 'string',
        default: '{{item.client_id}}',
        description: 'Template of the client_id claim (RFC 9068); when empty, kind system uses sub and kind user the tenant id.',
      },
      audience: {
        type: 'string',
        minLength: 1,
        description: "aud claim; default the calling tenant's audience (tokens.audiences, else tokens.audience of the main file).",
      },
      claims: {
        type: 'object',
        description: 'Extra claims from templates; an empty value leaves the claim out. Registered claim names are refused.',
        propertyNames: { pattern: CLAIM_NAME },
        additionalProperties: { type: 'string' },
        default: {},
      },
      amr: {
        type: 'array',
        uniqueItems: true,
        maxItems: 16,
        items: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$' },
        description: 'Authentication methods (RFC 8176, e.g. ["pwd", "otp"]): the `amr` claim, an array. The 200 body stays flat strings.',
      },
      acr: { type: 'string', minLength: 1, description: 'Template of the `acr` claim (authentication context class); empty: no claim.' },
    },
    // Defaults that depend on the kind (a user's token lives longer; only users have a family).
    allOf: [
      { if: { properties: { kind: { const: 'system' } } }, then: { properties: { ttl: { default: 600 } } } },
      {
        if: { properties: { kind: { const: 'user' } } },
        then: { properties: { ttl: { default: 1800 }, family_lifetime: { default: 30 * 24 * 3600 } } },
      },
    ],
  },
  create(config, tools) {
    const tokens = tools.services.tokens;
    if (!tokens)
      return tools.fail('', 'token-mint needs the "tokens" section in the main config file (issuer, audience, keys_dir)', 'CONFIG_MISSING');
    const user = config.kind === 'user';
    if (!user && config.refresh_ttl !== undefined) tools.fail('/refresh_ttl', 'only kind "user" has refresh tokens', 'CONFIG_INVALID');
    if (!user && config.family_lifetime !== undefined)
      tools.fail('/family_lifetime', 'only kind "user" has refresh tokens', 'CONFIG_INVALID');
    // The schema's kind branches default ttl for both kinds and family_lifetime for users.
    const lifetime = config.family_lifetime as number;
    const refreshTtl = config.refresh_ttl ?? lifetime;
    if (refreshTtl > lifetime)
      tools.fail('/refresh_ttl', `a refresh token cannot outlive its family (family_lifetime ${lifetime})`, 'CONFIG_INVALID');
    const ttl = config.ttl as number;
    const sub = tools.template(config.sub, '/sub');
    const scope = tools.template(config.scope, '/scope');
    const clientId = tools.template(config.client_id, '/client_id');
    const claims = Object.entries(config.claims).map(([name, source]) => {
      if (REGISTERED_CLAIMS.has(name))
        tools.fail(
          pointer('claims', name),
          `"${name}" is a registered claim the engine sets itself; choose another name`,
          'CONFIG_INVALID',
        );
      return [name, tools.template(source, pointer('claims', name))] as const;
    });
    const amr = config.amr === undefined || config.amr.length === 0 ? undefined : Object.freeze([...config.amr]);
    const acr = config.acr === undefined ? null : tools.template(config.acr, '/acr');

    const issued = (ctx: CallContext, subject: string): void => {
      ctx.services.metrics?.inc('tokens_issued', { tenant: ctx.tenant.id, kind: config.kind });
      ctx.services.audit?.event('token.issued', callFields(ctx, { subject, kind: config.kind }));
    };

    // Not an async function: a system token waits on its signature only.
    return (ctx) => {
      const scopeView = ctx.scope();
      const subject = sub.render(scopeView);
      // Minting without a subject means the pipe skipped its authentication: a bug, so a fault.
      if (subject === '') throw fault('INTERNAL_ERROR', { detail: 'token-mint: the subject rendered empty; set item.sub before minting' });
      const extra: Record<string, string> = {};
      for (const [name, template] of claims) {
        const value = template.render(scopeView);
        if (value !== '') extra[name] = value;
      }
      const grant: AccessGrant = {
        sub: subject,
        tenant: ctx.tenant.id,
        aud: config.audience ?? tokens.audienceOf(ctx.tenant.id),
        scope: scope.render(scopeView),
        // RFC 9068 requires client_id: a system token names its subject, a user token without a
        // client names the tenant whose app called the pipe.
        client_id: clientId.render(scopeView) || (user ? ctx.tenant.id : subject),
        claims: extra,
        ttl,
      };
      if (amr !== undefined) {
        grant.amr = amr;
        ctx.proved.amr.push(...amr);
      }
      if (acr !== null) {
        grant.acr = acr.render(scopeView);
        if (grant.acr !== '') ctx.proved.acr = grant.acr;
      }
      const props = ctx.item().props;
      const now = ctx.clock.now();
      if (user) {
        return mintUserTokens(tokens, ctx.store, grant, refreshTtl, lifetime, now).then((minted) => {
          props.access_token = minted.access_token;
          props.token_type = minted.token_type;
          props.expires_in = minted.expires_in;
          props.refresh_token = minted.refresh_token as string;
          issued(ctx, subject);
        });
      }
      const access = accessToken(tokens, grant, now);
      return access.token.then((token) => {
        props.access_token = token;
        props.token_type = 'Bearer';
        props.expires_in = String(access.expiresIn);
        issued(ctx, subject);
      });
    };
  },
  dataflow: (config) => ({
    sets: itemSets('', ['access_token', 'token_type', 'expires_in', ...(config.kind === 'user' ? ['refresh_token'] : [])]),
  }),
});
