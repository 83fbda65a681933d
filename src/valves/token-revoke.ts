/**
 * token-revoke: logout. Verifies a refresh token (or, with type access, a user access token)
 * and revokes its whole family: the refresh token and every access token of that login stop
 * working. A system token has no family and is refused. Revoking twice is not an error.
 */
import { refuse } from '../errors.js';
import { callFields } from '../engine/audit.js';
import { defineValve } from '../engine/valve.js';
import { revokeFamily } from '../tokens/families.js';
import { findToken } from '../tokens/source.js';

export default defineValve({
  name: 'token-revoke',
  summary: 'Logout: revoke the refresh family of a refresh (or user access) token.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      type: { enum: ['refresh', 'access'], default: 'refresh', description: 'The kind of token presented.' },
      property: {
        type: 'string',
        minLength: 1,
        description:
          'Request property holding the token; default refresh_token for type refresh, the Authorization: Bearer header for type access.',
      },
    },
  },
  create(config, tools) {
    const tokens = tools.services.tokens;
    if (!tokens)
      return tools.fail(
        '',
        'token-revoke needs the "tokens" section in the main config file (issuer, audience, keys_dir)',
        'CONFIG_MISSING',
      );
    const type = config.type;
    const source = config.property ?? (type === 'refresh' ? 'refresh_token' : undefined);
    return async (ctx) => {
      const { token, property } = findToken(ctx, source);
      const now = ctx.clock.now();
      const claims = await tokens.verify(token, { type, tenant: ctx.tenant.id, now, property });
      if (typeof claims.sid !== 'string')
        throw refuse('TOKEN_INVALID', { erroneousProperties: [property], detail: 'a system token has no login to revoke' });
      await revokeFamily(ctx.store, claims.sid, now);
      ctx.services.metrics?.inc('tokens_revoked', { tenant: ctx.tenant.id, reason: 'logout' });
      ctx.services.audit?.event(
        'token.revoked',
        callFields(ctx, { subject: typeof claims.sub === 'string' ? claims.sub : undefined, reason: 'logout', sid: claims.sid }),
      );
    };
  },
  dataflow: () => ({}),
});
