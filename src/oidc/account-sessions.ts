/**
 * A user's sessions, found by account: its single sign-on sessions at the OpenID door (the
 * store adapter lists each under its account when the session first names one) and its logins
 * over PUT that hold a refresh token (tokens/families.ts lists each under its subject), so the
 * admin API can show them and end one. Ending a PUT login revokes its refresh family: its
 * access and refresh tokens are refused at once. Ending a session destroys its record (the browser's cookie then names
 * nothing, so the next sign-in asks again) and every grant it holds, whose access tokens every
 * token check then refuses (tokens/revocation.ts). A session is shown by a handle (a hash of
 * its id), never by its id, which is the bearer value of the browser's cookie.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../store/store.js';
import { addToIndex, readIndex, removeFromIndex } from '../store/ttl-index.js';
import type { AdapterClass } from './adapter.js';
import { revokeFamily, subjectFamilies } from '../tokens/families.js';

const indexKey = (accountId: string) => `oidc-account-sessions:${accountId}`;
const markerKey = (sessionId: string) => `oidc-session-account:${sessionId}`;
const recordKey = (sessionId: string) => `oidc:Session:${sessionId}`;
/** Sessions listed per account (the newest); an older one still ends when it expires. */
const KEPT = 50;
/** How long the index of a session without an expiry lasts (oidc-provider's default session life). */
const SESSION_MS = 14 * 86_400_000;

/** Lists the session under its account, once (a session's record is rewritten on every authorization). */
export async function indexSession(store: Store, sessionId: string, accountId: string, ttlMs: number | undefined): Promise<void> {
  if (await store.compareAndSet(markerKey(sessionId), null, accountId, ttlMs))
    await addToIndex(store, indexKey(accountId), sessionId, ttlMs ?? SESSION_MS, KEPT);
}

export interface AccountSession {
  /** Names the session to the admin API: a hash of its id. */
  handle: string;
  /** Where it was made: the OpenID door's hosted login, or a PUT login with a refresh token. */
  door: 'hosted' | 'put';
  /** When the user signed in, and when the session ends (ISO). */
  signedIn?: string;
  expires?: string;
  /** The apps the session has signed in to. */
  clients: string[];
}

interface SessionPayload {
  accountId?: string;
  loginTs?: number;
  exp?: number;
  authorizations?: Record<string, { grantId?: string }>;
}

/** The name of a session shown to the admin API and the account page: never its id, the bearer value of the browser's cookie. */
export const handleOf = (sessionId: string) => createHash('sha256').update(sessionId).digest('base64url').slice(0, 22);

async function live(store: Store, accountId: string): Promise<{ id: string; payload: SessionPayload }[]> {
  const out = [];
  for (const id of await readIndex(store, indexKey(accountId))) {
    const text = await store.get(recordKey(id));
    if (text === null) continue;
    const payload = JSON.parse(text) as SessionPayload;
    if (payload.accountId === accountId) out.push({ id, payload });
  }
  return out;
}

export async function accountSessions(store: Store, accountId: string, now: number): Promise<AccountSession[]> {
  const hosted: AccountSession[] = (await live(store, accountId)).map(({ id, payload }) => ({
    handle: handleOf(id),
    door: 'hosted',
    ...(payload.loginTs ? { signedIn: new Date(payload.loginTs * 1000).toISOString() } : {}),
    ...(payload.exp ? { expires: new Date(payload.exp * 1000).toISOString() } : {}),
    clients: Object.keys(payload.authorizations ?? {}),
  }));
  const put: AccountSession[] = (await subjectFamilies(store, accountId, now)).map(({ sid, family }) => ({
    handle: handleOf(sid),
    door: 'put',
    expires: new Date(family.exp).toISOString(),
    clients: family.client_id ? [family.client_id] : [],
  }));
  return [...hosted, ...put];
}

/** Ends the account's session of that handle, with its grants (through the door's store adapter on the same store); false when it has none such (ended already). */
export async function endAccountSession(
  store: Store,
  Adapter: AdapterClass,
  accountId: string,
  handle: string,
  now: number,
): Promise<boolean> {
  const login = (await subjectFamilies(store, accountId, now)).find((f) => handleOf(f.sid) === handle);
  if (login) {
    await revokeFamily(store, login.sid, now);
    return true;
  }
  const found = (await live(store, accountId)).find((s) => handleOf(s.id) === handle);
  if (!found) return false;
  const grants = new Adapter('Grant');
  for (const { grantId } of Object.values(found.payload.authorizations ?? {})) {
    if (typeof grantId !== 'string') continue;
    await grants.revokeByGrantId?.(grantId);
    await grants.destroy(grantId);
  }
  await new Adapter('Session').destroy(found.id);
  await removeFromIndex(store, indexKey(accountId), found.id);
  return true;
}
