/**
 * RFC 8693 token exchange at the token endpoint (oidc-provider's registerGrantType): a client
 * that names a pipe in the directory (`token_exchange`) posts a `subject_token` (an outside
 * issuer's JWT, e.g. an upstream's ID token) and gets our access token. The pipe decides, as
 * the PUT door's external-login does: its external-token valve checks the token against
 * `external_issuers` (the one verification of outside tokens), its token-mint mints ours. A
 * client without the grant gets `unauthorized_client` from the provider before any of this.
 * A refused subject token is `invalid_grant`; a failing dependency (the issuer's keys not
 * fetched in time) `temporarily_unavailable`. The grant is told as the token door's call by
 * the mount's grant report, so the pipe's run is not told again here.
 */
import type { IncomingMessage } from 'node:http';
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Tenant } from '../config/load.js';
import type { Services } from '../engine/services.js';
import type { Directory } from '../directory/directory.js';
import { execute } from '../engine/execute.js';
import { emptyProps } from '../engine/props.js';
import type { Logger } from 'pino';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** What a subject token may be: a JWT of an outside issuer (RFC 8693 3). */
const SUBJECT_TOKEN_TYPES = new Set([
  'urn:ietf:params:oauth:token-type:id_token',
  'urn:ietf:params:oauth:token-type:jwt',
  ACCESS_TOKEN_TYPE,
]);
const PARAMETERS = [
  'subject_token',
  'subject_token_type',
  'requested_token_type',
  'actor_token',
  'actor_token_type',
  'audience',
  'resource',
  'scope',
];

export function registerTokenExchange(
  provider: Provider,
  args: {
    tenant: Pick<Tenant, 'id' | 'displayName' | 'pipes'>;
    directory: Directory;
    services: Services;
    logger: Logger;
    /** The caller's address and request id, as the mount saw the request. */
    callOf(req: IncomingMessage): { clientIp: string; requestId: string };
  },
): void {
  const { tenant } = args;
  provider.registerGrantType(
    TOKEN_EXCHANGE,
    async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
      const client = ctx.oidc.client;
      const params = ctx.oidc.params as Record<string, unknown>;
      const operation = client ? args.directory.client(tenant.id, client.clientId)?.token_exchange : undefined;
      if (!client || operation === undefined) throw new errors.UnauthorizedClient('this client may not exchange tokens');
      const subject = params.subject_token;
      if (typeof subject !== 'string' || subject === '') throw new errors.InvalidRequest('missing subject_token');
      if (typeof params.subject_token_type !== 'string' || !SUBJECT_TOKEN_TYPES.has(params.subject_token_type))
        throw new errors.InvalidRequest('unsupported subject_token_type: a JWT (id_token, jwt or access_token) is expected');
      if (params.requested_token_type !== undefined && params.requested_token_type !== ACCESS_TOKEN_TYPE)
        throw new errors.InvalidRequest('only an access token can be requested');
      // Delegation (an actor acting for the subject) is not offered: impersonation only.
      if (params.actor_token !== undefined) throw new errors.InvalidRequest('actor_token is not supported');
      const pipe = tenant.pipes.get(operation);
      if (!pipe) throw new Error(`token exchange pipe ${operation} is missing`);
      const body = emptyProps();
      body.subject_token = subject;
      body.subject_token_type = params.subject_token_type;
      body.client_id = client.clientId;
      const { clientIp, requestId } = args.callOf(ctx.req);
      const outcome = await execute(pipe, { requestId, tenant, operation, body, clientIp, headers: {} }, args.services, args.logger);
      if (!outcome.ok) {
        if (outcome.error.status >= 500)
          throw new errors.TemporarilyUnavailable(`the subject token could not be checked (${outcome.error.code})`);
        throw new errors.InvalidGrant(`subject token refused (${outcome.error.code})`);
      }
      const { access_token: accessToken, expires_in: expiresIn } = outcome.answer;
      if (!accessToken) throw new Error(`token exchange pipe ${operation} answered no access_token`);
      ctx.body = {
        access_token: accessToken,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        ...(expiresIn !== undefined && /^\d+$/.test(expiresIn) ? { expires_in: Number(expiresIn) } : {}),
      };
      await next();
    },
    PARAMETERS,
  );
}
