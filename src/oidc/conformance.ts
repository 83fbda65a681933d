/**
 * Thin corrections of oidc-provider 8's answers where they break a standard or a common client
 * library (issue 30; the table of what is supported is in docs/oidc.md):
 * - a grant type the client may not use is `unauthorized_client` (RFC 6749 §5.2), not `invalid_request`;
 * - revocation answers `{}` as JSON (RFC 7009 leaves the body open; oidc-client-ts parses it);
 * - userinfo without a token is 401 with `WWW-Authenticate: Bearer realm=…` (RFC 6750 §3);
 * - the JWKS and discovery may be cached for 5 minutes; token answers carry `Pragma: no-cache` (RFC 6749 §5.1);
 * - a known endpoint asked with a method it does not serve is 405 with `Allow`, not 404;
 * - `prompt=select_account` is read as `prompt=login` (a session holds one account: choosing one is logging in);
 * - a refresh token stands for offline access: re-sending `offline_access` in a refresh's `scope` is accepted;
 * - a refresh token used again within `refreshGraceMs` of its first use (two tabs, a retry) is
 *   honoured as if unused, giving another valid pair of the same login; a later use is reuse
 *   and ends the login, as oidc-provider does;
 * - a missing (for a client bound to DPoP) or replayed DPoP proof at the token endpoint is
 *   `invalid_dpop_proof` (RFC 9449 §5), not `invalid_grant`;
 * - RFC 8414 metadata is discovery without the OpenID-only members (the mount routes
 *   `/.well-known/oauth-authorization-server/oidc/<tenant>` to discovery, marked by `askForOAuthMetadata`).
 */
import type { IncomingMessage } from 'node:http';
import { valuesPresented } from './client-assigned.js';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { JWKS_MAX_AGE_SECONDS } from '../tokens/key-store.js';

/** Seconds the JWKS and discovery may be cached (docs/oidc.md, key rotation). */
const METADATA_MAX_AGE = JWKS_MAX_AGE_SECONDS;

/** The methods each endpoint serves, by its path under the issuer (HEAD with GET, OPTIONS for CORS). */
const ALLOWED: readonly (readonly [RegExp, string])[] = [
  [/^\/\.well-known\/openid-configuration\/?$/, 'GET, HEAD, OPTIONS'],
  [/^\/jwks\/?$/, 'GET, HEAD, OPTIONS'],
  [/^\/auth\/?$/, 'GET, HEAD, POST'],
  [/^\/auth\/[^/]+\/?$/, 'GET, HEAD'],
  [/^\/token(\/introspection|\/revocation)?\/?$/, 'POST, OPTIONS'],
  [/^\/me\/?$/, 'GET, HEAD, POST, OPTIONS'],
  [/^\/session\/end\/?$/, 'GET, HEAD, POST'],
  [/^\/session\/end\/confirm\/?$/, 'POST'],
  [/^\/session\/end\/success\/?$/, 'GET, HEAD'],
];

/** Discovery members that only OpenID Connect defines, left out of the RFC 8414 document. */
const OPENID_ONLY = [
  'userinfo_endpoint',
  'end_session_endpoint',
  'check_session_iframe',
  'id_token_signing_alg_values_supported',
  'id_token_encryption_alg_values_supported',
  'id_token_encryption_enc_values_supported',
  'userinfo_signing_alg_values_supported',
  'request_object_signing_alg_values_supported',
  'subject_types_supported',
  'claims_supported',
  'claim_types_supported',
  'claims_parameter_supported',
  'acr_values_supported',
  'frontchannel_logout_supported',
  'frontchannel_logout_session_supported',
  'backchannel_logout_supported',
  'backchannel_logout_session_supported',
] as const;

const oauthMetadataRequests = new WeakSet<IncomingMessage>();

/** The request (routed to discovery) asks for the RFC 8414 document. */
export function askForOAuthMetadata(req: IncomingMessage): void {
  oauthMetadataRequests.add(req);
}

const TOKEN_ROUTES = new Set(['token', 'introspection', 'revocation']);

type ErrorBody = { error?: unknown; error_description?: unknown } | undefined;

type RefreshFinder = (value: unknown, options?: object) => Promise<{ consumed?: number } | undefined>;

