/**
 * One oidc-provider per tenant, built from a loaded config: its issuer is the tenant's (the
 * token service's), its keystore the tenant's signing keys (the signing key of each algorithm
 * first, so it signs; keys published ahead of activation follow), its clients the tenant's
 * directory clients, its storage our store, its accounts the directory's users. id_tokens are
 * signed with the client's `id_token_signed_response_alg` (RS256 unless it chooses ES256).
 * Access tokens are RFC 9068 JWTs for the tenant's audience, signed by the same keys as
 * PUT-minted tokens (in the client's `access_token_signed_response_alg`, else the configured
 * algorithm) and carrying the same
 * private claims (`tenant`, `kind`, `access_group` or `pool`), and a user's `amr` and `acr`
 * from the hosted login's steps, in the id_token too.
 */
import { randomBytes } from 'node:crypto';
import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { AccessGroups } from '../access-groups/groups.js';
import type { Directory } from '../directory/directory.js';
import type { Store } from '../store/store.js';
import type { TokenService } from '../tokens/service.js';
import { storeAdapter } from './adapter.js';
import { CredentialAccounts } from '../directory/accounts.js';
import { findAccount } from '../accounts/registry.js';
import type { PendingInteractions } from './pending.js';
import { clientMetadata, guardClientAuthentication, tenantClientMetadata } from './clients.js';
import { acceptOurAccessTokens } from './access-tokens.js';
import { conformanceHooks } from './conformance.js';
import { ACCOUNT_CLIENT, accountClientMetadata } from './account-sign-in.js';
import { allowConsoleOrigins, consoleOrigin, type ConsoleClient } from './console-client.js';
import type { OidcPoolConfig } from './schema.js';
import type { HostedUi } from './hosted-ui.js';
import { readFederatedAccount } from './federated-accounts.js';
import { providerPages } from './provider-pages.js';
import { fastClientCredentials, registerFastGrant } from './client-credentials-fast.js';
import type { OutboundPolicy } from '../outbound/policy.js';
import { outboundHttpOptions } from './outbound-calls.js';
import { DEVICE_CODE_TTL_SECONDS, deviceFlowFeature, paceDevicePolling } from './device-flow.js';

/** Lifetimes, seconds: system tokens 10 minutes and user tokens 30 (system tokens serve servers and tills; user tokens a person's session). */
export const TTL = {
  ClientCredentials: 600,
  AccessToken: 1800,
  IdToken: 1800,
  AuthorizationCode: 60,
  Interaction: 600,
  Session: 24 * 3600,
  Grant: 30 * 24 * 3600,
  RefreshToken: 30 * 24 * 3600,
  DeviceCode: DEVICE_CODE_TTL_SECONDS,
} as const;

/** OpenID scopes a userapp may ask for, besides what its access group grants. */
const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'phone'] as const;

export interface TenantOidcOptions {
  tenant: string;
  issuer: string;
  /** Where the provider is mounted on our express app, e.g. `/oidc/demo`. */
  mountPath: string;
  pools: Readonly<Record<string, OidcPoolConfig>>;
  directory: Directory;
  accessGroups: AccessGroups | undefined;
  tokens: TokenService;
  /** The tenant's prefixed store. */
  store: Store;
  cookieKeys: readonly string[];
  /** Honour X-Forwarded-Proto (trusted proxies are configured). */
  proxy: boolean;
  clockTolerance: number;
  /** The console's client and the management listener's names it may come back to. */
  console?: ConsoleClient;
  /** Counts the tenant's pending sign-ins (Interaction records), for the cap at /auth. */
  pending?: PendingInteractions;
  /** Seconds in which a used refresh token may be used again (`oidc.refresh_grace_seconds`). */
  refreshGraceSeconds?: number;
  /** The hosted login's templates, for the provider's own pages (sign out, errors). */
  ui: HostedUi;
  /** The tenant's display name, on those pages. */
  displayName: string;
  /** Where the provider may call (clients' jwks_uri, back-channel logout); absent: nowhere. */
  outbound?: OutboundPolicy;
  /** The pool of the account page's own sign-in (`account.pool`): its built-in client is registered. */
  accountPool?: string;
}

/** A random cookie key per process, for configs that set none (sessions end at restart). */
let processCookieKey: string | undefined;
export function defaultCookieKeys(): string[] {
  processCookieKey ??= randomBytes(32).toString('base64url');
  return [processCookieKey];
}

