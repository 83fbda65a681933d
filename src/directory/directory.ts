/**
 * The embedded identity data (config/directory.json), per tenant: a till of `acme` cannot be
 * found through `demo`. This file is the contract valves code against; the loader that
 * builds it from the file lives beside it.
 */
type Status = 'active' | 'disabled';

export interface DirectoryStore {
  readonly id: string;
  readonly name: string;
  /** The access group the store is allocated to; absent means the tenant default. */
  readonly access_group?: string;
  /** Id of the user (same tenant) who manages the store and approves for its tills. */
  readonly manager?: string;
}

export interface DirectoryTill {
  readonly username: string;
  /** PHC string: $scrypt$…, $argon2id$…, or a bcrypt $2b$… hash. */
  readonly password_hash: string;
  readonly store: string;
  readonly status: Status;
}

export interface DirectoryUser {
  readonly id: string;
  readonly username?: string;
  readonly mobile?: string;
  readonly email?: string;
  /** The directory vouches for `email` (the OpenID Connect `email_verified` claim; false when absent). */
  readonly email_verified?: boolean;
  readonly status?: Status;
  /** Extra string attributes returned by lookups (givenName, …). */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Base32 TOTP secret, for totp-verify. */
  readonly totp_secret?: string;
  readonly access_group?: string;
  /** Full name (the OpenID Connect `name` claim). */
  readonly name?: string;
  /** PHC string of the user's password (basic-auth kind user). */
  readonly password_hash?: string;
  /** User pools the user may sign in to (oidc); absent: every pool. */
  readonly pools?: readonly string[];
}

export interface DirectoryClient {
  readonly client_id: string;
  /** sysapp: a server (client credentials); userapp: signs users in (authorization code). */
  readonly type: 'sysapp' | 'userapp';
  /** PHC string; absent for a public userapp or a client with private_key_jwt keys. */
  readonly secret_hash?: string;
  readonly scopes: readonly string[];
  readonly status: Status;
  readonly access_group?: string;
  /** May introspect every token of the tenant (an API gateway); needs a secret. */
  readonly resource_server?: boolean;
  /** The pipe that answers its RFC 8693 token exchanges at the token endpoint; absent: none allowed. */
  readonly token_exchange?: string;
  readonly redirect_uris: readonly string[];
  readonly post_logout_redirect_uris: readonly string[];
  /** userapp: its user pool. */
  readonly pool?: string;
  /** userapp: false only for a confidential client allowed to skip PKCE. */
  readonly require_pkce: boolean;
  /** userapp: the algorithm of its id_tokens. */
  readonly id_token_signed_response_alg?: 'RS256' | 'ES256';
  /** The algorithm of its front-door access tokens; absent: tokens.algorithm. */
  readonly access_token_signed_response_alg?: 'RS256' | 'ES256';
  /** userapp: where the front door POSTs a logout token when the user signs out (Back-Channel Logout). */
  readonly backchannel_logout_uri?: string;
  /** Public keys of its private_key_jwt client assertions (instead of a secret). */
  readonly jwks?: { readonly keys: readonly Readonly<Record<string, unknown>>[] };
  /** Where its private_key_jwt keys are published (instead of a secret). */
  readonly jwks_uri?: string;
  /** Its access tokens are DPoP-bound (RFC 9449). */
  readonly dpop_bound_access_tokens?: boolean;
  /** userapp: authorization requests must be pushed first (RFC 9126). */
  readonly require_pushed_authorization_requests?: boolean;
  /** userapp: may use the device authorization grant (RFC 8628). */
  readonly device_authorization?: boolean;
}

export type UserKey = 'id' | 'username' | 'mobile' | 'email';

export interface Directory {
  till(tenant: string, username: string): DirectoryTill | undefined;
  client(tenant: string, clientId: string): DirectoryClient | undefined;
  user(tenant: string, by: UserKey, value: string): DirectoryUser | undefined;
  store(tenant: string, id: string): DirectoryStore | undefined;
  stores(tenant: string): readonly DirectoryStore[];
  /** Every API client and app of the tenant (the OpenID Connect front door registers them). */
  clients(tenant: string): readonly DirectoryClient[];
}

/** How a pipe may find a user: by one of the user's own keys, or as a store's manager (by store id). */
export type UserLookup = UserKey | 'store_manager';

export function findUser(directory: Directory, tenant: string, by: UserLookup, value: string): DirectoryUser | undefined {
  if (by !== 'store_manager') return directory.user(tenant, by, value);
  const manager = directory.store(tenant, value)?.manager;
  return manager === undefined ? undefined : directory.user(tenant, 'id', manager);
}
