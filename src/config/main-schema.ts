/**
 * The JSON Schema of the main file, config/authpipe.json: the core (listeners, tenant
 * modules, the pipes folder, the log level) plus the sections of every feature registered
 * in src/features.ts. The tenant module keeps the shape and names of the PhenixID tenant
 * module (name, id, config.http_configuration_ref, config.tenant[] of {id, displayName,
 * allowedOperation[]}). `authpipe schemas` writes the whole schema to schemas/.
 */
import type { ConfigOf } from '../engine/valve.js';
import { features } from '../features.js';
import { OPERATION_PATTERN, TENANT_PATTERN } from '../config-kit/patterns.js';
import { connectionProperties } from './connection-schema.js';

const coreSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://authpipe.dev/schemas/authpipe.schema.json',
  title: 'authpipe main configuration',
  type: 'object',
  additionalProperties: false,
  required: ['http_configuration', 'modules', 'pipes'],
  properties: {
    $schema: { type: 'string', description: 'Path or URL of this JSON Schema, for editors; ignored by the loader.' },
    http_configuration: {
      description: 'HTTP listeners; a module names the one it is served on by id.',
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id'],
        properties: {
          id: {
            type: 'string',
            minLength: 1,
            description: 'Name of this listener, unique in the file; modules refer to it by http_configuration_ref.',
          },
          host: { type: 'string', default: '127.0.0.1', description: 'Overridden by the HOST environment variable.' },
          port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: 'Overridden by the PORT environment variable.' },
          trusted_proxies: {
            description: 'Addresses or CIDR ranges whose X-Forwarded-For is honoured. Empty: never.',
            type: 'array',
            items: { type: 'string', minLength: 1 },
            default: [],
          },
          max_body_bytes: {
            type: 'integer',
            minimum: 2,
            maximum: 1048576,
            default: 16384,
            description:
              'Largest request body, in bytes, an authentication call may send; a larger one is refused with PAYLOAD_TOO_LARGE before it is parsed.',
          },
          max_properties: {
            type: 'integer',
            minimum: 1,
            maximum: 10000,
            default: 100,
            description: 'Most properties one authentication request body may hold; more are refused as INVALID_REQUEST.',
          },
          max_value_length: {
            type: 'integer',
            minimum: 1,
            maximum: 1048576,
            default: 8192,
            description: 'Longest value, in characters, of one request property; a longer one is refused as INVALID_REQUEST.',
          },
          ...connectionProperties,
        },
      },
    },
    modules: {
      description: 'Tenant modules: each serves its tenants and their operations on one listener.',
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'id', 'config'],
        properties: {
          name: { const: 'com.phenixidentity~phenix-api-authenticate', description: 'The module type; the tenant module is the only one.' },
          id: { type: 'string', minLength: 1, description: 'Name of this module, for people reading the file.' },
          config: {
            description: 'Where the module is served and which tenants it holds.',
            type: 'object',
            additionalProperties: false,
            required: ['http_configuration_ref', 'tenant'],
            properties: {
              http_configuration_ref: {
                type: 'string',
                minLength: 1,
                description: 'The id of the http_configuration entry (listener) that serves these tenants.',
              },
              tenant: {
                description: 'The tenants served; a tenant id may appear once per listener.',
                type: 'array',
                minItems: 1,
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['id', 'allowedOperation'],
                  properties: {
                    id: {
                      type: 'string',
                      pattern: TENANT_PATTERN,
                      description: 'The tenant id, as it appears in the request path and in issued tokens.',
                    },
                    displayName: { type: 'string', description: 'Name shown to people (admin overview, OIDC login page); absent: the id.' },
                    allowedOperation: {
                      description: 'Operations this tenant may call; each needs a pipe file of the same name in the pipes folder.',
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
    log: {
      description: 'Logging.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: {
          enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
          default: 'info',
          description: 'Overridden by the LOG_LEVEL environment variable.',
        },
      },
    },
  },
} as const;

/**
 * The main file's sections that features own, each declared by its feature file through
 * declaration merging (see src/config/feature.ts), so this file names no feature.
 * @public features augment it, which knip does not count as a use
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface FeatureSections {}

/** The main file as the loader hands it on: validated, with every schema default applied. */
export type MainConfig = ConfigOf<typeof coreSchema> & FeatureSections;

export type HttpConfiguration = MainConfig['http_configuration'][number];

function withFeatureSections(): typeof coreSchema {
  const properties: Record<string, unknown> = { ...coreSchema.properties };
  for (const feature of features) {
    for (const [section, schema] of Object.entries(feature.sections)) {
      if (section in properties) throw new Error(`main-file section "${section}" of feature ${feature.name} is already taken`);
      properties[section] = schema;
    }
  }
  return { ...coreSchema, properties } as typeof coreSchema;
}

export const mainSchema = withFeatureSections();
