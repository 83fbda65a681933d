/**
 * A user's single sign-on sessions at the OpenID door, found by account: the store adapter
 * lists each session under its account when the session first names one, so the admin API can
 * show them and end one. Ending a session destroys its record (the browser's cookie then names
 * nothing, so the next sign-in asks again) and every grant it holds, whose access tokens every
 * token check then refuses (tokens/revocation.ts). A session is shown by a handle (a hash of
 * its id), never by its id, which is the bearer value of the browser's cookie.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../store/store.js';
import type { AdapterClass } from './adapter.js';

const indexKey = (accountId: string) => `oidc-account-sessions:${accountId}`;
const markerKey = (sessionId: string) => `oidc-session-account:${sessionId}`;
const recordKey = (sessionId: string) => `oidc:Session:${sessionId}`;
/** Sessions listed per account (the newest); an older one still ends when it expires. */
const KEPT = 50;

/** Lists the session under its account, once (a session's record is rewritten on every authorization). */
export async function indexSession(store: Store, sessionId: string, accountId: string, ttlMs: number | undefined): Promise<void> {
  if (await store.compareAndSet(markerKey(sessionId), null, accountId, ttlMs)) await store.listPush(indexKey(accountId), sessionId, KEPT);
}

export interface AccountSession {
  /** Names the session to the admin API: a hash of its id. */
  handle: string;
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

const handleOf = (sessionId: string) => createHash('sha256').update(sessionId).digest('base64url').slice(0, 22);

async function live(store: Store, accountId: string): Promise<{ id: string; payload: SessionPayload }[]> {
  const out = [];
  for (const id of new Set(await store.listRange(indexKey(accountId), KEPT))) {
    const text = await store.get(recordKey(id));
    if (text === null) continue;
    const payload = JSON.parse(text) as SessionPayload;
    if (payload.accountId === accountId) out.push({ id, payload });
  }
  return out;
}

export async function accountSessions(store: Store, accountId: string): Promise<AccountSession[]> {
  return (await live(store, accountId)).map(({ id, payload }) => ({
    handle: handleOf(id),
    ...(payload.loginTs ? { signedIn: new Date(payload.loginTs * 1000).toISOString() } : {}),
    ...(payload.exp ? { expires: new Date(payload.exp * 1000).toISOString() } : {}),
    clients: Object.keys(payload.authorizations ?? {}),
  }));
}

/** Ends the account's session of that handle, with its grants (through the door's store adapter on the same store); false when it has none such (ended already). */
export async function endAccountSession(store: Store, Adapter: AdapterClass, accountId: string, handle: string): Promise<boolean> {
  const found = (await live(store, accountId)).find((s) => handleOf(s.id) === handle);
  if (!found) return false;
  const grants = new Adapter('Grant');
  for (const { grantId } of Object.values(found.payload.authorizations ?? {})) {
    if (typeof grantId !== 'string') continue;
    await grants.revokeByGrantId?.(grantId);
    await grants.destroy(grantId);
  }
  await new Adapter('Session').destroy(found.id);
  await store.listRemove(indexKey(accountId), found.id);
  return true;
}
