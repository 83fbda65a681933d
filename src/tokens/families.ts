/**
 * Refresh-token families in the store (tenant-scoped by the caller). A family is one login:
 * it records the single refresh token that may still be used (its jti) and what every token
 * of the family carries. Rotation is a compare-and-set from the record that named the
 * presented jti to one naming the new jti, so of two uses of one token at most one wins;
 * the loser, like any use of an already-rotated token, revokes the whole family. A revoked
 * record stays until the family's absolute expiry, so nothing can revive it.
 */
import { refuse } from '../errors.js';
import type { Store } from '../store/store.js';
import { addToIndex, readIndex } from '../store/ttl-index.js';

export interface Family {
  /** The jti of the one refresh token that may be used next. */
  jti: string;
  sub: string;
  aud: string;
  scope?: string;
  client_id?: string;
  /** Configured claims, rendered at login and carried into every refreshed access token. */
  claims: Record<string, string>;
  /** How the login authenticated (RFC 8176 `amr`) and its class (`acr`), kept for refreshed tokens. */
  amr?: string[];
  acr?: string;
  /** Access and refresh token lifetimes, seconds. */
  ttl: number;
  refresh_ttl: number;
  /** Absolute end of the family, ms since the epoch. */
  exp: number;
  /** Access tokens of this login revoked one by one (RFC 7009), refused while the family lives. */
  revoked_jtis?: string[];
}

interface Revoked {
  revoked: true;
  exp: number;
}

const familyKey = (sid: string) => `token-family:${sid}`;
/** The logins of one subject, newest last (the admin API's sessions of a user); at most this many are listed. */
const subjectKey = (sub: string) => `token-families:${sub}`;
const LISTED = 50;

export async function createFamily(store: Store, sid: string, family: Family, now: number): Promise<void> {
  const created = await store.compareAndSet(familyKey(sid), null, JSON.stringify(family), family.exp - now);
  // A random UUID collided, or something wrote the key first: never share a family.
  if (!created) throw new Error(`refresh family ${sid} already exists`);
  await addToIndex(store, subjectKey(family.sub), sid, family.exp - now, LISTED);
}

/** The subject's logins that still live (not revoked, not expired), with their ids. */
export async function subjectFamilies(store: Store, sub: string, now: number): Promise<{ sid: string; family: Family }[]> {
  const out = [];
  for (const sid of await readIndex(store, subjectKey(sub))) {
    const current = await store.get(familyKey(sid));
    if (current === null) continue;
    const record = parse(current);
    if (!('revoked' in record) && record.exp > now && record.sub === sub) out.push({ sid, family: record });
  }
  return out;
}

/**
 * Moves the family to `nextJti` when `jti` is its live token; otherwise revokes it and refuses.
 * `onReuse` hears of a revocation caused by reuse (for metrics and the audit log).
 */
export async function rotateFamily(
  store: Store,
  sid: string,
  jti: string,
  nextJti: string,
  now: number,
  property: string,
  onReuse?: (family: Family) => void,
): Promise<Family> {
  const invalid = (detail: string) => refuse('TOKEN_INVALID', { erroneousProperties: [property], detail: `refresh token: ${detail}` });
  const current = await store.get(familyKey(sid));
  if (current === null) throw invalid('family expired or unknown');
  const record = parse(current);
  if ('revoked' in record) throw invalid('family revoked');
  if (record.exp <= now) throw invalid('family expired');
  if (record.jti !== jti) {
    await revoke(store, sid, record.exp, now);
    onReuse?.(record);
    throw invalid('reused: family revoked');
  }
  const next: Family = { ...record, jti: nextJti };
  if (!(await store.compareAndSet(familyKey(sid), current, JSON.stringify(next), record.exp - now))) {
    // Another call rotated (or revoked) between our read and write: this token was used twice.
    await revoke(store, sid, record.exp, now);
    onReuse?.(record);
    throw invalid('used concurrently: family revoked');
  }
  return next;
}

/** Logout: the family's tokens stop working. Idempotent; an expired family needs nothing. */
export async function revokeFamily(store: Store, sid: string, now: number): Promise<void> {
  const current = await store.get(familyKey(sid));
  if (current === null) return;
  const record = parse(current);
  if ('revoked' in record) return;
  await revoke(store, sid, record.exp, now);
}

/** Whether tokens of the family may still be used (not revoked, not expired), and the access token `jti` not revoked alone. */
export async function familyIsLive(store: Store, sid: string, now: number, jti?: string): Promise<boolean> {
  const current = await store.get(familyKey(sid));
  if (current === null) return false;
  const record = parse(current);
  return !('revoked' in record) && record.exp > now && (jti === undefined || !record.revoked_jtis?.includes(jti));
}

/** Revokes one access token of the family (RFC 7009); the login and its other tokens go on. */
export async function revokeFamilyToken(store: Store, sid: string, jti: string, now: number): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const current = await store.get(familyKey(sid));
    if (current === null) return;
    const record = parse(current);
    if ('revoked' in record || record.exp <= now || record.revoked_jtis?.includes(jti)) return;
    const next: Family = { ...record, revoked_jtis: [...(record.revoked_jtis ?? []), jti] };
    if (await store.compareAndSet(familyKey(sid), current, JSON.stringify(next), record.exp - now)) return;
  }
  throw new Error(`refresh family ${sid}: could not revoke an access token (contention)`);
}

async function revoke(store: Store, sid: string, exp: number, now: number): Promise<void> {
  const revoked: Revoked = { revoked: true, exp };
  await store.set(familyKey(sid), JSON.stringify(revoked), Math.max(1, exp - now));
}

function parse(text: string): Family | Revoked {
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== 'object' || typeof (value as { exp?: unknown }).exp !== 'number') {
    throw new Error('refresh family record is corrupt');
  }
  return value as Family | Revoked;
}
