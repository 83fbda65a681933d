/**
 * Builds and signs the tokens of a grant. The registered claims are set last, so nothing
 * configured can replace them (the valve also refuses such names at load).
 */
import { randomUUID } from 'node:crypto';
import { createFamily, type Family } from './families.js';
import type { TokenService } from './service.js';
import type { Store } from '../store/store.js';

/** Claims the engine sets itself; a configured claim may not use these names. */
export const REGISTERED_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'sub',
  'aud',
  'iat',
  'exp',
  'nbf',
  'jti',
  'tenant',
  'scope',
  'client_id',
  'sid',
  'typ',
  'cnf',
  'act',
  'amr',
  'acr',
]);

export interface AccessGrant {
  sub: string;
  tenant: string;
  aud: string;
  scope?: string | undefined;
  client_id?: string | undefined;
  claims: Readonly<Record<string, string>>;
  /** Authentication methods (RFC 8176), an array in the token; absent or empty: no claim. */
  amr?: readonly string[] | undefined;
  /** Authentication context class; empty: no claim. */
  acr?: string | undefined;
  /** Lifetime in seconds. */
  ttl: number;
}

export interface MintedTokens {
  access_token: string;
  token_type: 'Bearer';
  expires_in: string;
  refresh_token?: string;
}

/** An access token; `notAfter` (ms) caps it at its family's end. */
async function mintAccess(
  service: TokenService,
  grant: AccessGrant,
  now: number,
  sid?: string,
  notAfter = Infinity,
): Promise<{ token: string; expiresIn: number }> {
  const minted = accessToken(service, grant, now, sid, notAfter);
  return { token: await minted.token, expiresIn: minted.expiresIn };
}

/**
 * An access token as its lifetime (known at once) and the promise of the signed token: the
 * token-mint valve waits on the signature alone, without an async layer per function.
 */
export function accessToken(
  service: TokenService,
  grant: AccessGrant,
  now: number,
  sid?: string,
  notAfter = Infinity,
): { token: Promise<string>; expiresIn: number } {
  const iat = Math.floor(now / 1000);
  const exp = Math.min(iat + grant.ttl, Math.floor(notAfter / 1000));
  // Assigned one by one, not spread: V8 takes a slow path for a spread followed by literal
  // members (10 µs a token, measured), more than the rest of the claims work together.
  const claims: Record<string, unknown> = {};
  for (const name of Object.keys(grant.claims)) claims[name] = grant.claims[name];
  claims.iss = service.issuerOf(grant.tenant);
  claims.sub = grant.sub;
  claims.aud = grant.aud;
  claims.iat = iat;
  claims.exp = exp;
  claims.jti = randomUUID();
  claims.tenant = grant.tenant;
  if (grant.scope) claims.scope = grant.scope;
  if (grant.client_id) claims.client_id = grant.client_id;
  if (sid !== undefined) claims.sid = sid;
  if (grant.amr !== undefined && grant.amr.length > 0) claims.amr = [...grant.amr];
  if (grant.acr) claims.acr = grant.acr;
  return { token: service.sign('access', grant.tenant, claims), expiresIn: exp - iat };
}

/** A refresh token: only who, which family and which rotation; the family record holds the rest. Its audience is us. */
function mintRefresh(
  service: TokenService,
  sub: string,
  tenant: string,
  sid: string,
  jti: string,
  now: number,
  family: Pick<Family, 'refresh_ttl' | 'exp'>,
): Promise<string> {
  const iat = Math.floor(now / 1000);
  const exp = Math.min(iat + family.refresh_ttl, Math.floor(family.exp / 1000));
  const issuer = service.issuerOf(tenant);
  return service.sign('refresh', tenant, { iss: issuer, sub, aud: issuer, iat, exp, jti, tenant, sid });
}

/** A new family: the access token, the first refresh token, and the record that makes it usable once. */
export async function mintUserTokens(
  service: TokenService,
  store: Store,
  grant: AccessGrant,
  refreshTtl: number,
  lifetime: number,
  now: number,
): Promise<MintedTokens> {
  const sid = randomUUID();
  const family: Family = {
    jti: randomUUID(),
    sub: grant.sub,
    aud: grant.aud,
    claims: { ...grant.claims },
    ttl: grant.ttl,
    refresh_ttl: refreshTtl,
    exp: now + lifetime * 1000,
  };
  if (grant.scope) family.scope = grant.scope;
  if (grant.client_id) family.client_id = grant.client_id;
  if (grant.amr !== undefined && grant.amr.length > 0) family.amr = [...grant.amr];
  if (grant.acr) family.acr = grant.acr;
  await createFamily(store, sid, family, now);
  return familyTokens(service, grant.tenant, sid, family, now);
}

/** The pair for a family's current rotation (after login or a refresh); both are signed at once. */
export async function familyTokens(service: TokenService, tenant: string, sid: string, family: Family, now: number): Promise<MintedTokens> {
  const grant: AccessGrant = {
    sub: family.sub,
    tenant,
    aud: family.aud,
    scope: family.scope,
    client_id: family.client_id,
    claims: family.claims,
    amr: family.amr,
    acr: family.acr,
    ttl: family.ttl,
  };
  const [access, refresh] = await Promise.all([
    mintAccess(service, grant, now, sid, family.exp),
    mintRefresh(service, family.sub, tenant, sid, family.jti, now, family),
  ]);
  return { access_token: access.token, token_type: 'Bearer', expires_in: String(access.expiresIn), refresh_token: refresh };
}
