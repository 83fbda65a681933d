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
 * the grant is revoked (a reused refresh token, a logout).
 */
import type Provider from 'oidc-provider';
import type { DirectoryClient } from '../directory/directory.js';
import type { Store } from '../store/store.js';
import { familyIsLive } from '../tokens/families.js';
import { lowSCompact } from '../tokens/low-s.js';
import { MAX_TOKEN_LENGTH, type Claims, type TokenService } from '../tokens/service.js';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface OurTokens {
  tenant: string;
  tokens: TokenService;
  store: Store;
  clients: ReadonlyMap<string, DirectoryClient>;
}

type Finder = (value: string, options?: { ignoreExpiration?: boolean }) => Promise<unknown>;

export function acceptOurAccessTokens(provider: Provider, ours: OurTokens): void {
  const verify = async (value: unknown): Promise<Claims | undefined> => {
    if (typeof value !== 'string' || value.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(value)) return undefined;
    try {
      const now = Date.now();
      const claims = await ours.tokens.verify(value, { type: 'access', tenant: ours.tenant, now, property: 'token' });
      if (typeof claims.sid === 'string' && !(await familyIsLive(ours.store, claims.sid, now))) return undefined;
      return claims;
    } catch {
      return undefined;
    }
  };
  const clientOf = (claims: Claims) => (typeof claims.client_id === 'string' ? claims.client_id : claims.sub);
  /**
   * A provider account token: a user's, for one of the tenant's registered apps. Anything else
   * (system tokens, and user tokens a PUT pipe minted without such an app) is shown as a
   * client's token with its subject, since the provider only knows accounts of its apps.
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
    extra: {
      ...(withSub ? { sub: claims.sub } : {}),
      tenant: claims.tenant,
      ...(typeof claims.pool === 'string' ? { pool: claims.pool } : {}),
      ...(typeof claims.kind === 'string' ? { kind: claims.kind } : {}),
    },
  });

  const models = provider as unknown as Record<'AccessToken' | 'ClientCredentials', { find: Finder; new (payload: object): object }>;
  const { AccessToken, ClientCredentials } = models;
  const findAccess = AccessToken.find.bind(AccessToken);
  const findClient = ClientCredentials.find.bind(ClientCredentials);
  // The provider signs its JWT access tokens itself; ours have one spelling (low-S, see
  // tokens/low-s.ts), so its tokens are given theirs before they leave the token endpoint.
  for (const Model of [AccessToken, ClientCredentials] as unknown as { prototype: { save: (...args: unknown[]) => Promise<unknown> } }[]) {
    const save = Model.prototype.save;
    Model.prototype.save = async function saveCanonical(this: unknown, ...args: unknown[]) {
      const value = await save.apply(this, args);
      return typeof value === 'string' ? lowSCompact(value) : value;
    };
  }
  AccessToken.find = async (value, options) => {
    const claims = await verify(value);
    if (!claims) return findAccess(value, options);
    return isAccountToken(claims) ? new AccessToken({ ...payloadOf(claims, false), accountId: claims.sub }) : undefined;
  };
  ClientCredentials.find = async (value, options) => {
    const claims = await verify(value);
    if (!claims) return findClient(value, options);
    return isAccountToken(claims) ? undefined : new ClientCredentials(payloadOf(claims, true));
  };
}
