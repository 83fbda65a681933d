/**
 * Our JWT access tokens at oidc-provider's introspection, revocation and userinfo endpoints.
 * The provider finds tokens by value in its storage; a structured (JWT) access token is not
 * stored, so out of the box it introspects as inactive and userinfo refuses it. Here
 * `AccessToken.find` and `ClientCredentials.find` first try the value as one of our access
 * tokens: verified by the token service exactly as token-verify does (our keys, algorithms,
 * this tenant's issuer, our audience, typ at+jwt, the tenant claim, a live login for user
 * tokens), it becomes a provider token built from its claims. The provider's own minted
 * tokens and PUT-minted ones are then alike to every endpoint. The audience is left out of
 * the built token: userinfo refuses a token naming an audience, and ours all do. A token
 * the provider minted names its grant (`gid`): introspection and userinfo then refuse it once
 * the grant is revoked (a reused refresh token, a logout), and every other door too: the
 * storage adapter marks an ended grant (tokens/revocation.ts). Revoking one of our access
 * tokens (RFC 7009) marks its jti revoked until it expires.
 *
 * A user token a PUT pipe minted has no provider grant: its login is its token family (`sid`),
 * already checked live above. Userinfo wants a grant naming the token's account and client and
 * the OpenID scopes granted, so such a token names a login grant whose id holds exactly those
 * (`Grant.find` builds it from the id; provider grant ids are nanoids, never with the prefix).
 * A PUT login is an authentication of the user, so its token acts with scope `openid` besides
 * its own: userinfo answers `sub`, and the claims of any OpenID scope the token carries.
 */
import type Provider from 'oidc-provider';
import type { Store } from '../store/store.js';
import { revokeAccessToken, tokenIsLive } from '../tokens/revocation.js';
import { lowSCompact } from '../tokens/low-s.js';
import { MAX_TOKEN_LENGTH, type Claims, type TokenService } from '../tokens/service.js';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface OurTokens {
  tenant: string;
  tokens: TokenService;
  store: Store;
  /** The ids of the clients the provider knows: the tenant's active apps, and the tenant itself (see tenantClientMetadata). */
  clients: ReadonlySet<string>;
  /** Seconds of clock skew forgiven on exp: a revoked token's marker lives that much longer. */
  clockTolerance: number;
}

/** Grant ids of PUT logins; the provider's own are nanoids (A-Z, a-z, 0-9, _ and -). */
const LOGIN_GRANT = 'login:';

type Finder = (value: string, options?: { ignoreExpiration?: boolean }) => Promise<unknown>;