export function conformanceHooks(provider: Provider, options: { refreshGraceMs: number }): void {
  const RefreshToken = provider.RefreshToken as unknown as { find: RefreshFinder };
  const findRefresh = RefreshToken.find.bind(RefreshToken);
  if (options.refreshGraceMs > 0) {
    // Only a refresh grant's own lookup of the token it presents sees the grace window.
    const refreshing = valuesPresented(provider, 'refresh_token', 'refresh_token');
    RefreshToken.find = async (value, findOptions) => {
      const token = await findRefresh(value, findOptions);
      // `consumed` is the first use, in seconds (the adapter keeps it): the window is measured
      // from the start of that second, so it is never longer than configured.
      if (token?.consumed !== undefined && refreshing.has(value) && Date.now() - token.consumed * 1000 < options.refreshGraceMs)
        delete token.consumed;
      return token;
    };
  }

  // Set on the answer the error handler already wrote (it emits after writing the body).
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: { error?: unknown; error_detail?: unknown }) => {
    if (err.error === 'invalid_grant' && typeof err.error_detail === 'string' && err.error_detail.startsWith('DPoP proof JWT'))
      ctx.body = { error: 'invalid_dpop_proof', error_description: err.error_detail };
  });

  // A refresh token is offline access itself (oidc-provider drops `offline_access` from the
  // grant unless consent was prompted, but our userapps always get refresh tokens).
  const refreshProto = provider.RefreshToken.prototype as object;
  const scopes = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(refreshProto) as object, 'scopes') ?? {
    get(this: { scope?: string }) {
      return new Set(this.scope ? this.scope.split(' ') : []);
    },
  };
  Object.defineProperty(refreshProto, 'scopes', {
    configurable: true,
    get(this: object) {
      const set = new Set(scopes.get?.call(this) as Set<string>);
      set.add('offline_access');
      return set;
    },
  });

  provider.use(async (ctx: KoaContextWithOIDC, next) => {
    if (ctx.method === 'GET' && /^\/auth\/?$/.test(ctx.path) && ctx.querystring.includes('select_account')) {
      const params = new URLSearchParams(ctx.querystring);
      const prompt = params.get('prompt');
      if (prompt !== null) {
        const values = prompt.split(' ').map((p) => (p === 'select_account' ? 'login' : p));
        params.set('prompt', [...new Set(values)].join(' '));
        ctx.querystring = params.toString();
      }
    }
    await next();
    const route = ctx.oidc?.route;
    const body = ctx.body as ErrorBody;
    if (route === undefined && ctx.status === 404) {
      const allowed = ALLOWED.find(([path]) => path.test(ctx.path))?.[1];
      if (allowed) {
        ctx.status = 405;
        ctx.set('allow', allowed);
        ctx.set('cache-control', 'no-store');
        ctx.body = { error: 'invalid_request', error_description: `${ctx.method} is not allowed here; use ${allowed}` };
      }
      return;
    }
    if (route === 'jwks' || route === 'discovery') {
      if (ctx.status !== 200) return;
      ctx.set('cache-control', `public, max-age=${METADATA_MAX_AGE}`);
      if (route === 'discovery' && oauthMetadataRequests.has(ctx.req)) {
        const metadata = { ...(ctx.body as Record<string, unknown>) };
        for (const member of OPENID_ONLY) delete metadata[member];
        // Scopes: only those OAuth clients can use without OpenID Connect.
        if (Array.isArray(metadata.scopes_supported)) metadata.scopes_supported = metadata.scopes_supported.filter((s) => s !== 'openid');
        ctx.body = metadata;
      }
      return;
    }
    if (route !== undefined && TOKEN_ROUTES.has(route)) ctx.set('pragma', 'no-cache');
    if (
      route === 'token' &&
      body?.error === 'invalid_request' &&
      body.error_description === 'requested grant type is not allowed for this client'
    )
      body.error = 'unauthorized_client';
    else if (route === 'revocation' && ctx.status === 200 && (ctx.body === '' || ctx.body === undefined)) {
      ctx.body = {};
      ctx.status = 200;
    } else if (route === 'userinfo' && ctx.status === 400 && body?.error_description === 'no access token provided') ctx.status = 401;
  });
}
