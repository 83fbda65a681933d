/** The relying party of a tenant's passkeys: the rp id follows the public URL's host (the tenant's issuer), and the origin its origin. */
import { fault } from '../errors.js';
import type { CallContext } from '../engine/valve.js';

export function relyingParty(
  ctx: CallContext,
  rpId: string | undefined,
  origins: readonly string[] | undefined,
): { id: string; origins: string[] } {
  if (rpId !== undefined && origins !== undefined) return { id: rpId, origins: [...origins] };
  const issuer = ctx.services.tokens?.issuerOf(ctx.tenant.id);
  if (issuer === undefined)
    throw fault('INTERNAL_ERROR', { detail: 'passkeys: set rp_id and origins, or a tokens section whose issuer gives them' });
  const url = new URL(issuer);
  return { id: rpId ?? url.hostname, origins: origins === undefined ? [url.origin] : [...origins] };
}

export const RP_SCHEMA = {
  rp_id: {
    type: 'string',
    pattern: '^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$',
    description: "The relying party id (a host name). Default: the host of the tenant's issuer, so of oidc.public_url.",
  },
} as const;
