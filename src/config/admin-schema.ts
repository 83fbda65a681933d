import { invalidProxyEntry } from '../http/client-ip.js';
import type { ConfigOf } from '../engine/valve.js';
import { defineFeature } from './feature.js';
import { pointer, type ConfigIssue } from '../config-kit/issues.js';
import type { MainConfig } from './main-schema.js';

/**
 * Main-file sections for operating the server: reload, metrics, readiness, debug traces,
 * audit and shutdown. Each section defaults to `{}`, so its own defaults always apply and
 * code reads `main.metrics.enabled` without a fallback.
 */
const ADDRESS_LIST = {
  type: 'array',
  items: { type: 'string', minLength: 1 },
  description: 'IP addresses or CIDR ranges, matched against the client address (trusted_proxies honoured).',
} as const;

const adminSchemaProperties = {
  reload: {
    type: 'object',
    additionalProperties: false,
    default: {},
    description: 'Hot reload. SIGHUP always reloads; `watch` also reloads when a config, data or pipe file changes.',
    properties: {
      watch: {
        type: 'boolean',
        default: true,
        description:
          'Watch the main file, data files and pipes folder, and reload after a change; false: only SIGHUP and the admin API reload.',
      },
      debounce_ms: {
        type: 'integer',
        minimum: 10,
        maximum: 60000,
        default: 200,
        description: 'Quiet time after the last change before reloading.',
      },
      store_poll_ms: {
        type: 'integer',
        minimum: 0,
        maximum: 600000,
        default: 1000,
        description:
          'How often to read the config version other engines on the same store published (admin changes, reloads), and reload when it differs; 0: never. Read at start.',
      },
    },
  },
  metrics: {
    type: 'object',
    additionalProperties: false,
    default: {},
    description: 'Prometheus metrics at GET /metrics on every listener. Read at start.',
    properties: {
      enabled: {
        type: 'boolean',
        default: true,
        description: 'Collect metrics and serve GET /metrics; false: no registry is made and /metrics is not mounted.',
      },
      clients: { ...ADDRESS_LIST, default: [], description: 'Who may scrape /metrics; empty: anyone who reaches the listener.' },
      default_metrics: { type: 'boolean', default: true, description: 'Also export process metrics (CPU, memory, event loop, GC).' },
    },
  },
  readyz: {
    type: 'object',
    additionalProperties: false,
    default: {},
    description: 'GET /readyz: everyone sees status, config version and when the last reload failed; only these clients also see why.',
    properties: {
      clients: {
        ...ADDRESS_LIST,
        default: ['127.0.0.1', '::1'],
        description:
          'Who sees the issues of a refused reload (file names, pointers, env variable names); empty: nobody. The log always has them.',
      },
    },
  },
  trace: {
    type: 'object',
    additionalProperties: false,
    default: {},
    description: 'Debug traces of single calls asked for with the x-authpipe-trace request header. Off by default.',
    properties: {
      enabled: {
        type: 'boolean',
        default: false,
        description: 'Honour the x-authpipe-trace request header from the allowed clients; a reload turns it on or off.',
      },
      output: {
        enum: ['log', 'header'],
        default: 'log',
        description: 'log: one "trace" log line; header: also the x-authpipe-trace response header (needs token).',
      },
      token: { type: 'string', minLength: 16, description: 'When set, the request header must carry exactly this value. Use ${env:NAME}.' },
      clients: {
        ...ADDRESS_LIST,
        default: ['127.0.0.1', '::1'],
        description: 'Who may ask for a trace (trusted_proxies honoured); empty: nobody.',
      },
    },
  },
  audit: {
    type: 'object',
    additionalProperties: false,
    default: {},
    description: 'Audit events on their own pino stream. Read at start.',
    properties: {
      enabled: { type: 'boolean', default: true, description: 'Write audit events; false: none are written.' },
      destination: {
        type: 'string',
        minLength: 1,
        default: 'stdout',
        description: '"stdout", "stderr" or a file path (relative to this file).',
      },
      success: { type: 'boolean', default: true, description: 'Also record successful calls (auth.success).' },
      keep: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description:
          "What the store keeps for the console's Audit page, shared by every worker and engine on the store and kept across restarts (on Redis).",
        properties: {
          events: {
            type: 'integer',
            minimum: 100,
            maximum: 1000000,
            default: 20000,
            description:
              'At most this many of the newest events are shown. Calls (auth.*, token.*) are kept in batches of up to 100 of which at most events/100 stay; other events (admin changes, lockouts, reloads) in a list of their own, at most this many batches.',
          },
          days: { type: 'integer', minimum: 1, maximum: 3650, default: 30, description: 'Events older than this are not shown.' },
        },
      },
    },
  },
  admin_api: {
    type: 'object',
    additionalProperties: false,
    default: {},
    description: 'The access-groups admin API under /admin/access-groups.',
    properties: {
      allow_admin_stores: {
        type: 'boolean',
        default: false,
        description:
          'Allow allocating stores to the built-in Admin group (every till of such a store becomes an admin). Off: refused with ADMIN_STORES_REFUSED.',
      },
    },
  },
  shutdown: {
    type: 'object',
    additionalProperties: false,
    default: {},
    description: 'Graceful stop on SIGTERM or SIGINT.',
    properties: {
      grace_ms: {
        type: 'integer',
        minimum: 0,
        maximum: 600000,
        default: 10000,
        description: 'How long SIGTERM waits for calls in flight before closing their connections.',
      },
    },
  },
} as const;

type Sections = typeof adminSchemaProperties;

declare module './main-schema.js' {
  interface FeatureSections {
    reload: ConfigOf<Sections['reload']>;
    metrics: ConfigOf<Sections['metrics']>;
    readyz: ConfigOf<Sections['readyz']>;
    trace: ConfigOf<Sections['trace']>;
    audit: ConfigOf<Sections['audit']>;
    shutdown: ConfigOf<Sections['shutdown']>;
    admin_api: ConfigOf<Sections['admin_api']>;
  }
}

export const operationsFeature = defineFeature({
  name: 'operations',
  sections: adminSchemaProperties,
  build(ctx) {
    checkAdminSections(ctx.main, ctx.file, ctx.issues);
    return undefined;
  },
});

/** What the schema cannot say: address lists parse, and a trace sent back to callers needs a token. */
function checkAdminSections(main: MainConfig, file: string, issues: ConfigIssue[]): void {
  const lists: [string, readonly string[]][] = [
    ['metrics', main.metrics.clients],
    ['readyz', main.readyz.clients],
    ['trace', main.trace.clients],
  ];
  for (const [section, list] of lists) {
    list.forEach((entry, i) => {
      const problem = invalidProxyEntry(entry);
      if (problem) issues.push({ code: 'CONFIG_INVALID', file, pointer: pointer(section, 'clients', i), message: problem });
    });
  }
  if (main.trace.output === 'header' && main.trace.token === undefined) {
    issues.push({
      code: 'CONFIG_INVALID',
      file,
      pointer: '/trace/output',
      message: '"header" sends traces back to callers: set trace.token (e.g. "${env:AUTHPIPE_TRACE_TOKEN}") so only you can ask for one',
    });
  }
}
