/**
 * token-verify: accepts an access token (Bearer header, or a request property) only when
 * jose verifies it against our keys with our algorithms, issuer, audience, typ at+jwt and
 * tenant; a refresh token never passes. Tokens are also refused once their login has ended
 * (logout, refresh-token reuse, revocation of the front door's grant) or they were revoked
 * themselves (RFC 7009), one store read (tokens/revocation.ts). A token bound to a key (DPoP,
 * `cnf.jkt`) needs a proof of that key for this request (tokens/dpop.ts). The claims become item properties.
 */
import { refuse } from '../errors.js';
import { defineValve } from '../engine/valve.js';
import { tokenIsLive } from '../tokens/revocation.js';
import { findToken } from '../tokens/source.js';
import { itemSets } from '../engine/dataflow.js';
import { checkDpopProof } from '../tokens/dpop.js';

export default defineValve({
  name: 'token-verify',
  summary: 'Verify an access token and put its claims on the current item.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      property: {
        type: 'string',
        minLength: 1,
        description: 'Read the token from this request property; default: the Authorization: Bearer header.',
      },
      audience: {
        type: 'string',
        minLength: 1,
        description: "Expected aud; default the calling tenant's audience (tokens.audiences, else tokens.audience of the main file).",
      },
      prefix: {
        type: 'string',
        default: '',
        pattern: '^[A-Za-z0-9_.-]*$',
        description: 'Prefix of the item property names the claims become.',
      },
      check_revocation: {
        type: 'boolean',
        default: true,
        description: 'Refuse tokens whose login has ended (logout, refresh-token reuse, revocation) or that were revoked (one store read).',
      },
    },
  },
  create(config, tools) {
    const tokens = tools.services.tokens;
    if (!tokens)
      return tools.fail(
        '',
        'token-verify needs the "tokens" section in the main config file (issuer, audience, keys_dir)',
        'CONFIG_MISSING',
      );
    const prefix = config.prefix;
    const checkRevocation = config.check_revocation;
    return async (ctx) => {
      const { token, property, scheme } = findToken(ctx, config.property, { dpop: config.property === undefined });
      const now = ctx.clock.now();
      const claims = await tokens.verify(token, {
        type: 'access',
        tenant: ctx.tenant.id,
        now,
        property,
        ...(config.audience ? { audience: config.audience } : {}),
      });
      if (checkRevocation && !(await tokenIsLive(ctx.store, claims, now))) {
        throw refuse('TOKEN_INVALID', { erroneousProperties: [property], detail: 'access token: its login was revoked or has ended' });
      }
      const jkt = (claims.cnf as { jkt?: unknown } | undefined)?.jkt;
      if (typeof jkt === 'string') {
        // Bound to a key: worth nothing without a proof of that key for this request (tokens/dpop.ts).
        if (config.property !== undefined)
          throw refuse('DPOP_INVALID', {
            erroneousProperties: [property],
            detail: 'a DPoP-bound access token is read from the Authorization header only',
          });
        await checkDpopProof({
          headers: ctx.headers,
          operation: ctx.operation,
          token,
          scheme,
          jkt,
          store: ctx.store,
          nowMs: now,
          clockToleranceSeconds: tokens.settings.clockTolerance,
        });
      } else if (scheme === 'dpop') {
        throw refuse('DPOP_INVALID', { erroneousProperties: ['authorization'], detail: 'the DPoP scheme with a token bound to no key' });
      }
      const props = ctx.item().props;
      for (const [name, value] of Object.entries(claims)) props[prefix + name] = claimText(value);
    };
  },
  dataflow: (config) => {
    const prefix = config.prefix;
    // Our tokens always carry these; scope, client_id, sid and configured claims only some.
    return {
      sets: itemSets(prefix, [
        'iss',
        'sub',
        'aud',
        'iat',
        'exp',
        'jti',
        'tenant',
        ...['scope', 'client_id', 'sid'].map((name) => ({ name, maybe: true })),
      ]),
      setsAny: [{ place: 'item', prefix }],
    };
  },
});

/** Item properties are strings: numbers as decimals, string lists space-separated (as scope is). */
function claimText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(' ');
  return JSON.stringify(value);
}
