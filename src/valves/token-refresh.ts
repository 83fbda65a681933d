/**
 * token-refresh: trades a refresh token for a new access token and a new refresh token of
 * the same family. The refresh token is verified (typ refresh+jwt, audience us, tenant),
 * then consumed by an atomic compare-and-set on its family: a second use of any refresh
 * token, even in parallel with the first, revokes the family. A family ends at its absolute
 * lifetime whatever the rotations.
 */
import { callFields } from '../engine/audit.js';
import { defineValve } from '../engine/valve.js';
import { rotateFamily } from '../tokens/families.js';
import { familyTokens } from '../tokens/mint.js';
import { findToken } from '../tokens/source.js';
import { randomUUID } from 'node:crypto';
import { itemSets } from '../engine/dataflow.js';

export default defineValve({
  name: 'token-refresh',
  summary: 'Rotate a refresh token: a new access and refresh token; reuse revokes the family.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      property: { type: 'string', minLength: 1, default: 'refresh_token', description: 'Request property holding the refresh token.' },
    },
  },
  create(config, tools) {
    const tokens = tools.services.tokens;
    if (!tokens)
      return tools.fail(
        '',
        'token-refresh needs the "tokens" section in the main config file (issuer, audience, keys_dir)',
        'CONFIG_MISSING',
      );
    const source = config.property;
    return async (ctx) => {
      const { token, property } = findToken(ctx, source);
      const now = ctx.clock.now();
      const claims = await tokens.verify(token, { type: 'refresh', tenant: ctx.tenant.id, now, property });
      const sid = claims.sid as string;
      const family = await rotateFamily(ctx.store, sid, claims.jti, randomUUID(), now, property, (reused) => {
        ctx.services.metrics?.inc('tokens_revoked', { tenant: ctx.tenant.id, reason: 'reuse' });
        ctx.services.audit?.event('token.revoked', callFields(ctx, { subject: reused.sub, reason: 'reuse', sid }));
      });
      const minted = await familyTokens(tokens, ctx.tenant.id, sid, family, now);
      const props = ctx.item().props;
      props.access_token = minted.access_token;
      props.token_type = minted.token_type;
      props.expires_in = minted.expires_in;
      props.refresh_token = minted.refresh_token as string;
      ctx.services.metrics?.inc('tokens_refreshed', { tenant: ctx.tenant.id });
      ctx.services.audit?.event('token.refreshed', callFields(ctx, { subject: family.sub, sid }));
    };
  },
  dataflow: () => ({ sets: itemSets('', ['access_token', 'token_type', 'expires_in', 'refresh_token']) }),
});
