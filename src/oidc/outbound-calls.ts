/**
 * The calls oidc-provider makes itself (a client's `jwks_uri`, a back-channel logout POST) go
 * through the operator's outbound policy, as every other call from config does: a URL whose
 * host and port are not on outbound.allow is refused before any connection, the name resolves
 * once and an internal address is refused unless listed, and each call is bounded in time.
 * The provider turns a refusal into its own error (a jwks_uri that cannot be read fails the
 * client's authentication; a logout that cannot be delivered is an event, logged by the mount).
 */
import { OutboundRefused, type OutboundPolicy } from '../outbound/policy.js';

/** A call the provider makes answers within this, or fails. */
const CALL_TIMEOUT_MS = 2500;

export function outboundHttpOptions(policy: OutboundPolicy | undefined) {
  return (url: URL) => {
    const refused = policy ? policy.refusal(url) : 'there is no outbound policy';
    if (refused !== undefined) throw new OutboundRefused(refused);
    return {
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      dnsLookup: (policy as OutboundPolicy).lookup(url) as unknown as typeof import('node:dns').lookup,
    };
  };
}
