/**
 * The JSON Schema of config/directory.json: per tenant, its stores, tills, users and API
 * clients, with the field names of the Directory contract (directory.ts). Cross checks a
 * schema cannot express (a till's store exists, hashes parse, keys are unique) are in load.ts.
 * `authpipe schemas` writes this to schemas/directory.schema.json.
 */
import { OPERATION_PATTERN, TENANT_PATTERN } from '../config-kit/patterns.js';
import type { ConfigOf } from '../engine/valve.js';

const status = {
  enum: ['active', 'disabled'],
  default: 'active',
  description: 'disabled: the entry is refused like an unknown one, while it stays in the file.',
} as const;
const phc = {
  type: 'string',
  minLength: 1,
  description:
    'PHC hash string: $scrypt$… (authpipe hash-password), or an imported $argon2id$… or bcrypt $2b$… hash. Never a plain password.',
} as const;
const accessGroup = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  description: 'Id of the access group (built-in or in access-groups.json) that grants its scope; absent: the tenant default group.',
} as const;
/** A user pool id (oidc): lower-case, as it appears in tokens (`pool` claim). */
export const POOL_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';
/** An absolute http(s) URI without a fragment, compared exactly. */
const REDIRECT_URI = { type: 'string', minLength: 1, maxLength: 2048, pattern: '^https?://[^\\s#]+$' } as const;
const name = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f:]+$' } as const;

