/**
 * The `ldap` section of the main file: LDAP connections defined once and referenced by id
 * from idp-lookup valves (source "ldap"), so a URL or a service password lives in one place.
 */
import type { ConfigOf } from '../engine/valve.js';

export const ldapSchema = {
  description: 'LDAP connections; an idp-lookup valve with source "ldap" names one by id.',
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'url'],
    properties: {
      id: {
        type: 'string',
        pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
        description: 'Name of this connection; idp-lookup valves name it in `connection`.',
      },
      url: { type: 'string', pattern: '^ldaps?://[^/?#\\s]+/?$', description: 'ldap://host:port or ldaps://host:port.' },
      bind_dn: { type: 'string', minLength: 1, description: 'Service account used for searches; absent: anonymous searches.' },
      bind_password: { type: 'string', description: 'Use ${env:NAME} or ${file:path}; never inline.' },
      tls: {
        type: 'object',
        additionalProperties: false,
        description: 'TLS options; they need an ldaps:// URL or start_tls.',
        properties: {
          start_tls: { type: 'boolean', default: false, description: 'Upgrade an ldap:// connection with StartTLS before binding.' },
          ca_file: { type: 'string', minLength: 1, description: 'PEM CA bundle to trust, relative to this file.' },
          reject_unauthorized: { type: 'boolean', default: true, description: 'false disables certificate checks: tests only.' },
          server_name: { type: 'string', minLength: 1, description: 'Name the certificate must carry, when not the URL host.' },
        },
      },
      connect_timeout_ms: {
        type: 'integer',
        minimum: 50,
        maximum: 60000,
        default: 3000,
        description: 'The longest, in milliseconds, opening a connection (TLS included) may take.',
      },
      timeout_ms: {
        type: 'integer',
        minimum: 50,
        maximum: 60000,
        default: 5000,
        description: 'Bound on each lookup, connecting included.',
      },
      max_bind_connections: {
        type: 'integer',
        minimum: 1,
        maximum: 64,
        default: 4,
        description: 'Connections kept for password checks (bind as the user).',
      },
    },
    dependentRequired: { bind_dn: ['bind_password'], bind_password: ['bind_dn'] },
  },
} as const;

export type LdapConnectionConfig = ConfigOf<typeof ldapSchema>[number];
