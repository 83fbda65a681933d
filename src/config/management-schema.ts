/**
 * The `management` section of the main file: the second listener, which serves what
 * operators use (/metrics, /readyz, the admin API, the console, and calls asking for a debug
 * trace) so that production can firewall it apart from the public authentication API.
 * Read at start: a reload does not move a listener.
 */
import { invalidProxyEntry } from '../http/client-ip.js';
import { pointer, type ConfigIssue } from './issues.js';

export const MANAGEMENT_DEFAULTS = { host: '127.0.0.1', port: 9090 } as const;

export const managementSchema = {
  type: 'object',
  additionalProperties: false,
  description:
    'The management listener: /metrics, /readyz, /admin/..., the console at /console, and traced calls. Keep it off the internet (default loopback).',
  properties: {
    host: { type: 'string', minLength: 1, default: MANAGEMENT_DEFAULTS.host, description: 'Overridden by the MANAGEMENT_HOST environment variable.' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: MANAGEMENT_DEFAULTS.port, description: 'Overridden by the MANAGEMENT_PORT environment variable.' },
    trusted_proxies: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description: 'Addresses or CIDR ranges whose X-Forwarded-For is honoured on this listener. Empty: never.',
    },
  },
} as const;

export interface ManagementConfig {
  host?: string;
  port?: number;
  trusted_proxies?: string[];
}

/** The address the management listener binds: the config, then MANAGEMENT_HOST / MANAGEMENT_PORT. */
export function managementAddress(section: ManagementConfig | undefined, env: Readonly<Record<string, string | undefined>>): { host: string; port: number } {
  const port = env.MANAGEMENT_PORT !== undefined ? Number(env.MANAGEMENT_PORT) : (section?.port ?? MANAGEMENT_DEFAULTS.port);
  return { host: env.MANAGEMENT_HOST ?? section?.host ?? MANAGEMENT_DEFAULTS.host, port };
}

export function checkManagementSection(section: ManagementConfig | undefined, file: string, issues: ConfigIssue[]): void {
  (section?.trusted_proxies ?? []).forEach((entry, i) => {
    const problem = invalidProxyEntry(entry);
    if (problem) issues.push({ file, pointer: pointer('management', 'trusted_proxies', i), message: problem });
  });
}
