/**
 * The JSON Schema of the main file, config/authpipe.json. The tenant module keeps the
 * PhenixID seed's shape and names (name, id, config.http_configuration_ref, config.tenant[]
 * of {id, displayName, allowedOperation[]}). `authpipe schemas` writes this to schemas/.
 */
import { adminSchemaProperties, type AdminConfig } from './admin-schema.js';
import { ldapSchema, type LdapConnectionConfig } from './ldap-schema.js';
import { managementSchema, type ManagementConfig } from './management-schema.js';

import { OPERATION_PATTERN, TENANT_PATTERN } from './patterns.js';
import { oidcSchema, type OidcConfig } from '../oidc/schema.js';

export { OPERATION_PATTERN, TENANT_PATTERN };

const REDIS_NODES = {
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['host', 'port'],
    properties: { host: { type: 'string', minLength: 1 }, port: { type: 'integer', minimum: 1, maximum: 65535 } },
  },
} as const;

export const mainSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://authpipe.dev/schemas/authpipe.schema.json',
  title: 'authpipe main configuration',
  type: 'object',
  additionalProperties: false,
  required: ['http_configuration', 'modules', 'pipes'],
  properties: {
    $schema: { type: 'string' },
    http_configuration: {
      description: 'HTTP listeners; a module names the one it is served on by id.',
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id'],
        properties: {
          id: { type: 'string', minLength: 1 },
          host: { type: 'string', default: '127.0.0.1', description: 'Overridden by the HOST environment variable.' },
          port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: 'Overridden by the PORT environment variable.' },
          trusted_proxies: {
            description: 'Addresses or CIDR ranges whose X-Forwarded-For is honoured. Empty: never.',
            type: 'array',
            items: { type: 'string', minLength: 1 },
            default: [],
          },
          max_body_bytes: { type: 'integer', minimum: 2, maximum: 1048576, default: 16384 },
          max_properties: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
          max_value_length: { type: 'integer', minimum: 1, maximum: 1048576, default: 8192 },
          max_connections: {
            type: 'integer',
            minimum: 0,
            maximum: 1000000,
            default: 1024,
            description: 'Open connections this listener keeps at most (per process); more are answered 403 RATE_LIMITED and closed. 0: no cap. Read at start.',
          },
          max_connections_per_address: {
            type: 'integer',
            minimum: 0,
            maximum: 1000000,
            default: 256,
            description: 'Open connections from one client address (the socket address: behind a proxy, the proxy) at most. 0: no cap. Read at start.',
          },
        },
      },
    },
    modules: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'id', 'config'],
        properties: {
          name: { const: 'com.phenixidentity~phenix-api-authenticate' },
          id: { type: 'string', minLength: 1 },
          config: {
            type: 'object',
            additionalProperties: false,
            required: ['http_configuration_ref', 'tenant'],
            properties: {
              http_configuration_ref: { type: 'string', minLength: 1 },
              tenant: {
                type: 'array',
                minItems: 1,
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['id', 'allowedOperation'],
                  properties: {
                    id: { type: 'string', pattern: TENANT_PATTERN },
                    displayName: { type: 'string' },
                    allowedOperation: {
                      type: 'array',
                      uniqueItems: true,
                      items: { type: 'string', pattern: OPERATION_PATTERN },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
    pipes: { type: 'string', minLength: 1, description: 'Folder of pipe files, one per pipe, named <id>.json; relative to this file.' },
    directory: { type: 'string', minLength: 1, description: 'The directory file (tills, stores, users, API clients per tenant); relative to this file. Absent: an empty directory.' },
    access_groups: { type: 'string', minLength: 1, description: 'The access-groups file (custom groups and the default group per tenant); relative to this file. Absent: built-in groups only, no default.' },
    store: {
      description: 'Where shared state lives. REDIS_URL in the environment overrides this and selects redis.',
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { enum: ['memory', 'redis'], description: 'memory: one process only. redis: shared by every process (needed for --workers > 1).' },
        url: { type: 'string', pattern: '^rediss?://', description: 'redis://[user:password@]host:port[/db]; rediss:// for TLS. Default redis://127.0.0.1:6379.' },
        sentinels: { ...REDIS_NODES, description: 'Sentinel addresses; the master is looked up by sentinel_master.' },
        sentinel_master: { type: 'string', minLength: 1, description: 'The master name the sentinels monitor.' },
        sentinel_password: { type: 'string', description: 'Password of the sentinels themselves (use ${env:NAME}).' },
        cluster: { ...REDIS_NODES, description: 'Seed nodes of a Redis Cluster; the rest is discovered.' },
        username: { type: 'string', minLength: 1 },
        password: { type: 'string', description: 'Use ${env:NAME} or ${file:path}; a password in the url wins.' },
        db: { type: 'integer', minimum: 0, maximum: 65535 },
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
        command_timeout_ms: { type: 'integer', minimum: 10, maximum: 60000, default: 500, description: 'The longest a store operation may take; then the call fails with COMMUNICATION_ERROR (500).' },
        connect_timeout_ms: { type: 'integer', minimum: 100, maximum: 60000, default: 2000 },
        max_counters: {
          type: 'integer',
          minimum: 100,
          maximum: 100000000,
          default: 200000,
          description: 'memory: the most counters (lockout, rate limits) kept at once. When full, expired and zeroed counters are evicted; if none is, a new counter is refused (RATE_LIMITED): fail closed, never forgetting a live count.',
        },
      },
      dependentRequired: { sentinels: ['sentinel_master'], sentinel_master: ['sentinels'], sentinel_password: ['sentinels'] },
      default: { type: 'memory' },
    },
    ...adminSchemaProperties,
    management: managementSchema,
    tokens: {
      description: 'Token signing and verification (token-mint, token-verify, token-refresh, token-revoke, /.well-known/jwks.json).',
      type: 'object',
      additionalProperties: false,
      required: ['issuer', 'audience'],
      properties: {
        keys_dir: {
          type: 'string',
          minLength: 1,
          default: '../var/keys',
          description: 'Folder of private JWK files (mode 0600), relative to this file. Empty: a key is generated at first start. The newest key signs; all are published.',
        },
        issuer: { type: 'string', minLength: 1, description: 'The iss claim of every token, e.g. https://auth.example.com.' },
        audience: { type: 'string', minLength: 1, description: 'The aud claim of access tokens unless a valve sets its own.' },
        algorithm: { enum: ['ES256', 'EdDSA', 'RS256', 'PS256'], default: 'ES256', description: 'Algorithm of generated keys. Each key file names its own alg.' },
        clock_tolerance: { type: 'integer', minimum: 0, maximum: 300, default: 5, description: 'Seconds of clock skew forgiven on exp, nbf and iat.' },
        activation_delay_seconds: {
          type: 'integer',
          minimum: 0,
          maximum: 2592000,
          default: 600,
          description: 'How long a key written by `authpipe keys rotate` is only published before it signs (at least the JWKS max-age of 300 s, so relying parties with a cached JWKS know it first). `authpipe keys activate <kid>` ends the wait.',
        },
      },
    },
    ldap: ldapSchema,
    password_checks: {
      type: 'object',
      additionalProperties: false,
      description: 'The budget and the failure floor of cold password checks (read at start only).',
      properties: {
        concurrency: { type: 'integer', minimum: 1, maximum: 256, description: 'Cold checks that may run at once; default the number of cores.' },
        queue: { type: 'integer', minimum: 0, maximum: 10000, description: 'Cold checks that may wait for a slot; beyond, RATE_LIMITED at once. Default 4 x concurrency.' },
        failure_floor_ms: { type: 'integer', minimum: 0, maximum: 60000, default: 0, description: 'Every refusal takes at least this long; the calibrated floor applies when it is larger.' },
        floor_margin: { type: 'number', minimum: 1, maximum: 10, default: 1.25, description: 'The calibrated floor: this times the wall time of the dearest hash profile, measured at start.' },
      },
    },
    oidc: oidcSchema,
    log: {
      type: 'object',
      additionalProperties: false,
      properties: {
        level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
      },
    },
  },
} as const;

export interface HttpConfiguration {
  id: string;
  host?: string;
  port?: number;
  trusted_proxies?: string[];
  max_body_bytes?: number;
  max_properties?: number;
  max_value_length?: number;
  max_connections?: number;
  max_connections_per_address?: number;
}

export interface TenantConfig {
  id: string;
  displayName?: string;
  allowedOperation: string[];
}

export interface ModuleConfig {
  name: string;
  id: string;
  config: { http_configuration_ref: string; tenant: TenantConfig[] };
}

export interface MainConfig extends AdminConfig {
  http_configuration: HttpConfiguration[];
  modules: ModuleConfig[];
  pipes: string;
  directory?: string;
  access_groups?: string;
  store?: StoreConfig;
  log?: { level?: string };
  tokens?: TokensConfig;
  ldap?: LdapConnectionConfig[];
  password_checks?: { concurrency?: number; queue?: number; failure_floor_ms?: number; floor_margin?: number };
  oidc?: OidcConfig;
  management?: ManagementConfig;
}

export interface TokensConfig {
  keys_dir?: string;
  issuer: string;
  audience: string;
  algorithm?: 'ES256' | 'EdDSA' | 'RS256' | 'PS256';
  clock_tolerance?: number;
  activation_delay_seconds?: number;
}

export interface StoreConfig {
  type: 'memory' | 'redis';
  url?: string;
  sentinels?: { host: string; port: number }[];
  sentinel_master?: string;
  sentinel_password?: string;
  cluster?: { host: string; port: number }[];
  username?: string;
  password?: string;
  db?: number;
  tls?: boolean | { ca_file?: string; cert_file?: string; key_file?: string; servername?: string; reject_unauthorized?: boolean };
  command_timeout_ms?: number;
  connect_timeout_ms?: number;
  max_counters?: number;
}
