import { OutboundPolicy, parseAllowEntry, type AllowEntry, type Resolver } from '../../src/outbound/policy.js';

/**
 * The `outbound` section of a main file that lets the server call these URLs (a test's
 * adapters and gateways on loopback ports), each listed by its host and port.
 */
export function outboundFor(...urls: string[]): { allow: string[] } {
  return { allow: [...new Set(urls.map((u) => new URL(u).host))] };
}

/** The policy that section builds; `internal` names may resolve to internal addresses, `resolve` fakes DNS. */
export function policyFor(urls: readonly string[], internal: readonly string[] = [], resolve?: Resolver): OutboundPolicy {
  const entries = outboundFor(...urls).allow.map((host) => parseAllowEntry(host) as AllowEntry);
  return new OutboundPolicy(entries, internal, resolve);
}
