/**
 * The `store` section of the main file: where shared state lives (lockouts, rate limits,
 * OTP transactions, token families). Read once at start; REDIS_URL in the environment
 * overrides it (see settings.ts).
 */
import type { ConfigOf } from '../engine/valve.js';

const REDIS_NODES = {
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['host', 'port'],
    properties: {
      host: { type: 'string', minLength: 1, description: 'Host name or address of the node.' },
      port: { type: 'integer', minimum: 1, maximum: 65535, description: 'TCP port of the node.' },
    },
  },
} as const;

export const storeSchema = {
  description: 'Where shared state lives. REDIS_URL in the environment overrides this and selects redis.',
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: {
      enum: ['memory', 'redis'],
      description: 'memory: one process only. redis: shared by every process (needed for --workers > 1).',
    },
    url: {
      type: 'string',
      pattern: '^rediss?://',
      description: 'redis://[user:password@]host:port[/db]; rediss:// for TLS. Default redis://127.0.0.1:6379.',
    },
    sentinels: { ...REDIS_NODES, description: 'Sentinel addresses; the master is looked up by sentinel_master.' },
    sentinel_master: { type: 'string', minLength: 1, description: 'The master name the sentinels monitor.' },
    sentinel_password: { type: 'string', description: 'Password of the sentinels themselves (use ${env:NAME}).' },
    cluster: { ...REDIS_NODES, description: 'Seed nodes of a Redis Cluster; the rest is discovered.' },
    username: { type: 'string', minLength: 1, description: 'Redis ACL user to authenticate as (with password); absent: the default user.' },
    password: { type: 'string', description: 'Use ${env:NAME} or ${file:path}; a password in the url wins.' },
    db: {
      type: 'integer',
      minimum: 0,
      maximum: 65535,
      description: 'Database number to select; absent: the one in the url, else 0. Not allowed with cluster.',
    },
    tls: {
      description: 'true: TLS with the system CAs. An object: custom CA, client certificate, server name.',
      type: ['boolean', 'object'],
      additionalProperties: false,
      properties: {
        ca_file: { type: 'string', minLength: 1, description: 'PEM CA bundle, relative to this file.' },
        cert_file: { type: 'string', minLength: 1, description: 'PEM client certificate (with key_file).' },
        key_file: { type: 'string', minLength: 1, description: 'PEM client key (with cert_file).' },
        servername: { type: 'string', minLength: 1, description: 'The name the server certificate must carry, when not the host.' },
        reject_unauthorized: { type: 'boolean', default: true, description: 'false disables certificate checks: tests only.' },
      },
    },
    command_timeout_ms: {
      type: 'integer',
      minimum: 10,
      maximum: 60000,
      default: 500,
      description: 'The longest a store operation may take; then the call fails with COMMUNICATION_ERROR (500).',
    },
    connect_timeout_ms: {
      type: 'integer',
      minimum: 100,
      maximum: 60000,
      default: 2000,
      description:
        'The longest, in milliseconds, a connection (and a cluster slot refresh) may take to open before the attempt fails and is retried.',
    },
    max_counters: {
      type: 'integer',
      minimum: 100,
      maximum: 100000000,
      default: 200000,
      description:
        'memory: the most counters (lockout, rate limits) kept at once. When full, expired and zeroed counters are evicted; if none is, a new counter is refused (RATE_LIMITED): fail closed, never forgetting a live count.',
    },
  },
  dependentRequired: { sentinels: ['sentinel_master'], sentinel_master: ['sentinels'], sentinel_password: ['sentinels'] },
  default: { type: 'memory' },
} as const;

export type StoreConfig = ConfigOf<typeof storeSchema>;
