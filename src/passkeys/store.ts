/**
 * Passkeys (WebAuthn) in the tenant's store, shared by passkey-options and passkey-verify:
 * the challenges each ceremony issues (single use, short-lived, bound to the tenant by the
 * store's prefix and to the user for a registration) and the credentials, each with its
 * public key, signature counter and transports, listed per user. Parsing and verifying the
 * browser's answers is @simplewebauthn/server's, never ours.
 */
import { randomBytes } from 'node:crypto';
import type { AuthenticatorTransportFuture } from '@simplewebauthn/server';
import type { Store } from '../store/store.js';

type Ceremony = 'registration' | 'authentication';

/** A challenge issued: `c` the challenge, `k` its ceremony, `u` the user it is for ('' for a usernameless sign-in). */
export interface ChallengeRecord {
  v: 1;
  c: string;
  k: Ceremony;
  u: string;
  /** Registration: user verification was asked as required (the verify valve checks it). */
  uv?: boolean;
}

/** A credential: owner, COSE public key (base64url), signature counter, transports, and whether it counts as a hardware key. */
export interface CredentialRecord {
  v: 1;
  u: string;
  k: string;
  c: number;
  t: AuthenticatorTransportFuture[];
  /** Registered with a verified attestation statement (not "none") of a single-device key: amr hwk when the user is also verified. */
  hw: boolean;
  at: number;
  /** The name its owner gave it on the account page. */
  n?: string;
}

/** Credentials kept per user; registering one more forgets the oldest. */
const MAX_CREDENTIALS_PER_USER = 20;
const CAS_TRIES = 5;

const challengeKey = (id: string) => `passkey:ch:${id}`;
const credentialKey = (id: string) => `passkey:cred:${id}`;
const userKey = (user: string) => `passkey:user:${user}`;

/** A challenge id: 192 random bits, base64url, the handle a caller sends back. */
const CHALLENGE_ID = /^[A-Za-z0-9_-]{32}$/;

export async function saveChallenge(store: Store, record: Omit<ChallengeRecord, 'v'>, ttlMs: number): Promise<string> {
  const id = randomBytes(24).toString('base64url');
  await store.set(challengeKey(id), JSON.stringify({ v: 1, ...record }), ttlMs);
  return id;
}

/** Takes the challenge (single use): undefined when unknown, expired or used. */
export async function takeChallenge(store: Store, id: string): Promise<ChallengeRecord | undefined> {
  if (!CHALLENGE_ID.test(id)) return undefined;
  const text = await store.take(challengeKey(id));
  return text === null ? undefined : (JSON.parse(text) as ChallengeRecord);
}

export async function readCredential(store: Store, id: string): Promise<{ text: string; record: CredentialRecord } | undefined> {
  if (id === '' || id.length > 1024) return undefined;
  const text = await store.get(credentialKey(id));
  return text === null ? undefined : { text, record: JSON.parse(text) as CredentialRecord };
}

/** The ids of a user's credentials, oldest first. */
export async function credentialsOf(store: Store, user: string): Promise<string[]> {
  const text = await store.get(userKey(user));
  return text === null ? [] : (JSON.parse(text) as string[]);
}

/** Adds a credential; false when its id is registered already (to anyone). */
export async function addCredential(store: Store, id: string, record: CredentialRecord): Promise<boolean> {
  if (!(await store.compareAndSet(credentialKey(id), null, JSON.stringify(record)))) return false;
  for (let i = 0; i < CAS_TRIES; i += 1) {
    const before = await store.get(userKey(record.u));
    const ids = before === null ? [] : (JSON.parse(before) as string[]);
    const next = [...ids.filter((x) => x !== id), id];
    const dropped = next.length > MAX_CREDENTIALS_PER_USER ? next.splice(0, next.length - MAX_CREDENTIALS_PER_USER) : [];
    if (await store.compareAndSet(userKey(record.u), before, JSON.stringify(next))) {
      for (const old of dropped) await store.del(credentialKey(old));
      return true;
    }
  }
  throw new Error(`passkeys: the credential list of ${record.u} changed under ${CAS_TRIES} tries`);
}

/** Removes a credential of `user`; false when it is not theirs (or gone). */
export async function removeCredential(store: Store, user: string, id: string): Promise<boolean> {
  const found = await readCredential(store, id);
  if (found?.record.u !== user) return false;
  for (let i = 0; i < CAS_TRIES; i += 1) {
    const before = await store.get(userKey(user));
    const ids = before === null ? [] : (JSON.parse(before) as string[]);
    if (await store.compareAndSet(userKey(user), before, JSON.stringify(ids.filter((x) => x !== id)))) {
      await store.del(credentialKey(id));
      return true;
    }
  }
  throw new Error(`passkeys: the credential list of ${user} changed under ${CAS_TRIES} tries`);
}

/** Names a credential of `user`; false when it is not theirs (or gone, or changed meanwhile). */
export async function renameCredential(store: Store, user: string, id: string, name: string): Promise<boolean> {
  const found = await readCredential(store, id);
  if (found?.record.u !== user) return false;
  return store.compareAndSet(credentialKey(id), found.text, JSON.stringify({ ...found.record, n: name }));
}

/** Moves the counter on, atomically against the record read: false when another use came first. */
export function updateCounter(store: Store, id: string, read: string, record: CredentialRecord, counter: number): Promise<boolean> {
  return store.compareAndSet(credentialKey(id), read, JSON.stringify({ ...record, c: counter }));
}