export function createTenantProvider(options: TenantOidcOptions): Provider {
  const { tenant, directory, accessGroups, tokens } = options;
  const audience = tokens.audienceOf(tenant);
  const keys = tokens.keysOf(tenant);
  if (!keys) throw new Error(`no signing keys for tenant ${tenant}`);
  const signers = new Set(keys.signers.values());
  /** The key that signs access tokens of `alg` (the configured algorithm's when the set holds none of it). */
  const accessSigner = (alg: string | undefined) => [...signers].find((k) => k.alg === alg) ?? keys.signing;
  const clients = directory.clients(tenant);
  const clientById = new Map(clients.map((c) => [c.client_id, c]));
  const registered = clients.filter((c) => c.status === 'active').map(clientMetadata);
  // The tenant itself, for PUT-minted user tokens naming no client (unless an app has its id).
  if (!clientById.has(tenant)) registered.push(tenantClientMetadata(tenant));
  // The account page's own client (account-sign-in.ts), unless a directory app has its id (check.ts says so).
  const accountPool = options.accountPool !== undefined && !clientById.has(ACCOUNT_CLIENT) ? options.accountPool : undefined;
  if (accountPool !== undefined) registered.push(accountClientMetadata(options.issuer));
  const poolOf = (clientId: string) => (clientId === ACCOUNT_CLIENT ? accountPool : clientById.get(clientId)?.pool);

  /** The access group's scope of a sysapp, as the PUT client-login pipe gives it. */
  const groupOf = (clientId: string) => {
    const resolved = accessGroups?.resolve(directory, tenant, { kind: 'client', sub: clientId });
    return resolved?.ok ? resolved.group : undefined;
  };

  const pages = providerPages(options.ui, { id: tenant, displayName: options.displayName });
  const policy = interactionPolicy.base();
  // Single sign-on is per user pool: a session whose logins were all for apps of other pools
  // must log in again for this one (a fresh login in this very interaction counts).
  policy.get('login')?.checks.add(
    new interactionPolicy.Check('pool_login', 'login to this user pool is required', (ctx: KoaContextWithOIDC) => {
      const { session, client, result } = ctx.oidc;
      if (!session?.accountId || result?.login) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const pool = poolOf(client?.clientId ?? '');
      // The session holds an entry per client it has seen; only those granted count as a login.
      for (const [clientId, authorization] of Object.entries(session.authorizations ?? {})) {
        if (authorization.grantId && poolOf(clientId) === pool) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      }
      return interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );

  // Scoped to this tenant's door: another tenant's provider neither reads nor ends this session.
  const cookie = { httpOnly: true, sameSite: 'lax' as const, signed: true, overwrite: true, path: options.mountPath };
  const configuration: Configuration = {
    // An ended grant's access tokens are refused for as long as any of them can live.
    adapter: storeAdapter(options.store, (TTL.AccessToken + options.clockTolerance) * 1000, options.pending),
    clients: registered,
    // The signing key of each algorithm first: oidc-provider signs with the first key of the algorithm.
    jwks: {
      keys: [...signers, ...keys.keys.filter((k) => !signers.has(k))].map((k) => ({
        ...(k.privateKey.export({ format: 'jwk' }) as object),
        kid: k.kid,
        alg: k.alg,
        use: 'sig',
      })) as never,
    },
    async findAccount(_ctx, id) {
      // The directory file's users, then self-service accounts (sign-up) in the tenant's store, then federated ones.
      const user = (await findAccount(directory, options.store, tenant, 'directory+store', 'id', id))?.user;
      if (!user) return federatedAccount(options.store, id);
      if (user.status === 'disabled') return undefined;
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            ...(user.username !== undefined ? { preferred_username: user.username } : {}),
            ...(user.name !== undefined ? { name: user.name } : {}),
            // Verified only when the directory says so: an address typed in is not proven by it.
            ...(user.email !== undefined ? { email: user.email, email_verified: user.email_verified === true } : {}),
            ...(user.mobile !== undefined ? { phone_number: user.mobile } : {}),
          };
        },
      };
    },
    // amr and acr with sub: the id_token says how the user signed in, when the login said (login.ts).
    claims: {
      openid: ['sub', 'amr', 'acr'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      phone: ['phone_number'],
    },
    scopes: [...OIDC_SCOPES],
    // private_key_jwt for clients with keys (jwks, jwks_uri) instead of a secret; never client_secret_jwt (the secret is a hash here).
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    // The provider's own calls (a client's jwks_uri, a back-channel logout) go only where outbound.allow says.
    httpOptions: outboundHttpOptions(options.outbound),
    // RS256 unless the client chooses: OpenID Connect Core's default, what relying parties expect.
    clientDefaults: { id_token_signed_response_alg: 'RS256', grant_types: ['authorization_code'], response_types: ['code'] },
    enabledJWA: { idTokenSigningAlgValues: [...keys.algorithms] },
    responseTypes: ['code'],
    allowOmittingSingleRegisteredRedirectUri: false,
    pkce: {
      methods: ['S256'],
      required: (_ctx, client) => clientById.get(client.clientId)?.require_pkce !== false,
    },
    // A browser app (the console) trades its code from its own origin: allowed for a public
    // client when the origin is one of its redirect URIs' (oidc-provider 9's default), refused otherwise.
    clientBasedCORS(_ctx, origin, client) {
      if (client.clientAuthMethod !== 'none') return false;
      if (consoleOrigin(options.console, client.clientId, origin)) return true;
      return (client.redirectUris ?? []).some((uri) => {
        try {
          return new URL(uri).origin === origin;
        } catch {
          return false;
        }
      });
    },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    cookies: { keys: [...options.cookieKeys], long: cookie, short: cookie },
    clockTolerance: options.clockTolerance,
    ttl: {
      ...TTL,
      // A sign-in with "Remember me" (not transient) lives, and its cookie persists, for its pool's
      // remember_me.session_ttl; any other is a browser-session cookie over the default day.
      Session: (ctx, session) => {
        if (session.transient) return TTL.Session;
        let ttl = 0;
        for (const clientId of [ctx?.oidc?.client?.clientId, ...Object.keys(session.authorizations ?? {})]) {
          const pool = clientId === undefined ? undefined : poolOf(clientId);
          const remember = pool === undefined ? undefined : options.pools[pool]?.remember_me;
          if (remember?.enabled) ttl = Math.max(ttl, remember.session_ttl);
        }
        return ttl > 0 ? ttl : TTL.Session;
      },
    },
    interactions: { policy, url: (_ctx, interaction) => `${options.mountPath}/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // A token is introspected by the client it was issued to, or by a confidential client the
        // directory names a resource server (an API gateway); anyone else learns only active: false.
        allowedPolicy: (_ctx, caller, token) =>
          token.clientId === caller.clientId ||
          (caller.clientAuthMethod !== 'none' && clientById.get(caller.clientId)?.resource_server === true),
      },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      // RFC 9449: a proof at the token endpoint binds the tokens to its key (cnf.jkt); a client
      // whose directory entry says dpop_bound_access_tokens must send one. Proof jtis are kept (no replay).
      dPoP: { enabled: true, allowReplay: false },
      // RFC 8628 for userapps whose directory entry says device_authorization (device-flow.ts).
      deviceFlow: deviceFlowFeature(pages),
      // RFC 9126: any client may push its authorization request; one whose directory entry says
      // require_pushed_authorization_requests must (its plain requests are refused).
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource(ctx: KoaContextWithOIDC, form: string) {
          ctx.type = 'html';
          ctx.body = pages.logout(ctx, form, hintedBySignedIn(ctx));
        },
        postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
          ctx.type = 'html';
          ctx.body = pages.signedOut(ctx);
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator, client) => {
          if (indicator !== audience) throw new errors.InvalidTarget();
          const sysapp = clientById.get(client.clientId)?.type !== 'userapp';
          return {
            scope: sysapp ? (groupOf(client.clientId)?.scope ?? '') : OIDC_SCOPES.join(' '),
            audience,
            accessTokenTTL: sysapp ? TTL.ClientCredentials : TTL.AccessToken,
            accessTokenFormat: 'jwt',
            jwt: {
              sign: (({ alg, kid }) => ({ alg, kid }))(accessSigner(clientById.get(client.clientId)?.access_token_signed_response_alg)),
            },
          };
        },
      },
    },
    formats: {
      customizers: {
        // The claims our PUT tokens carry, so token-verify and the admin API read both alike.
        jwt(ctx, token, jwt) {
          const payload = jwt.payload as Record<string, unknown>;
          payload.tenant = tenant;
          const client = clientById.get(token.clientId ?? '');
          if (token.kind === 'ClientCredentials') {
            const group = groupOf(token.clientId ?? '');
            // A scope asked for that the group does not hold is refused, not widened to the group.
            const asked = ctx?.oidc.params?.scope;
            if (typeof asked === 'string' && asked !== '') {
              const held = new Set((group?.scope ?? '').split(' '));
              const unknown = asked.split(' ').filter((s) => s !== '' && !held.has(s));
              if (unknown.length > 0) throw new errors.InvalidScope('requested scope is not allowed', unknown.join(' '));
            }
            payload.kind = 'client';
            if (group) payload.access_group = group.id;
            // No scope asked for: the whole group, as the PUT client-login gives.
            if (!token.scope && group?.scope) {
              token.scope = group.scope;
              payload.scope = group.scope;
            }
          } else {
            payload.kind = 'user';
            if (client?.pool) payload.pool = client.pool;
            // The grant, so that userinfo and introspection can tell a revoked login (refresh reuse, logout).
            if (token.grantId) payload.gid = token.grantId;
            // How the user signed in (the hosted login's steps), as the id_token says it: from the
            // code or refresh token this access token is issued for, which carry the login's.
            const login = (ctx.oidc?.entities.AuthorizationCode ?? ctx.oidc?.entities.RefreshToken) as
              { amr?: string[]; acr?: string } | undefined;
            if (login?.amr?.length) payload.amr = login.amr;
            if (login?.acr) payload.acr = login.acr;
          }
          return jwt;
        },
      },
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = pages.error(ctx, out.error, ctx.status);
    },
  } as Configuration;

  const provider = new Provider(options.issuer, configuration);
  provider.proxy = options.proxy;
  // Every access token we mint or the provider signs is for `audience`. Introspection reads the
  // audience off the token object, and the token objects made from our JWTs (access-tokens.ts)
  // carry none, so that userinfo takes them; the introspection answer gets it here, as API
  // gateways check `aud` there (RFC 7662).
  provider.use(async (ctx, next) => {
    await next();
    // The provider's auto-submitting pages (form_post) run one inline script: it gets a nonce
    // of this answer, and the CSP allows that script only (no 'unsafe-inline').
    if (typeof ctx.body === 'string' && ctx.body.includes('<script>')) {
      const nonce = randomBytes(18).toString('base64');
      ctx.body = ctx.body.replaceAll('<script>', `<script nonce="${nonce}">`);
      const csp = ctx.response.get('content-security-policy');
      if (csp) ctx.set('content-security-policy', `${csp}; script-src 'nonce-${nonce}'`);
    }
    const body = ctx.body as { active?: unknown; aud?: unknown; token_type?: unknown } | undefined;
    if (ctx.oidc?.route === 'introspection' && body?.active === true && body.aud === undefined && body.token_type === 'Bearer')
      body.aud = audience;
  });
  const clientAccounts = new CredentialAccounts('client', directory);
  const cachedAuthentication = guardClientAuthentication(provider, tenant, options.store, clientById, () =>
    clientAccounts.dummyHash(tenant),
  );
  registerFastGrant(
    provider,
    fastClientCredentials(
      {
        tenant,
        issuer: options.issuer,
        audience,
        tokens,
        ttl: TTL.ClientCredentials,
        authenticate: cachedAuthentication,
        groupOf: (clientId) => {
          const group = groupOf(clientId);
          return group ? { id: group.id, scope: group.scope } : undefined;
        },
      },
      clients.filter((c) => c.status === 'active').map((c) => ({ directory: c, metadata: clientMetadata(c) as Record<string, unknown> })),
    ),
  );
  if (options.console) allowConsoleOrigins(provider, options.console);
  paceDevicePolling(
    provider,
    options.store,
    clients.some((c) => c.status === 'active' && c.device_authorization === true),
  );
  conformanceHooks(provider, { refreshGraceMs: (options.refreshGraceSeconds ?? 0) * 1000 });
  acceptOurAccessTokens(provider, {
    tenant,
    tokens,
    store: options.store,
    clients: new Set(registered.map((c) => c.client_id)),
    clockTolerance: options.clockTolerance,
  });
  return provider;
}

/**
 * Whether the logout request carries a valid `id_token_hint` (oidc-provider validated it, and its
 * client is the one named) for the account signed in here: the app itself asks to sign this user
 * out, so there is nothing to confirm.
 */
function hintedBySignedIn(ctx: KoaContextWithOIDC): boolean {
  const hint = ctx.oidc.entities.IdTokenHint as { payload?: { sub?: unknown } } | undefined;
  const accountId = ctx.oidc.session?.accountId;
  return hint?.payload?.sub !== undefined && accountId !== undefined && hint.payload.sub === accountId;
}

/** A just-in-time account of an upstream sign-in (federated-accounts.ts): its mapped attributes as claims. */
async function federatedAccount(store: Store, id: string) {
  const account = await readFederatedAccount(store, id);
  if (!account) return undefined;
  const { email, email_verified: verified, name } = account.attributes;
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        ...(name !== undefined ? { name } : {}),
        // As the upstream said at creation: verified only when it said true.
        ...(email !== undefined ? { email, email_verified: verified === 'true' } : {}),
      };
    },
  };
}
