/**
 * Whether a verified access token may still be used: the check every door makes (PUT
 * token-verify and introspect, the admin API, the front door's introspection, revocation and
 * userinfo), one store read per token, in the tenant's store so that every engine sharing it
 * agrees at once. Which record is read depends on what the token belongs to:
 *
 * - a PUT login (`sid`): its refresh family, revoked by logout or reuse (families.ts), which
 *   also lists the access tokens revoked one by one;
 * - a front-door grant (`gid`): a marker written when the grant ends (logout, refresh-token
 *   reuse, revocation of its refresh token), or listing its access tokens revoked one by one;
 * - neither (a system token): a marker of its `jti`.
 *
 * Markers live as long as the tokens they refuse could (their `exp` plus the clock tolerance),
 * so nothing outlives its use.
 */
import type { Store } from '../store/store.js';
import { familyIsLive, revokeFamilyToken } from './families.js';
import type { Claims } from './service.js';

const grantKey = (gid: string) => `revoked-grant:${gid}`;
const jtiKey = (jti: string) => `revoked-jti:${jti}`;
/** The marker of a whole grant; otherwise a grant's marker is a JSON list of revoked jtis. */
const WHOLE_GRANT = '*';
const MAX_CAS_TRIES = 20;

type TokenClaims = Pick<Claims, 'jti' | 'exp'> & { sid?: unknown; gid?: unknown };

/** One store read: false once the token's login has ended or the token itself was revoked. */
export async function tokenIsLive(store: Store, claims: TokenClaims, now: number): Promise<boolean> {
  if (typeof claims.sid === 'string') return familyIsLive(store, claims.sid, now, claims.jti);
  if (typeof claims.gid === 'string') {
    const marker = await store.get(grantKey(claims.gid));
    return marker === null || (marker !== WHOLE_GRANT && !(JSON.parse(marker) as string[]).includes(claims.jti));
  }
  return (await store.get(jtiKey(claims.jti))) === null;
}

/** A front-door grant has ended: every access token naming it is refused for `ttlMs` (their longest life). */
export async function revokeGrant(store: Store, gid: string, ttlMs: number): Promise<void> {
  await store.set(grantKey(gid), WHOLE_GRANT, ttlMs);
}

/** RFC 7009 for an access token: this token (its `jti`) is refused until it expires; its login goes on. */
export async function revokeAccessToken(store: Store, claims: TokenClaims, now: number, toleranceMs: number): Promise<void> {
  const ttlMs = Math.max(1, claims.exp * 1000 + toleranceMs - now);
  if (typeof claims.sid === 'string') return revokeFamilyToken(store, claims.sid, claims.jti, now);
  if (typeof claims.gid !== 'string') return store.set(jtiKey(claims.jti), '1', ttlMs);
  const key = grantKey(claims.gid);
  for (let i = 0; i < MAX_CAS_TRIES; i++) {
    const text = await store.get(key);
    if (text === WHOLE_GRANT) return;
    const jtis = text === null ? [] : (JSON.parse(text) as string[]);
    if (jtis.includes(claims.jti)) return;
    const left = text === null ? 0 : ((await store.ttl(key)) ?? 0);
    if (await store.compareAndSet(key, text, JSON.stringify([...jtis, claims.jti]), Math.max(ttlMs, left))) return;
  }
  throw new Error('token revocation: could not mark an access token revoked (contention)');
}