export const directorySchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://authpipe.dev/schemas/directory.schema.json',
  title: 'authpipe directory (tills, stores, users, API clients per tenant)',
  type: 'object',
  additionalProperties: false,
  required: ['tenants'],
  properties: {
    $schema: { type: 'string', description: 'Path or URL of this JSON Schema, for editors; ignored by the loader.' },
    tenants: {
      description: 'Identity data per tenant id; an entry of one tenant is never found through another.',
      type: 'object',
      propertyNames: { pattern: TENANT_PATTERN },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          stores: {
            description: 'The stores (shops) of the tenant; tills belong to one, and get their access group through it.',
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['id', 'name'],
              properties: {
                id: {
                  type: 'string',
                  minLength: 1,
                  maxLength: 128,
                  description: 'Store id, unique in the tenant; tills and admin allocations refer to it.',
                },
                name: { type: 'string', minLength: 1, description: 'Name shown to people (admin API, console).' },
                access_group: {
                  ...accessGroup,
                  description: 'The access group the store is allocated to; absent means the tenant default.',
                },
                manager: {
                  type: 'string',
                  minLength: 1,
                  maxLength: 128,
                  description:
                    "Id of the user of the same tenant who manages the store (otp-issue user_by store_manager sends them the store's approval codes).",
                },
              },
            },
          },
          tills: {
            description: 'Point-of-sale tills that sign in with basic-auth kind till.',
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['username', 'password_hash', 'store'],
              properties: {
                username: { ...name, description: 'The till code; no colon (Basic credentials split at the first one).' },
                password_hash: phc,
                store: { type: 'string', minLength: 1, description: 'Id of a store of the same tenant.' },
                status,
              },
            },
          },
          users: {
            description:
              'People: looked up by idp-lookup source directory, checked by basic-auth kind user, OTP and TOTP valves, and the hosted login.',
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['id'],
              properties: {
                id: {
                  type: 'string',
                  minLength: 1,
                  maxLength: 128,
                  description: 'User id, unique in the tenant; the subject (sub) of tokens issued for the user.',
                },
                username: { ...name, description: 'Sign-in name, unique in the tenant; no colon.' },
                mobile: { type: 'string', pattern: '^\\+[1-9][0-9]{6,14}$', description: 'E.164, e.g. +15550000001.' },
                email: { type: 'string', format: 'email', description: 'Email address; a lookup key and the recipient of email OTPs.' },
                email_verified: {
                  type: 'boolean',
                  default: false,
                  description: "The address is known to be the user's (the OpenID Connect `email_verified` claim); false unless set.",
                },
                status,
                attributes: {
                  type: 'object',
                  additionalProperties: { type: 'string' },
                  description: 'Extra string attributes returned by lookups (givenName, …).',
                },
                totp_secret: {
                  type: 'string',
                  pattern: '^[A-Z2-7]{16,}=*$',
                  description: 'Base32 TOTP secret; use ${env:NAME} or ${file:path}, never inline.',
                },
                access_group: accessGroup,
                name: { type: 'string', minLength: 1, maxLength: 256, description: 'Full name, the OpenID Connect `name` claim.' },
                password_hash: { ...phc, description: "PHC hash of the user's password (basic-auth kind user, the hosted login)." },
                pools: {
                  type: 'array',
                  uniqueItems: true,
                  items: { type: 'string', pattern: POOL_PATTERN },
                  description: 'User pools (oidc) the user may sign in to; absent: every pool of the tenant.',
                },
              },
            },
          },
          clients: {
            description: 'API clients: servers (sysapp) and apps that sign users in (userapp).',
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['client_id'],
              properties: {
                client_id: {
                  ...name,
                  description: 'Client id, unique in the tenant; no colon (Basic credentials split at the first one).',
                },
                type: {
                  enum: ['sysapp', 'userapp'],
                  default: 'sysapp',
                  description:
                    'sysapp: a server (client credentials, basic-auth). userapp: an app that signs users in (authorization code with PKCE).',
                },
                secret_hash: {
                  ...phc,
                  description:
                    'PHC hash of the client secret. Required for a sysapp; a userapp without one is public (no secret, PKCE required).',
                },
                scopes: {
                  type: 'array',
                  uniqueItems: true,
                  items: { type: 'string', pattern: '^[!#-\\[\\]-~]+$' },
                  default: [],
                  description: 'Scopes basic-auth kind client puts on the item, joined by spaces, as `scope`.',
                },
                status,
                access_group: accessGroup,
                resource_server: {
                  type: 'boolean',
                  default: false,
                  description:
                    'An API gateway or resource server: may introspect every token of the tenant at the OpenID front door. Other clients introspect only tokens issued to them (others answer active: false). Needs secret_hash.',
                },
                token_exchange: {
                  type: 'string',
                  pattern: OPERATION_PATTERN,
                  description:
                    "RFC 8693 token exchange at the OpenID front door's token endpoint: the pipe (operation id) that trades the posted subject_token (request properties subject_token, subject_token_type and client_id) for our access token, e.g. with external-token and token-mint. Absent: the client may not exchange tokens (unauthorized_client). Needs secret_hash.",
                },
                redirect_uris: {
                  type: 'array',
                  minItems: 1,
                  uniqueItems: true,
                  items: REDIRECT_URI,
                  description: 'userapp: the exact redirect URIs (no wildcard, no fragment).',
                },
                post_logout_redirect_uris: {
                  type: 'array',
                  uniqueItems: true,
                  items: REDIRECT_URI,
                  description: 'userapp: the exact URIs end_session may return to (default none).',
                },
                pool: {
                  type: 'string',
                  pattern: POOL_PATTERN,
                  description: 'userapp: the user pool it signs users in to; apps of one pool share single sign-on.',
                },
                require_pkce: {
                  type: 'boolean',
                  description:
                    'userapp: false lets a confidential client (a backend-for-frontend with a secret) skip PKCE. A public client always needs PKCE S256. Default true.',
                },
                id_token_signed_response_alg: {
                  enum: ['RS256', 'ES256'],
                  description:
                    'userapp: the algorithm of its id_tokens at the OpenID front door (OpenID Connect Dynamic Client Registration names it so). Default RS256, what relying parties expect; every tenant holds a key of each.',
                },
                access_token_signed_response_alg: {
                  enum: ['RS256', 'ES256'],
                  description:
                    'The algorithm of its access tokens from the OpenID front door. Default: tokens.algorithm of the main file, as PUT-minted tokens.',
                },
                backchannel_logout_uri: {
                  ...REDIRECT_URI,
                  description:
                    'userapp: where the OpenID front door POSTs a logout token (OpenID Connect Back-Channel Logout 1.0, with `sid`) when the user signs out, so the app ends its own session. Its host and port must be on outbound.allow of the main file.',
                },
                jwks: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['keys'],
                  properties: {
                    keys: {
                      type: 'array',
                      minItems: 1,
                      maxItems: 10,
                      description: 'The public JWKs, each with its own members (kid, alg, use, …) as RFC 7517 names them.',
                      items: {
                        type: 'object',
                        required: ['kty'],
                        properties: { kty: { enum: ['RSA', 'EC', 'OKP'], description: 'The key type (RFC 7518): RSA, EC or OKP.' } },
                      },
                    },
                  },
                  description:
                    'The public keys (a JWK Set) the client signs its client assertions with: it authenticates with private_key_jwt (RFC 7523) instead of a secret. Not with secret_hash or jwks_uri; private key members (d, p, q, …) are refused.',
                },
                jwks_uri: {
                  ...REDIRECT_URI,
                  description:
                    'Where the client publishes its public keys for private_key_jwt, fetched when needed (at least a minute apart, longer when its Cache-Control says). Its host and port must be on outbound.allow of the main file. Not with secret_hash or jwks.',
                },
                dpop_bound_access_tokens: {
                  type: 'boolean',
                  description:
                    'Its access tokens must be sender-constrained with DPoP (RFC 9449): the token endpoint refuses a request without a DPoP proof, and the tokens carry cnf.jkt, which token-verify and introspection check. Default false.',
                },
                require_pushed_authorization_requests: {
                  type: 'boolean',
                  description:
                    'userapp: its authorization requests must first be pushed (RFC 9126, the pushed_authorization_request_endpoint); a plain request to the authorization endpoint is refused. Default false (pushing is always allowed).',
                },
                device_authorization: {
                  type: 'boolean',
                  description:
                    'userapp: may use the device authorization grant (RFC 8628), for in-store displays and handhelds: the device shows a code, the user enters it on the hosted login. Default false.',
                },
              },
              // A sysapp must not carry the userapp settings, so their defaults apply to userapps only.
              allOf: [
                {
                  if: { properties: { type: { const: 'userapp' } }, required: ['type'] },
                  then: {
                    properties: {
                      post_logout_redirect_uris: { default: [] },
                      require_pkce: { default: true },
                      id_token_signed_response_alg: { default: 'RS256' },
                    },
                  },
                },
              ],
            },
          },
        },
      },
    },
  },
} as const;

/** The file as loaded: validated, with the schema's defaults applied (status, scopes, type). */
export type DirectoryFile = ConfigOf<typeof directorySchema>;
