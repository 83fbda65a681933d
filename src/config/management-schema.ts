/**
 * The `management` section of the main file: the second listener, which serves what
 * operators use (/metrics, /readyz, the admin API, the console, and calls asking for a debug
 * trace) so that production can firewall it apart from the public authentication API.
 * Read at start: a reload does not move a listener.
 */
import { invalidProxyEntry } from '../http/client-ip.js';
import type { ConfigOf } from '../engine/valve.js';
import { defineFeature } from './feature.js';
import type { MainConfig } from './main-schema.js';
import { pointer, type ConfigIssue } from '../config-kit/issues.js';
import { TENANT_PATTERN } from '../config-kit/patterns.js';
import { connectionCapsProblem, connectionProperties } from './connection-schema.js';
import { hostEntryProblem } from './management-hosts.js';

const managementSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description:
    'The management listener: /metrics, /readyz, /admin/..., the console at /console, and traced calls. Keep it off the internet (default loopback).',
  properties: {
    host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'Overridden by the MANAGEMENT_HOST environment variable.' },
    port: {
      type: 'integer',
      minimum: 0,
      maximum: 65535,
      default: 9090,
      description: 'Overridden by the MANAGEMENT_PORT environment variable.',
    },
    hosts: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description:
        "The names this listener answers for (the Host header): a name (localhost, 127.0.0.1, [::1]) served at the port it listens on, or an origin a proxy serves it at (https://admin.example.com). Any other, missing or doubled Host is refused 403 HOST_NOT_ALLOWED. The console signs in at each (its client may come back to each). Empty: the listener's own address and localhost; loopback names only (localhost, 127.0.0.1, [::1]) when it listens on 0.0.0.0 or ::.",
    },
    ...connectionProperties,
    console_client: {
      type: 'string',
      minLength: 1,
      default: 'authpipe-console',
      description:
        'The public userapp (directory client) the console signs in with, in each tenant that has it, through the hosted login (PKCE).',
    },
    operators: {
      type: 'array',
      default: [],
      maxItems: 100,
      description:
        "Who runs the installation through the admin API and the console: listeners, shared pipes and every tenant. Each is a subject of one tenant (its tokens are verified there); everyone else in a tenant's Admin group is an admin of that tenant only. Empty: no operator, shared pipes are edited on disk only.",
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['tenant', 'sub'],
        properties: {
          tenant: { type: 'string', pattern: TENANT_PATTERN, description: 'The tenant whose tokens the operator signs in with.' },
          kind: {
            enum: ['user', 'till', 'client'],
            default: 'user',
            description: "What the subject is in that tenant's directory: a user (signs in to the console), a till or an API client.",
          },
          sub: { type: 'string', minLength: 1, maxLength: 128, description: 'The subject: a user id, till username or client id.' },
        },
      },
    },
    trusted_proxies: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description: 'Addresses or CIDR ranges whose X-Forwarded-For is honoured on this listener. Empty: never.',
    },
  },
} as const;

type ManagementConfig = ConfigOf<typeof managementSchema>;

declare module './main-schema.js' {
  interface FeatureSections {
    management: ManagementConfig;
  }
}

export const managementFeature = defineFeature({
  name: 'management listener',
  sections: { management: managementSchema },
  build(ctx) {
    checkManagementSection(ctx.main, ctx.file, ctx.issues);
    return undefined;
  },
});

/** The address the management listener binds: the config, then MANAGEMENT_HOST / MANAGEMENT_PORT. */
export function managementAddress(
  section: ManagementConfig,
  env: Readonly<Record<string, string | undefined>>,
): { host: string; port: number } {
  const port = env.MANAGEMENT_PORT !== undefined ? Number(env.MANAGEMENT_PORT) : section.port;
  return { host: env.MANAGEMENT_HOST ?? section.host, port };
}

function checkManagementSection(main: MainConfig, file: string, issues: ConfigIssue[]): void {
  const section = main.management;
  section.trusted_proxies.forEach((entry, i) => {
    const problem = invalidProxyEntry(entry);
    if (problem) issues.push({ code: 'CONFIG_INVALID', file, pointer: pointer('management', 'trusted_proxies', i), message: problem });
  });
  const tenants = new Set(main.modules.flatMap((m) => m.config.tenant.map((t) => t.id)));
  section.operators.forEach((operator, i) => {
    if (!tenants.has(operator.tenant))
      issues.push({
        file,
        pointer: pointer('management', 'operators', i, 'tenant'),
        code: 'CONFIG_REFERENCE',
        message: `names tenant "${operator.tenant}"; expected one of ${[...tenants].join(', ')}`,
      });
  });
  const caps = connectionCapsProblem(section);
  if (caps) issues.push({ code: 'CONFIG_INVALID', file, pointer: pointer('management', 'max_connections_per_address'), message: caps });
  section.hosts.forEach((entry, i) => {
    const problem = hostEntryProblem(entry);
    if (problem) issues.push({ code: 'CONFIG_INVALID', file, pointer: pointer('management', 'hosts', i), message: problem });
  });
}
