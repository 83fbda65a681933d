/**
 * The `outbound` section of the main file: the hosts and ports the server may call from
 * config (HTTP adapters, OTP webhooks). The main file is the operator's, so a tenant admin
 * editing pipes through the admin API cannot add a destination. Valves find the policy as
 * `services.outbound` and check their URLs against it when they compile.
 */
import type { ConfigOf } from '../engine/valve.js';
import { defineFeature } from '../config/feature.js';
import { pointer } from '../config-kit/issues.js';
import { OutboundPolicy, parseAllowEntry, type AllowEntry } from './policy.js';

const outboundSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description:
    'Where config may make the server call (HTTP adapters, OTP webhooks, the keys of external_issuers): nowhere but these hosts and ports. LDAP and the store are set in this file only, and are not checked against it.',
  properties: {
    allow: {
      type: 'array',
      uniqueItems: true,
      default: [],
      description:
        'Destinations as host or host:port (IPv6 in brackets: [fd00::1]:8443). Without a port: the default port of the URL (443 for https, 80 for http). A listed IP address may be internal (loopback, link-local, private).',
      items: { type: 'string', minLength: 1, maxLength: 300 },
    },
    internal: {
      type: 'array',
      uniqueItems: true,
      default: [],
      description:
        'Host names on allow that may resolve to a loopback, link-local or private address (an internal gateway). Any other name resolving to one is refused when the call connects.',
      items: { type: 'string', minLength: 1, maxLength: 253 },
    },
  },
} as const;

declare module '../config/main-schema.js' {
  interface FeatureSections {
    outbound?: ConfigOf<typeof outboundSchema>;
  }
}
declare module '../engine/services.js' {
  interface FeatureServices {
    /** The operator's outbound allowlist; absent (hand-built services): nothing may be called. */
    readonly outbound?: OutboundPolicy;
  }
}

export const outboundFeature = defineFeature({
  name: 'outbound',
  sections: { outbound: outboundSchema },
  service: 'outbound',
  build(ctx) {
    const section = ctx.main.outbound ?? { allow: [], internal: [] };
    const allow: AllowEntry[] = [];
    section.allow.forEach((text, i) => {
      const entry = parseAllowEntry(text);
      if (typeof entry === 'string')
        ctx.issues.push({ code: 'CONFIG_INVALID', file: ctx.file, pointer: pointer('outbound', 'allow', i), message: entry });
      else allow.push(entry);
    });
    section.internal.forEach((name, i) => {
      const entry = parseAllowEntry(name);
      const listed = typeof entry !== 'string' && entry.port === undefined && allow.some((e) => e.host === entry.host);
      if (!listed)
        ctx.issues.push({
          code: 'CONFIG_REFERENCE',
          file: ctx.file,
          pointer: pointer('outbound', 'internal', i),
          message: `"${name}" is not a host name of outbound.allow; expected one of its names, without a port`,
        });
    });
    return new OutboundPolicy(allow, section.internal);
  },
});