export function acceptOurAccessTokens(provider: Provider, ours: OurTokens): void {
  const verify = async (value: unknown): Promise<Claims | undefined> => {
    if (typeof value !== 'string' || value.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(value)) return undefined;
    try {
      const now = Date.now();
      const claims = await ours.tokens.verify(value, { type: 'access', tenant: ours.tenant, now, property: 'token' });
      if (!(await tokenIsLive(ours.store, claims, now))) return undefined;
      return claims;
    } catch {
      return undefined;
    }
  };
  const clientOf = (claims: Claims) => (typeof claims.client_id === 'string' ? claims.client_id : claims.sub);
  /**
   * A provider account token: a user's, for a client the provider knows (one of the tenant's
   * apps, or the tenant itself, which PUT pipes naming no client put in `client_id`). Anything
   * else (system tokens, and user tokens naming a client the provider does not know: a disabled
   * app, an id a pipe made up) is shown as a client's token with its subject, since the
   * provider only knows accounts of its clients.
   */
  const isAccountToken = (claims: Claims) =>
    (claims.kind === 'user' || typeof claims.sid === 'string') && ours.clients.has(clientOf(claims));
  const payloadOf = (claims: Claims, withSub: boolean) => ({
    jti: claims.jti,
    iat: claims.iat,
    exp: claims.exp,
    clientId: clientOf(claims),
    ...(typeof claims.scope === 'string' ? { scope: claims.scope } : {}),
    ...(typeof claims.gid === 'string' ? { grantId: claims.gid } : {}),
    // Bound to a DPoP key: introspection shows cnf.jkt, and userinfo asks for the proof.
    ...(typeof (claims.cnf as { jkt?: unknown } | undefined)?.jkt === 'string' ? { jkt: (claims.cnf as { jkt: string }).jkt } : {}),
    extra: {
      ...(withSub ? { sub: claims.sub } : {}),
      tenant: claims.tenant,
      ...(typeof claims.pool === 'string' ? { pool: claims.pool } : {}),
      ...(typeof claims.kind === 'string' ? { kind: claims.kind } : {}),
    },
  });

  /** A PUT login's token: the token's scope with `openid`, and the login grant holding exactly that. */
  const loginPayload = (claims: Claims) => {
    const scope = ['openid', ...(typeof claims.scope === 'string' ? claims.scope.split(' ') : [])]
      .filter((s, i, all) => s !== '' && all.indexOf(s) === i)
      .join(' ');
    const grant = JSON.stringify([claims.sub, clientOf(claims), scope]);
    return { scope, grantId: LOGIN_GRANT + Buffer.from(grant).toString('base64url') };
  };

  /** The claims of each token object built from one of our JWTs, for its revocation. */
  const claimsOf = new WeakMap<object, Claims>();
  const built = <T extends object>(token: T, claims: Claims): T => {
    claimsOf.set(token, claims);
    return token;
  };

  const models = provider as unknown as Record<'AccessToken' | 'ClientCredentials', { find: Finder; new (payload: object): object }> & {
    Grant: { find: Finder; new (payload: object): { addOIDCScope(scope: string): void } };
  };
  const { AccessToken, ClientCredentials, Grant } = models;
  const findAccess = AccessToken.find.bind(AccessToken);
  const findClient = ClientCredentials.find.bind(ClientCredentials);
  const findGrant = Grant.find.bind(Grant);
  // The provider signs its JWT access tokens itself; ours have one spelling (low-S, see
  // tokens/low-s.ts), so its tokens are given theirs before they leave the token endpoint.
  for (const Model of [AccessToken, ClientCredentials] as unknown as { prototype: { save: (...args: unknown[]) => Promise<unknown> } }[]) {
    const save = Model.prototype.save;
    Model.prototype.save = async function saveCanonical(this: unknown, ...args: unknown[]) {
      const value = await save.apply(this, args);
      return typeof value === 'string' ? lowSCompact(value) : value;
    };
  }
  // RFC 7009: the revocation endpoint destroys the token it found; one of our JWTs is not a
  // stored record, so its jti is marked revoked instead, until it expires (tokens/revocation.ts).
  for (const Model of [AccessToken, ClientCredentials] as unknown as {
    prototype: { destroy: (...args: unknown[]) => Promise<unknown> };
  }[]) {
    const destroy = Model.prototype.destroy;
    Model.prototype.destroy = async function destroyOurs(this: object, ...args: unknown[]) {
      const claims = claimsOf.get(this);
      if (claims) await revokeAccessToken(ours.store, claims, Date.now(), ours.clockTolerance * 1000);
      return destroy.apply(this, args);
    };
  }
  AccessToken.find = async (value, options) => {
    const claims = await verify(value);
    if (!claims) return findAccess(value, options);
    if (!isAccountToken(claims)) return undefined;
    const login = typeof claims.sid === 'string' ? loginPayload(claims) : {};
    return built(new AccessToken({ ...payloadOf(claims, false), ...login, accountId: claims.sub }), claims);
  };
  ClientCredentials.find = async (value, options) => {
    const claims = await verify(value);
    if (!claims) return findClient(value, options);
    return isAccountToken(claims) ? undefined : built(new ClientCredentials(payloadOf(claims, true)), claims);
  };
  Grant.find = async (id, options) => {
    if (typeof id !== 'string' || !id.startsWith(LOGIN_GRANT)) return findGrant(id, options);
    try {
      const [accountId, clientId, scope] = JSON.parse(Buffer.from(id.slice(LOGIN_GRANT.length), 'base64url').toString()) as string[];
      const grant = new Grant({ accountId, clientId });
      grant.addOIDCScope(scope as string);
      return grant;
    } catch {
      return undefined;
    }
  };
}
